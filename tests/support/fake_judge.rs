//! Judge models that wrap their verdict, for the judge in the window (branch judge). Each answers
//! what `test-judge` would (fake_openai.rs `judge_answer`), put inside something else:
//! - test-judge-prose: a sentence before and after the JSON verdict.
//! - test-judge-fenced: the verdict inside a ```json fence, with a line of prose before it.
//! - test-judge-two: two different verdict objects in one answer (not understood: ambiguous).
//! - test-judge-renamed: the plain verdict, but the server claims another model answered
//!   ([`RENAMED_JUDGE`]).

/// The model `test-judge-renamed` claims answered.
pub const RENAMED_JUDGE: &str = "judge-2026-snapshot";

/// Whether `model` is one of these judges.
pub fn is_wrapping_judge(model: &str) -> bool {
    matches!(
        model,
        "test-judge-prose" | "test-judge-fenced" | "test-judge-two" | "test-judge-renamed"
    )
}

/// The model name the server puts in its chunks for `model`, when it is not `model`.
pub fn claimed(model: &str) -> Option<&'static str> {
    (model == "test-judge-renamed").then_some(RENAMED_JUDGE)
}

/// What the wrapping judge `model` answers; `plain` is test-judge's own answer to the prompt.
pub fn wrap(model: &str, plain: &str) -> String {
    match model {
        "test-judge-prose" => {
            format!("Here is my verdict: {plain} I hope this helps; the reply was read carefully.")
        }
        "test-judge-fenced" => format!("Sure, the verdict follows.\n```json\n{plain}\n```"),
        "test-judge-two" => {
            let other = if plain.contains("\"winner\"") {
                r#"{"winner": "tie", "reasoning": "second thoughts"}"#
            } else {
                r#"{"score": 1, "reasoning": "second thoughts"}"#
            };
            format!("First: {plain}\nOr perhaps: {other}")
        }
        _ => plain.to_string(),
    }
}
