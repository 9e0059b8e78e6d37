//! A branch from another token (legacy completions): the user picks one of the alternatives the
//! server listed for a token of a reply; the text up to that token plus the alternative becomes
//! the end of the prompt, and the model continues it as a new reply beside the old one.

use serde::Deserialize;

use crate::db::conversations::{self, EndpointKind};
use crate::db::messages::{self, Message, Role};
use crate::error::{Error, Result};
use crate::openai::logprobs::TokenLogprob;

use super::*;

/// Longest alternative token accepted (tokens are short; this only bounds bad input).
pub const MAX_ALTERNATIVE_CHARS: usize = 256;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBranchRequest {
    pub conversation_id: i64,
    /// The reply whose token is replaced.
    pub reply_id: i64,
    /// Which of its tokens (from 0, in its stored token probabilities).
    pub token_index: usize,
    /// One of that token's alternatives, as listed.
    pub alternative: String,
    #[serde(default)]
    pub stream_id: Option<String>,
}

/// What a branch's reply starts with: the text and the probabilities of its first tokens.
#[derive(Debug, Clone, Default)]
pub(super) struct Prefill {
    pub text: String,
    pub logprobs: Vec<TokenLogprob>,
}

/// The start of the branch: the reply's tokens before `index`, then the alternative (with the
/// probability the server gave it and the same list of alternatives).
pub(super) fn prefill(reply: &Message, index: usize, alternative: &str) -> Result<Prefill> {
    let Some(at) = reply.logprobs.get(index) else {
        return Err(Error::invalid(format!(
            "The reply has no token {index} with probabilities."
        )));
    };
    let Some(alt) = at.top.iter().find(|a| a.token == alternative) else {
        return Err(Error::invalid(
            "That token is not among the alternatives the server listed.",
        ));
    };
    let mut logprobs = reply.logprobs[..index].to_vec();
    logprobs.push(TokenLogprob {
        token: alt.token.clone(),
        logprob: alt.logprob,
        top: at.top.clone(),
    });
    Ok(Prefill {
        text: logprobs.iter().map(|t| t.token.as_str()).collect(),
        logprobs,
    })
}

impl ChatService {
    /// Continues a legacy completion from an alternative token, as a new branch (a sibling of
    /// the reply). Returns the new reply in its final state.
    pub async fn continue_from_token(
        &self,
        req: TokenBranchRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        if req.alternative.is_empty()
            || req.alternative.chars().count() > MAX_ALTERNATIVE_CHARS
            || req.alternative.contains('\0')
        {
            return Err(Error::invalid("That is not an alternative token."));
        }
        let (user, start) = self.db.with(|c| {
            let reply = messages::get(c, req.reply_id)?;
            let conv = conversations::get(c, req.conversation_id)?;
            if reply.conversation_id != conv.id || reply.role != Role::Assistant {
                return Err(Error::invalid(
                    "Only a reply of this conversation can be continued from a token.",
                ));
            }
            if conv.settings.endpoint != EndpointKind::Completions
                || reply.endpoint.as_deref() != Some(EndpointKind::Completions.as_str())
            {
                return Err(Error::invalid(
                    "Continuing from another token works on the legacy completions endpoint only.",
                ));
            }
            let start = prefill(&reply, req.token_index, &req.alternative)?;
            let parent = reply
                .parent_id
                .ok_or_else(|| Error::invalid("The reply has no message it answers."))?;
            Ok((messages::get(c, parent)?, start))
        })?;
        let runs = self.register_runs(req.stream_id, Vec::new())?;
        let replies = self.reply_to(user, runs, None, Some(&start), &emit).await?;
        replies
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("No reply was made."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::logprobs::Alternative;

    #[test]
    fn the_branch_starts_with_the_tokens_before_and_the_alternative() {
        let tok = |t: &str, top: &[(&str, f64)]| TokenLogprob {
            token: t.into(),
            logprob: -0.1,
            top: top
                .iter()
                .map(|(t, l)| Alternative {
                    token: (*t).into(),
                    logprob: *l,
                })
                .collect(),
        };
        let mut reply = Message::new(Role::Assistant, " The cat sat");
        reply.logprobs = vec![
            tok(" The", &[]),
            tok(" cat", &[(" cat", -0.1), (" dog", -2.0)]),
            tok(" sat", &[]),
        ];
        let p = prefill(&reply, 1, " dog").unwrap();
        assert_eq!(p.text, " The dog");
        assert_eq!(p.logprobs.len(), 2);
        assert_eq!(p.logprobs[1].logprob, -2.0);
        assert_eq!(p.logprobs[1].top.len(), 2);
        assert_eq!(prefill(&reply, 1, " cow").unwrap_err().kind(), "invalid");
        assert_eq!(prefill(&reply, 9, " dog").unwrap_err().kind(), "invalid");
    }
}
