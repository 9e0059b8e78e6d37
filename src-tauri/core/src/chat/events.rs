//! The streaming events of one reply: one tagged enum, shared by the webview (through a Tauri
//! Channel) and the CLI. JSON: `{"type": "delta", "text": "..."}` and so on, fields in camelCase.
//!
//! Order, per reply: `started`, then any of `retrying` (before the first delta only), `reasoning` and `delta`,
//! then `usage` if known, then exactly one of `finished` (status done or cancelled) or `failed`.
//! Several replies (n choices, models side by side) interleave on one channel; their events name
//! the reply (`replyId`, the message id of `started`'s `assistantMessageId`).

use serde::Serialize;

use crate::db::messages::Message;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ChatEvent {
    Started {
        stream_id: String,
        user_message: Message,
        assistant_message_id: i64,
        model: String,
        /// Replies made together (n choices, models side by side) share a group.
        group_id: Option<String>,
        choice_index: Option<i64>,
        /// The profile answering (its name), for labelling side-by-side columns.
        profile: Option<String>,
    },
    /// Before the first delta only; for the request streaming under `stream_id`.
    Retrying {
        stream_id: String,
        /// 1-based: this is retry `attempt` of at most `max_attempts`.
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        reason: String,
    },
    /// New text of one reply.
    Delta { reply_id: i64, text: String },
    /// New reasoning text of one reply (shown apart from the answer, above it).
    Reasoning { reply_id: i64, text: String },
    Usage {
        reply_id: i64,
        prompt_tokens: i64,
        completion_tokens: i64,
        /// Counted here with a tokenizer: the server reported no usage for this reply.
        counted: bool,
    },
    Finished {
        /// The saved reply with its speed (what the window shows).
        message: super::thread::MessageView,
    },
    Failed {
        error: Error,
        message: Option<Message>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_tagged_camel_case_json() {
        let v = serde_json::to_value(ChatEvent::Delta {
            reply_id: 7,
            text: "hi".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "delta", "replyId": 7, "text": "hi"})
        );
        let v = serde_json::to_value(ChatEvent::Retrying {
            stream_id: "s".into(),
            attempt: 1,
            max_attempts: 2,
            delay_ms: 500,
            reason: "x".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "retrying", "streamId": "s", "attempt": 1, "maxAttempts": 2, "delayMs": 500, "reason": "x"})
        );
        let v = serde_json::to_value(ChatEvent::Failed {
            error: Error::Cancelled,
            message: None,
        })
        .unwrap();
        assert_eq!(v["error"]["kind"], "cancelled");
    }
}
