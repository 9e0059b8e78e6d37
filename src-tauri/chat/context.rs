//! Fitting a conversation into the model's context window: the oldest turns are left out first;
//! the system prompt and the newest message always stay. The reply records how many were left out.

use super::tokens;
use crate::openai::types::ChatMessage;

/// Output room kept free when the conversation sets no max tokens.
pub const DEFAULT_REPLY_RESERVE: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub messages: Vec<ChatMessage>,
    /// Messages left out (oldest first), not counting the system prompt.
    pub omitted: usize,
    /// Prompt tokens of what is sent, as counted here.
    pub prompt_tokens: usize,
}

/// Keeps the system prompt (if first) and as many of the newest messages as fit in
/// `window - reserve` tokens. The newest message is kept even if it alone is too long (the
/// server then says so clearly). A window of `None` (unknown) keeps everything.
pub fn fit(
    model: &str,
    messages: Vec<ChatMessage>,
    window: Option<usize>,
    reserve: usize,
) -> Fitted {
    let counts: Vec<usize> = messages
        .iter()
        .map(|m| tokens::count_message(model, m))
        .collect();
    let total: usize = counts.iter().sum::<usize>() + 3;
    let Some(window) = window else {
        return Fitted {
            messages,
            omitted: 0,
            prompt_tokens: total,
        };
    };
    let budget = window.saturating_sub(reserve);
    if total <= budget {
        return Fitted {
            messages,
            omitted: 0,
            prompt_tokens: total,
        };
    }
    let has_system = messages.first().is_some_and(|m| m.role == "system");
    let first = usize::from(has_system);
    let last = messages.len().saturating_sub(1);
    let mut used = total;
    let mut drop_until = first;
    // Drop from the oldest turn forward, never the newest message.
    while used > budget && drop_until < last {
        used -= counts[drop_until];
        drop_until += 1;
    }
    // A reply whose question was dropped reads oddly first: start at a user message.
    while drop_until < last && messages[drop_until].role != "user" {
        used -= counts[drop_until];
        drop_until += 1;
    }
    let omitted = drop_until - first;
    let kept = messages
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i < first || *i >= drop_until)
        .map(|(_, m)| m)
        .collect();
    Fitted {
        messages: kept,
        omitted,
        prompt_tokens: used,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, words: usize) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: "word ".repeat(words),
        }
    }

    #[test]
    fn oldest_turns_go_first_and_the_system_prompt_stays() {
        let msgs = vec![
            m("system", 10),
            m("user", 100),
            m("assistant", 100),
            m("user", 100),
            m("assistant", 100),
            m("user", 20),
        ];
        let all = fit("gpt-4o", msgs.clone(), None, 0);
        assert_eq!((all.omitted, all.messages.len()), (0, 6));
        let roomy = fit("gpt-4o", msgs.clone(), Some(100_000), 1024);
        assert_eq!(roomy.omitted, 0);
        // About 460 tokens in all (each long message ~105), room for 350: the first
        // user/assistant pair must go.
        let tight = fit("gpt-4o", msgs.clone(), Some(400), 50);
        assert_eq!(tight.messages[0].role, "system");
        assert_eq!(tight.omitted, 2);
        assert_eq!(tight.messages.len(), 4);
        assert_eq!(tight.messages[1].role, "user");
        assert!(tight.prompt_tokens <= 350, "{}", tight.prompt_tokens);
        // Room for 250: dropping to the second question is not enough, and a reply never
        // starts the history, so everything but the last question goes.
        let tighter = fit("gpt-4o", msgs.clone(), Some(300), 50);
        assert_eq!(tighter.omitted, 4);
        // Nothing fits: the newest message is still sent, with the system prompt.
        let none = fit("gpt-4o", msgs, Some(40), 30);
        assert_eq!(none.messages.len(), 2);
        assert_eq!(none.omitted, 4);
        assert_eq!(none.messages[1].content, "word ".repeat(20));
    }
}
