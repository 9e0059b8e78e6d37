//! The streaming events of one reply: one tagged enum, shared by the webview (through a Tauri
//! Channel) and the CLI. JSON: `{"type": "delta", "text": "..."}` and so on, fields in camelCase.
//!
//! Order: `started`, then any of `retrying` (before the first delta only) and `delta`, then `usage`
//! if the server reported it, then exactly one of `finished` (status done or cancelled) or `failed`.

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
    },
    Retrying {
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    Delta {
        text: String,
    },
    Usage {
        prompt_tokens: i64,
        completion_tokens: i64,
    },
    Finished {
        message: Message,
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
        let v = serde_json::to_value(ChatEvent::Delta { text: "hi".into() }).unwrap();
        assert_eq!(v, serde_json::json!({"type": "delta", "text": "hi"}));
        let v = serde_json::to_value(ChatEvent::Retrying {
            attempt: 1,
            delay_ms: 500,
            reason: "x".into(),
        })
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "retrying", "attempt": 1, "delayMs": 500, "reason": "x"})
        );
        let v = serde_json::to_value(ChatEvent::Failed {
            error: Error::Cancelled,
            message: None,
        })
        .unwrap();
        assert_eq!(v["error"]["kind"], "cancelled");
    }
}
