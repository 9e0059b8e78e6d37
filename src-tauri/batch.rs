//! A reply's text reaches the page at most once per frame: each message on a Tauri channel is one
//! script evaluation in the web process, so a model sending 500 tokens a second made 500 of them
//! (each compiled, run and kept a while by JavaScriptCore). Text and reasoning deltas that arrive
//! within one frame are joined into one event per reply; any other event first sends what waits,
//! so the order the page sees is the order of the stream. The first delta goes at once.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parley_core::chat::ChatEvent;
use tauri::ipc::Channel;

/// One page update per frame at 60 Hz.
pub const FRAME: Duration = Duration::from_millis(16);

struct Queue {
    /// Joined deltas not sent yet, oldest first.
    waiting: Vec<ChatEvent>,
    /// When the channel last carried text.
    last_sent: Option<Instant>,
    /// A timer is set to send `waiting`.
    timer_set: bool,
}

struct Batcher {
    channel: Channel<ChatEvent>,
    queue: Mutex<Queue>,
}

impl Batcher {
    /// Sends what waits (with the lock held: the order stays the stream's).
    fn send_waiting(&self, q: &mut Queue) {
        for event in q.waiting.drain(..) {
            let _ = self.channel.send(event);
        }
        q.last_sent = Some(Instant::now());
    }
}

/// The event sink for a stream whose events go to the page through `channel`.
pub fn batched(channel: Channel<ChatEvent>) -> impl Fn(ChatEvent) + Send + Sync + 'static {
    let batcher = Arc::new(Batcher {
        channel,
        queue: Mutex::new(Queue {
            waiting: Vec::new(),
            last_sent: None,
            timer_set: false,
        }),
    });
    move |event| {
        let mut q = batcher.queue.lock().unwrap();
        match event {
            ChatEvent::Delta { .. } | ChatEvent::Reasoning { .. } => {
                join(&mut q.waiting, event);
                let due = q.last_sent.map(|t| t + FRAME);
                match due {
                    Some(due) if due > Instant::now() => {
                        if !q.timer_set {
                            q.timer_set = true;
                            let batcher = batcher.clone();
                            tauri::async_runtime::spawn(async move {
                                tokio::time::sleep_until(due.into()).await;
                                let mut q = batcher.queue.lock().unwrap();
                                q.timer_set = false;
                                if !q.waiting.is_empty() {
                                    batcher.send_waiting(&mut q);
                                }
                            });
                        }
                    }
                    _ => batcher.send_waiting(&mut q),
                }
            }
            other => {
                if !q.waiting.is_empty() {
                    batcher.send_waiting(&mut q);
                }
                let _ = batcher.channel.send(other);
            }
        }
    }
}

/// Appends `event` to the waiting list, joined with the last one when it is more of the same
/// reply's text (or reasoning).
fn join(waiting: &mut Vec<ChatEvent>, event: ChatEvent) {
    match (waiting.last_mut(), event) {
        (
            Some(ChatEvent::Delta { reply_id, text }),
            ChatEvent::Delta {
                reply_id: id,
                text: more,
            },
        ) if *reply_id == id => text.push_str(&more),
        (
            Some(ChatEvent::Reasoning { reply_id, text }),
            ChatEvent::Reasoning {
                reply_id: id,
                text: more,
            },
        ) if *reply_id == id => text.push_str(&more),
        (_, event) => waiting.push(event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::ipc::InvokeResponseBody;

    fn recording() -> (Channel<ChatEvent>, Arc<Mutex<Vec<serde_json::Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let channel = Channel::new(move |body| {
            if let InvokeResponseBody::Json(json) = body {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&json).unwrap());
            }
            Ok(())
        });
        (channel, seen)
    }

    fn delta(text: &str) -> ChatEvent {
        ChatEvent::Delta {
            reply_id: 1,
            text: text.into(),
        }
    }

    #[tokio::test]
    async fn deltas_within_a_frame_reach_the_page_as_one_message_in_order() {
        let (channel, seen) = recording();
        let emit = batched(channel);
        for t in ["a", "b", "c", "d"] {
            emit(delta(t));
        }
        emit(ChatEvent::Reasoning {
            reply_id: 1,
            text: "r".into(),
        });
        emit(delta("e"));
        emit(ChatEvent::Usage {
            reply_id: 1,
            prompt_tokens: 1,
            completion_tokens: 5,
            counted: false,
        });
        let seen = seen.lock().unwrap().clone();
        let kinds: Vec<(&str, &str)> = seen
            .iter()
            .map(|e| {
                (
                    e["type"].as_str().unwrap(),
                    e["text"].as_str().unwrap_or(""),
                )
            })
            .collect();
        // The first delta at once; the rest of the frame joined; usage only after all the text.
        assert_eq!(
            kinds,
            [
                ("delta", "a"),
                ("delta", "bcd"),
                ("reasoning", "r"),
                ("delta", "e"),
                ("usage", "")
            ]
        );
    }

    #[tokio::test]
    async fn text_that_waits_is_sent_when_the_frame_ends_even_if_nothing_follows() {
        let (channel, seen) = recording();
        let emit = batched(channel);
        emit(delta("a"));
        emit(delta("b"));
        emit(delta("c"));
        assert_eq!(seen.lock().unwrap().len(), 1);
        tokio::time::sleep(FRAME * 4).await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1]["text"], "bc");
    }
}
