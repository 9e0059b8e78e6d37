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

/// Tokens in a piece of text.
pub fn count_text(model: &str, text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    bpe_for(model).encode_ordinary(text).len()
}

/// Tokens of one chat message in a request.
pub(crate) fn count_message(model: &str, m: &ChatMessage) -> usize {
    PER_MESSAGE + count_text(model, &m.role) + count_text(model, &m.content)
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
        }];
        // 3 per message + "user" (1) + text (2) + 3 priming.
        assert_eq!(count_messages("gpt-4o", &msgs), 9);
    }
}
