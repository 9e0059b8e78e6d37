//! The chat service: persist → stream → persist. No tauri here; the GUI commands and the CLI are
//! two thin faces over this.

pub mod events;
pub mod profile;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::db::messages::{self, Message, Outcome, Role, Status};
use crate::db::{conversations, Db};
use crate::error::{Error, Result};
use crate::openai::types::{ChatMessage, ChatRequest};
use crate::openai::{Client, Finished, StreamEvent};
use crate::secrets::SecretStore;
pub use events::ChatEvent;
pub use profile::{EnvFallback, KeySource, ProfileView};
pub use settings::{ProfileUpdate, ProfilesOverview};

/// Largest message accepted (a huge paste gets a clear error, not a frozen app).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// How often the partial text of a streaming reply is saved (crash safety without a write per token).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(750);
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub conversation_id: i64,
    pub content: String,
    #[serde(default)]
    pub stream_id: Option<String>,
    /// For this one request only (`parley ask --base-url`); not saved.
    #[serde(skip)]
    pub base_url: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryRequest {
    pub conversation_id: i64,
    pub user_message_id: i64,
    #[serde(default)]
    pub stream_id: Option<String>,
}

pub struct ChatService {
    db: Db,
    secrets: Arc<dyn SecretStore>,
    client: Client,
    /// One HTTP client per distinct proxy / timeout setting in use (see `client_for`).
    clients: Mutex<HashMap<crate::openai::ClientOptions, Client>>,
    env: EnvFallback,
    streams: Mutex<HashMap<String, CancellationToken>>,
}

/// Removes a stream's cancel token however the reply ends.
struct StreamGuard<'a> {
    service: &'a ChatService,
    id: String,
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.service.streams.lock().unwrap().remove(&self.id);
    }
}

/// Checks a message before anything is saved: size limit, not empty; NUL bytes are dropped.
pub fn clean_content(content: &str) -> Result<String> {
    if content.len() > MAX_MESSAGE_BYTES {
        return Err(Error::invalid(format!(
            "The message is {:.1} MB; the limit is {} MB. Nothing was sent.",
            content.len() as f64 / 1_048_576.0,
            MAX_MESSAGE_BYTES / 1_048_576
        )));
    }
    let cleaned = content.replace('\0', "");
    if cleaned.trim().is_empty() {
        return Err(Error::invalid("The message is empty."));
    }
    Ok(cleaned)
}

/// Failed replies and empty rows are not sent back to the model; partial (stopped) replies are.
fn belongs_in_history(m: &Message) -> bool {
    let failed = m.role == Role::Assistant && m.status == Status::Error;
    !m.content.is_empty() && !failed
}

/// The request history for a reply to the last message of `path`.
fn history(system_prompt: &str, path: &[Message]) -> Vec<ChatMessage> {
    let system = (!system_prompt.trim().is_empty()).then(|| ChatMessage {
        role: Role::System.as_str().into(),
        content: system_prompt.to_string(),
    });
    system
        .into_iter()
        .chain(
            path.iter()
                .filter(|m| belongs_in_history(m))
                .map(|m| ChatMessage {
                    role: m.role.as_str().into(),
                    content: m.content.clone(),
                }),
        )
        .collect()
}

/// Records how a stream ended in the reply's outcome; returns the error to report, if any
/// (a stop is not an error).
fn record(outcome: &mut Outcome, result: Result<Finished>) -> Option<Error> {
    match result {
        Ok(fin) => {
            if let Some(u) = fin.usage {
                outcome.prompt_tokens = Some(u.prompt_tokens);
                outcome.completion_tokens = Some(u.completion_tokens);
            }
            outcome.model = fin.model;
            outcome.finish_reason = fin.finish_reason;
            outcome.status = Some(Status::Done);
            None
        }
        Err(Error::Cancelled) => {
            outcome.status = Some(Status::Cancelled);
            None
        }
        Err(e) => {
            outcome.status = Some(Status::Error);
            outcome.error_kind = Some(e.kind().to_string());
            outcome.error_message = Some(e.to_string());
            Some(e)
        }
    }
}

impl ChatService {
    pub fn new(db: Db, secrets: Arc<dyn SecretStore>, client: Client, env: EnvFallback) -> Self {
        let clients = HashMap::from([(client.options().clone(), client.clone())]);
        ChatService {
            db,
            secrets,
            client,
            clients: Mutex::new(clients),
            env,
            streams: Mutex::new(HashMap::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Stops a stream at once; its partial reply is kept as `cancelled`. False if it already ended.
    pub fn cancel(&self, stream_id: &str) -> bool {
        match self.streams.lock().unwrap().get(stream_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every running reply and waits (at most `wait`, blocking) until each is saved as
    /// cancelled. For closing the app: nothing streamed so far is lost. Returns how many there were.
    pub fn stop_all(&self, wait: Duration) -> usize {
        let tokens: Vec<CancellationToken> =
            self.streams.lock().unwrap().values().cloned().collect();
        tokens.iter().for_each(CancellationToken::cancel);
        let deadline = Instant::now() + wait;
        while !self.streams.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        tokens.len()
    }

    /// Registers a stream before anything else happens, so Stop works from the first moment.
    fn register_stream(
        &self,
        stream_id: Option<String>,
    ) -> Result<(StreamGuard<'_>, CancellationToken)> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = stream_id.filter(|s| !s.is_empty()).unwrap_or_else(|| {
            format!(
                "stream-{}",
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )
        });
        let token = CancellationToken::new();
        let mut streams = self.streams.lock().unwrap();
        if streams.contains_key(&id) {
            return Err(Error::invalid(format!(
                "A reply with stream id {id} is already running."
            )));
        }
        streams.insert(id.clone(), token.clone());
        Ok((StreamGuard { service: self, id }, token))
    }

    /// Saves the user's message, then streams and saves the reply. Returns the reply in its final
    /// state (done, cancelled or error); fails only when nothing was saved.
    pub async fn send(
        &self,
        req: SendRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        let content = clean_content(&req.content)?;
        let (guard, token) = self.register_stream(req.stream_id)?;
        let user = self.db.with(|c| {
            let parent = messages::active_leaf(c, req.conversation_id)?;
            messages::insert_user(c, req.conversation_id, parent, &content)
        })?;
        self.reply_to(user, guard, token, req.base_url.as_deref(), emit)
            .await
    }

    /// A new reply to an existing user message (after an error, a stop or a crash). The old reply stays.
    pub async fn retry(
        &self,
        req: RetryRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        let user = self.db.with(|c| messages::get(c, req.user_message_id))?;
        if user.conversation_id != req.conversation_id || user.role != Role::User {
            return Err(Error::invalid(
                "Only a user message of this conversation can be answered again.",
            ));
        }
        let (guard, token) = self.register_stream(req.stream_id)?;
        self.reply_to(user, guard, token, None, emit).await
    }

    async fn reply_to(
        &self,
        user: Message,
        guard: StreamGuard<'_>,
        token: CancellationToken,
        base_url: Option<&str>,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        let conv = self
            .db
            .with(|c| conversations::get(c, user.conversation_id))?;
        let endpoint = self.endpoint_for(conv.profile_id, base_url).await;
        let model = conv
            .settings
            .model
            .clone()
            .or_else(|| {
                endpoint
                    .as_ref()
                    .ok()
                    .and_then(|(row, _, _)| row.default_model.clone())
            })
            .or_else(|| {
                // OpenAI has a sensible default; other servers have their own model names.
                let (_, ep, _) = endpoint.as_ref().ok()?;
                (ep.base_url.host_str() == Some("api.openai.com"))
                    .then(|| OPENAI_DEFAULT_MODEL.to_string())
            })
            .unwrap_or_default();
        let reply_id = self
            .db
            .with(|c| messages::insert_reply_placeholder(c, &user, &model))?;
        emit(ChatEvent::Started {
            stream_id: guard.id.clone(),
            user_message: user.clone(),
            assistant_message_id: reply_id,
            model: model.clone(),
        });

        let started = Instant::now();
        let mut text = String::new();
        let mut ttft = None;
        let request = endpoint.and_then(|(row, ep, client)| {
            if model.is_empty() {
                return Err(Error::invalid(
                    "No model is chosen for this server: set a default model in Settings, or a model in this conversation's settings.",
                ));
            }
            let path = self.db.with(|c| messages::path_to(c, user.id))?;
            let s = &profile::effective_settings(&conv.settings, &row);
            let mut body = ChatRequest::streaming(model.clone(), history(&s.system_prompt, &path));
            body.temperature = s.temperature;
            body.max_tokens = s.max_tokens;
            body.top_p = s.top_p;
            body.frequency_penalty = s.frequency_penalty;
            body.presence_penalty = s.presence_penalty;
            body.stop = (!s.stop.is_empty()).then(|| s.stop.clone());
            body.seed = s.seed;
            Ok((ep, client, body))
        });
        let result = match request {
            Err(e) => Err(e),
            Ok((ep, client, body)) => {
                let mut last_checkpoint = Instant::now();
                let mut on_event = |ev: StreamEvent| match ev {
                    StreamEvent::Delta(delta) => {
                        ttft.get_or_insert_with(|| started.elapsed());
                        text.push_str(&delta);
                        emit(ChatEvent::Delta { text: delta });
                        if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                            last_checkpoint = Instant::now();
                            // Best effort: a failed checkpoint only loses crash safety for this interval.
                            let _ = self.db.with(|c| messages::checkpoint(c, reply_id, &text));
                        }
                    }
                    StreamEvent::Retrying {
                        attempt,
                        delay,
                        reason,
                    } => emit(ChatEvent::Retrying {
                        attempt,
                        delay_ms: delay.as_millis() as u64,
                        reason,
                    }),
                };
                client.stream_chat(&ep, &body, &token, &mut on_event).await
            }
        };

        let mut outcome = Outcome {
            content: text,
            ttft_ms: ttft.map(|d| d.as_millis() as i64),
            total_ms: Some(started.elapsed().as_millis() as i64),
            ..Default::default()
        };
        if let Ok(Finished { usage: Some(u), .. }) = &result {
            emit(ChatEvent::Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            });
        }
        let error = record(&mut outcome, result);
        let saved = self.db.with(|c| messages::finish(c, reply_id, &outcome));
        match (saved, error) {
            (Ok(message), None) => {
                emit(ChatEvent::Finished {
                    message: message.clone(),
                });
                Ok(message)
            }
            (Ok(message), Some(error)) => {
                emit(ChatEvent::Failed {
                    error,
                    message: Some(message.clone()),
                });
                Ok(message)
            }
            (Err(db_error), _) => {
                emit(ChatEvent::Failed {
                    error: db_error.clone(),
                    message: None,
                });
                Err(db_error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: Role, status: Status, content: &str) -> Message {
        Message {
            id: 0,
            conversation_id: 1,
            parent_id: None,
            role,
            content: content.into(),
            status,
            model: None,
            error_kind: None,
            error_message: None,
            prompt_tokens: None,
            completion_tokens: None,
            ttft_ms: None,
            total_ms: None,
            finish_reason: None,
            created_at: 0,
        }
    }

    #[test]
    fn history_keeps_the_system_prompt_and_partial_replies_but_not_failed_ones() {
        let path = vec![
            msg(Role::User, Status::Done, "q1"),
            msg(Role::Assistant, Status::Cancelled, "half an answ"),
            msg(Role::User, Status::Done, "q2"),
        ];
        let h = history("Be brief.", &path);
        let roles: Vec<_> = h
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                ("system", "Be brief."),
                ("user", "q1"),
                ("assistant", "half an answ"),
                ("user", "q2")
            ]
        );
        let path = vec![
            msg(Role::User, Status::Done, "q"),
            msg(Role::Assistant, Status::Error, "junk"),
        ];
        assert_eq!(history("  ", &path).len(), 1);
    }

    #[test]
    fn content_is_checked_before_anything_is_saved() {
        assert_eq!(clean_content(" \n ").unwrap_err().kind(), "invalid");
        assert_eq!(clean_content("a\0b").unwrap(), "ab");
        let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(clean_content(&huge)
            .unwrap_err()
            .to_string()
            .contains("limit"));
    }
}
