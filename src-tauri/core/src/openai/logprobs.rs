//! Token probabilities: the chat form (`choices[].logprobs.content[]` with `top_logprobs`) and the
//! legacy completions form (`tokens`, `token_logprobs`, `top_logprobs` as maps), read into one
//! shape, with the reply's mean log-probability and perplexity. Asking for them is the `logprobs`
//! entry of the parameter table (`params.rs`).

use serde::{Deserialize, Serialize};

pub use crate::params::MAX_TOP_LEGACY;
/// A reply keeps the probabilities of at most this many tokens (the rest are not stored).
pub const MAX_TOKENS_KEPT: usize = 32_768;

/// One generated token, its log-probability and the alternatives the server listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    pub logprob: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub top: Vec<Alternative>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub token: String,
    pub logprob: f64,
}

/// `choices[].logprobs` as either endpoint sends it. Unknown shapes read as empty.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChoiceLogprobs {
    /// Chat: one entry per token.
    #[serde(default)]
    pub content: Option<Vec<ChatTokenLogprob>>,
    /// Legacy completions: parallel arrays.
    #[serde(default)]
    pub tokens: Option<Vec<String>>,
    #[serde(default)]
    pub token_logprobs: Option<Vec<Option<f64>>>,
    #[serde(default)]
    pub top_logprobs: Option<Vec<Option<std::collections::BTreeMap<String, f64>>>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatTokenLogprob {
    pub token: String,
    pub logprob: f64,
    #[serde(default)]
    pub top_logprobs: Vec<Alternative>,
}

impl ChoiceLogprobs {
    /// The tokens of this piece, in order.
    pub fn into_tokens(self) -> Vec<TokenLogprob> {
        if let Some(content) = self.content {
            return content
                .into_iter()
                .map(|t| TokenLogprob {
                    token: t.token,
                    logprob: t.logprob,
                    top: t.top_logprobs,
                })
                .collect();
        }
        let tokens = self.tokens.unwrap_or_default();
        let lps = self.token_logprobs.unwrap_or_default();
        let mut tops = self.top_logprobs.unwrap_or_default().into_iter();
        tokens
            .into_iter()
            .zip(lps)
            .filter_map(|(token, lp)| {
                let top = tops.next().flatten().unwrap_or_default();
                let mut top: Vec<Alternative> = top
                    .into_iter()
                    .map(|(token, logprob)| Alternative { token, logprob })
                    .collect();
                top.sort_by(|a, b| b.logprob.total_cmp(&a.logprob));
                // The first token of a legacy prompt has no log-probability (null): skipped.
                lp.map(|logprob| TokenLogprob {
                    token,
                    logprob,
                    top,
                })
            })
            .collect()
    }
}

/// Mean log-probability and perplexity (exp of minus the mean) of a reply's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogprobStats {
    pub mean_logprob: f64,
    pub perplexity: f64,
    pub tokens: usize,
}

pub fn stats(tokens: &[TokenLogprob]) -> Option<LogprobStats> {
    let finite: Vec<f64> = tokens
        .iter()
        .map(|t| t.logprob)
        .filter(|l| l.is_finite())
        .collect();
    if finite.is_empty() {
        return None;
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    Some(LogprobStats {
        mean_logprob: mean,
        perplexity: (-mean).exp(),
        tokens: finite.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_chat_and_the_legacy_forms_into_one_shape() {
        let chat: ChoiceLogprobs = serde_json::from_str(
            r#"{"content":[{"token":"Hi","logprob":-0.1,"bytes":[72,105],
                "top_logprobs":[{"token":"Hi","logprob":-0.1,"bytes":null},{"token":"Hello","logprob":-2.5}]}],
                "refusal":null}"#,
        )
        .unwrap();
        let t = chat.into_tokens();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].top[1].token, "Hello");
        let legacy: ChoiceLogprobs = serde_json::from_str(
            r#"{"tokens":[" a"," b"],"token_logprobs":[-0.5,-1.5],
                "top_logprobs":[{" a":-0.5," c":-1.0},null],"text_offset":[0,2]}"#,
        )
        .unwrap();
        let t = legacy.into_tokens();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].top[0].token, " a");
        assert_eq!(t[0].top[1].token, " c");
        assert!(t[1].top.is_empty());
        let s = stats(&t).unwrap();
        assert!((s.mean_logprob + 1.0).abs() < 1e-12);
        assert!((s.perplexity - 1f64.exp()).abs() < 1e-12);
        assert!(stats(&[]).is_none());
    }
}
