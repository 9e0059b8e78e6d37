//! Fitting a conversation into the model's context window: the oldest turns are left out first;
//! the system prompt and the newest message always stay. The reply records how many were left out.

use super::tokens;
use crate::openai::types::ChatMessage;

/// Output room kept free when the conversation sets no max tokens.
pub(crate) const DEFAULT_REPLY_RESERVE: usize = 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub messages: Vec<ChatMessage>,
    /// Messages left out (oldest first), not counting the system prompt.
    pub omitted: usize,
}

/// Keeps the system prompt (if first) and as many of the newest messages as fit in
/// `window - reserve` tokens. The newest message is kept even if it alone is too long (the
/// server then says so clearly). A window of `None` (unknown) keeps everything.
///
/// Counting walks back from the newest message and stops at the first that does not fit, so a
/// 100,000-message conversation costs no more than what fits in the window.
pub fn fit(
    model: &str,
    mut messages: Vec<ChatMessage>,
    window: Option<usize>,
    reserve: usize,
) -> Fitted {
    let Some(window) = window else {
        return Fitted {
            messages,
            omitted: 0,
        };
    };
    let budget = window.saturating_sub(reserve);
    let has_system = messages.first().is_some_and(|m| m.role == "system");
    let first = usize::from(has_system);
    if messages.len() <= first + 1 {
        return Fitted {
            messages,
            omitted: 0,
        };
    }
    let mut used = REPLY_PRIMING
        + messages[..first]
            .iter()
            .map(|m| tokens::count_message(model, m))
            .sum::<usize>();
    // The newest message always goes.
    let last = messages.len() - 1;
    used += tokens::count_message(model, &messages[last]);
    let mut keep_from = last;
    while keep_from > first {
        let cost = tokens::count_message(model, &messages[keep_from - 1]);
        if used + cost > budget {
            break;
        }
        used += cost;
        keep_from -= 1;
    }
    // A reply whose question was left out reads oddly first: start at a user message.
    while keep_from < last && messages[keep_from].role != "user" {
        keep_from += 1;
    }
    // A tool result never goes without the call it answers (the API refuses it): back to the
    // assistant message that made the calls, over the budget if need be.
    while keep_from > first && messages[keep_from].role == "tool" {
        keep_from -= 1;
    }
    let omitted = keep_from - first;
    messages.drain(first..keep_from);
    Fitted { messages, omitted }
}

/// Priming of the reply, as in tokens::count_messages.
const REPLY_PRIMING: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_result_keeps_the_call_it_answers() {
        let call = crate::openai::types::ToolCall {
            id: "call_1".into(),
            kind: "function".into(),
            function: crate::openai::tool_calls::FunctionCall {
                name: "f".into(),
                arguments: "{}".into(),
            },
        };
        let asst = ChatMessage {
            tool_calls: vec![call],
            ..m("assistant", 5)
        };
        let tool = ChatMessage {
            tool_call_id: Some("call_1".into()),
            ..m("tool", 5)
        };
        let msgs = vec![m("system", 5), m("user", 5_000), asst, tool];
        let f = fit("gpt-4o", msgs, Some(600), 100);
        let roles: Vec<&str> = f.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "assistant", "tool"]);
        assert_eq!(f.omitted, 1);
    }

    fn m(role: &str, words: usize) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: "word ".repeat(words),
            ..Default::default()
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
        let sent = tokens::count_messages("gpt-4o", &tight.messages);
        assert!(sent <= 350, "{sent}");
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
