//! Each assertion's semantics, as promptfoo scores them.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn run(kind: &str, value: Option<Value>, threshold: Option<f64>, text: &str) -> Outcome {
    run_with(
        kind,
        value,
        threshold,
        &Output {
            text,
            ..Default::default()
        },
    )
}

fn run_with(kind: &str, value: Option<Value>, threshold: Option<f64>, out: &Output) -> Outcome {
    let a = Assertion::new(kind, value, threshold).unwrap();
    let vars = BTreeMap::from([("city".to_string(), "Paris".to_string())]);
    match a.run(out, &vars).unwrap() {
        Step::Done(o) => o,
        Step::Judge(r) => panic!("unexpected judge step {r}"),
    }
}

fn passes(kind: &str, value: Value, text: &str) -> bool {
    run(kind, Some(value), None, text).pass
}

#[test]
fn equals_is_exact_text_or_json_for_objects() {
    assert!(passes("equals", json!("4"), "4"));
    assert!(!passes("equals", json!("4"), "4 "));
    assert!(passes("equals", json!({"a": 1}), r#"{ "a" : 1 }"#));
    assert!(!passes("equals", json!({"a": 1}), r#"{"a": 2}"#));
    assert!(passes("equals", json!("{{city}}"), "Paris"));
}

#[test]
fn contains_family_checks_case_and_lists() {
    assert!(passes("contains", json!("Par"), "Paris"));
    assert!(!passes("contains", json!("par"), "Paris"));
    assert!(passes("icontains", json!("PAR"), "Paris"));
    assert!(passes("contains-any", json!(["x", "ri"]), "Paris"));
    assert!(passes("contains-any", json!("x, ri"), "Paris"));
    assert!(!passes("contains-all", json!(["Pa", "x"]), "Paris"));
    assert!(passes("contains-all", json!(["Pa", "is"]), "Paris"));
    assert!(passes("icontains-all", json!(["pa", "IS"]), "Paris"));
    assert!(passes("icontains-any", json!(["zz", "IS"]), "Paris"));
    assert!(passes("starts-with", json!("Pa"), "Paris"));
    assert!(!passes("starts-with", json!("is"), "Paris"));
}

#[test]
fn not_inverts_the_pass_and_takes_one_minus_the_score() {
    let o = run("not-contains", Some(json!("London")), None, "Paris");
    assert!(o.pass);
    assert_eq!(o.score, 1.0);
    assert_eq!(o.kind, "not-contains");
    let o = run("not-similar", Some(json!("a b c d")), Some(0.5), "a b c d");
    assert!(!o.pass);
    assert_eq!(o.score, 0.0);
}

#[test]
fn regex_uses_rust_syntax_and_a_bad_pattern_is_an_error_at_load() {
    assert!(passes("regex", json!(r"^\d{3}$"), "123"));
    assert!(!passes("regex", json!(r"^\d{3}$"), "1234"));
    let e = Assertion::new("regex", Some(json!("(")), None).unwrap_err();
    assert!(e.to_string().contains("not a valid regex"));
}

#[test]
fn is_json_checks_syntax_and_an_optional_schema() {
    assert!(run("is-json", None, None, r#"{"a": 1}"#).pass);
    assert!(!run("is-json", None, None, "{a: 1}").pass);
    let schema = json!({"type": "object", "required": ["name"]});
    assert!(run("is-json", Some(schema.clone()), None, r#"{"name": "x"}"#).pass);
    let o = run("is-json", Some(schema), None, r#"{"nom": "x"}"#);
    assert!(!o.pass && o.reason.contains("schema"));
}

#[test]
fn levenshtein_counts_characters_against_the_threshold_default_five() {
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("", "abc"), 3);
    assert_eq!(levenshtein("日本語", "日本"), 1);
    assert!(passes("levenshtein", json!("sitting"), "kitten"));
    assert!(!run("levenshtein", Some(json!("sitting")), Some(2.0), "kitten").pass);
}

#[test]
fn similar_is_token_f1_with_its_score() {
    let o = run("similar", Some(json!("the cat sat")), None, "The cat sat!");
    assert!(o.pass);
    assert_eq!(o.score, 1.0);
    let o = run("similar", Some(json!("the cat sat")), None, "a dog ran");
    assert!(!o.pass);
    assert_eq!(o.score, 0.0);
}

#[test]
fn latency_cost_and_perplexity_compare_with_their_threshold() {
    let out = Output {
        text: "x",
        latency_ms: Some(120.0),
        cost_usd: Some(0.002),
        logprobs: Some(&[-0.1, -0.3]),
    };
    assert!(run_with("latency", None, Some(200.0), &out).pass);
    assert!(!run_with("latency", None, Some(100.0), &out).pass);
    assert!(run_with("cost", None, Some(0.01), &out).pass);
    assert!(!run_with("cost", None, Some(0.001), &out).pass);
    // exp(0.2) ≈ 1.22
    assert!(run_with("perplexity", None, Some(1.3), &out).pass);
    assert!(!run_with("perplexity", None, Some(1.2), &out).pass);
    let bare = Output {
        text: "x",
        ..Default::default()
    };
    let o = run_with("perplexity", None, Some(10.0), &bare);
    assert!(!o.pass && o.reason.contains("logprobs"));
    // A measure not known (a batched cell's latency, a price not known) fails with `not-` too.
    for kind in [
        "latency",
        "not-latency",
        "cost",
        "not-cost",
        "not-perplexity",
    ] {
        let o = run_with(kind, None, Some(10.0), &bare);
        assert!(!o.pass && o.score == 0.0, "{kind}: {o:?}");
    }
    assert!(run_with("not-latency", None, Some(100.0), &out).pass);
    assert!(Assertion::new("latency", None, None).is_err());
}

#[test]
fn llm_rubric_goes_to_the_judge_and_its_grade_becomes_the_score() {
    let a = Assertion::new("llm-rubric", Some(json!("is polite to {{city}}")), None).unwrap();
    let vars = BTreeMap::from([("city".to_string(), "Paris".to_string())]);
    let step = a
        .run(
            &Output {
                text: "hi",
                ..Default::default()
            },
            &vars,
        )
        .unwrap();
    assert_eq!(step, Step::Judge("is polite to Paris".into()));
    let o = a.graded(Ok((7, "fine".into())));
    assert!(o.pass);
    assert!((o.score - 0.7).abs() < 1e-9);
    assert_eq!(o.judge_grade, Some(7));
    assert!(!a.graded(Ok((4, "rude".into()))).pass);
    assert!(!a.graded(Err("timeout".into())).pass);
    // Named by `metric:`, its grade still counts for fluency; negated, it grades the opposite.
    let mut named = a.clone();
    named.metric = Some("tone".into());
    let o = named.graded(Ok((8, "fine".into())));
    assert_eq!((o.kind.as_str(), o.judge_grade), ("tone", Some(8)));
    let not = Assertion::new("not-llm-rubric", Some(json!("is rude")), None).unwrap();
    assert_eq!(not.graded(Ok((2, "polite".into()))).judge_grade, None);
}

#[test]
fn unknown_types_are_named() {
    let e = Assertion::new("javascript", Some(json!("1")), None).unwrap_err();
    assert!(e.to_string().contains("`javascript` is not supported"));
}

#[test]
fn a_test_score_is_the_weighted_mean_and_threshold_overrides_single_failures() {
    let o = |pass: bool, score: f64, weight: f64| Outcome {
        kind: "x".into(),
        pass,
        score,
        weight,
        reason: String::new(),
        judge_grade: None,
    };
    let outs = [o(true, 1.0, 3.0), o(false, 0.0, 1.0)];
    assert_eq!(score_test(&outs, None), (false, 0.75));
    assert_eq!(score_test(&outs, Some(0.7)), (true, 0.75));
    assert_eq!(score_test(&outs, Some(0.8)), (false, 0.75));
    // Weight 0: checked, not scored.
    let outs = [o(true, 1.0, 1.0), o(false, 0.0, 0.0)];
    assert_eq!(score_test(&outs, None), (false, 1.0));
    assert_eq!(score_test(&[], None), (true, 1.0));
}
