//! Counting tokens here, with OpenAI's own tokenizers (tiktoken-rs), for when a server reports no
//! usage, and for fitting a history into a model's context window. For models that are not
//! OpenAI's the count is an estimate (their tokenizers differ); replies mark counted numbers.

use tiktoken_rs::tokenizer::{get_tokenizer, Tokenizer};
use tiktoken_rs::CoreBPE;

use crate::openai::types::ChatMessage;

/// Tokens every chat message costs beyond its text (role and separators), as in OpenAI's
/// cookbook for the gpt-4o family; and the priming of the reply.
const PER_MESSAGE: usize = 3;
const REPLY_PRIMING: usize = 3;

fn bpe_for(model: &str) -> &'static CoreBPE {
    match get_tokenizer(model) {
        Some(Tokenizer::Cl100kBase) => tiktoken_rs::cl100k_base_singleton(),
        // o200k for the current OpenAI models, and as the estimate for everyone else.
        _ => tiktoken_rs::o200k_base_singleton(),
    }
}

/// Builds the tokenizers in the background (seconds in a debug build), so the first reply that
/// needs a count — a stopped one while the app closes, say — does not wait for them.
pub fn warm_up() {
    std::thread::spawn(|| {
        let _ = tiktoken_rs::o200k_base_singleton();
        let _ = tiktoken_rs::cl100k_base_singleton();
    });
}

/// Texts longer than this are counted by their first `EXACT_LIMIT` bytes, scaled to their length:
/// the tokenizer's time and memory grow with the text (an 85 MB reply aborted the process on an
/// allocation failure; 133 MB took 6.6 GB and 316 s). Counted numbers are marked as such anyway.
pub const EXACT_LIMIT: usize = 256 * 1024;

/// Tokens in a piece of text: exact up to `EXACT_LIMIT` bytes, an estimate above.
pub fn count_text(model: &str, text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    if text.len() <= EXACT_LIMIT {
        return bpe_for(model).encode_ordinary(text).len();
    }
    let mut cut = EXACT_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let sample = bpe_for(model).encode_ordinary(&text[..cut]).len();
    (sample as u128 * text.len() as u128 / cut as u128) as usize
}

/// What an image costs in the prompt, as OpenAI counts it: 85 tokens at low detail; at high (or
/// auto) detail, 85 plus 170 per 512-px tile of the image scaled into 2048 and then 768 on its short
/// side — 765 for a square picture, the estimate used here since the size is not in the part.
const IMAGE_TOKENS_LOW: usize = 85;
const IMAGE_TOKENS_HIGH: usize = 765;

/// Tokens of one chat message in a request (its images estimated).
pub(crate) fn count_message(model: &str, m: &ChatMessage) -> usize {
    let images: usize = m
        .images
        .iter()
        .map(|i| match i.detail.as_str() {
            "low" => IMAGE_TOKENS_LOW,
            _ => IMAGE_TOKENS_HIGH,
        })
        .sum();
    // Tool calls are part of the prompt too (their arguments may be long), and a result names
    // its call.
    let calls: usize = (m.tool_calls.iter())
        .map(|c| count_text(model, &c.function.name) + count_text(model, &c.function.arguments) + 3)
        .sum();
    let answering = m
        .tool_call_id
        .as_deref()
        .map_or(0, |id| count_text(model, id));
    PER_MESSAGE
        + count_text(model, &m.role)
        + count_text(model, &m.content)
        + images
        + calls
        + answering
}

/// Prompt tokens of a whole chat request.
pub(crate) fn count_messages(model: &str, messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|m| count_message(model, m))
        .sum::<usize>()
        + REPLY_PRIMING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_calls_arguments_count_in_the_prompt() {
        let call = crate::openai::types::ToolCall {
            id: "call_1".into(),
            kind: "function".into(),
            function: crate::openai::tool_calls::FunctionCall {
                name: "lookup".into(),
                arguments: format!("{{\"text\": \"{}\"}}", "word ".repeat(2_000)),
            },
        };
        let m = ChatMessage {
            role: "assistant".into(),
            tool_calls: vec![call],
            ..Default::default()
        };
        assert!(count_message("gpt-4o", &m) > 2_000);
    }

    #[test]
    fn counts_like_openais_tokenizers() {
        // Reference values from OpenAI's tiktoken: "hello world" is 2 tokens in both encodings,
        // and cl100k splits "tiktoken is great!" into 6.
        assert_eq!(count_text("gpt-4o", "hello world"), 2);
        assert_eq!(count_text("gpt-3.5-turbo", "hello world"), 2);
        assert_eq!(count_text("gpt-3.5-turbo", "tiktoken is great!"), 6);
        assert_eq!(count_text("gpt-4o", ""), 0);
        // Unknown models get an estimate rather than nothing.
        assert!(count_text("llama-3.1-8b", "你好，世界") > 0);
        let msgs = [ChatMessage {
            role: "user".into(),
            content: "hello world".into(),
            ..Default::default()
        }];
        // 3 per message + "user" (1) + text (2) + 3 priming.
        assert_eq!(count_messages("gpt-4o", &msgs), 9);
    }

    #[test]
    fn a_text_past_the_limit_is_estimated_from_its_start() {
        // A start of short words, then 4 MB of one repeated character: counting it all would
        // tokenize megabytes; the estimate scales the start's count to the whole length.
        let start = "ab ".repeat(EXACT_LIMIT / 3 + 1);
        let text = format!("{start}{}", "中".repeat((4 << 20) / 3));
        let per_byte = count_text("gpt-4o", &start[..EXACT_LIMIT - EXACT_LIMIT % 3]) as f64
            / (EXACT_LIMIT - EXACT_LIMIT % 3) as f64;
        let estimate = count_text("gpt-4o", &text);
        let expected = per_byte * text.len() as f64;
        assert!(
            (estimate as f64 - expected).abs() / expected < 0.01,
            "{estimate} vs {expected}"
        );
    }
}
