//! The chat service: persist → stream → persist. No tauri here; the GUI commands and the CLI are
//! two thin faces over this.

pub mod arena;
mod branch;
pub mod context;
pub mod events;
pub mod history;
pub mod judging;
mod key_prefetch;
pub mod profiles;
pub mod provider;
mod request;
mod send;
mod stream;
pub mod suite_library;
pub mod suite_runs;
pub mod suites;
mod thread;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::db::messages::Message;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::openai::{Client, Endpoint};
use crate::secrets::SecretStore;
use branch::Prefill;
pub use branch::TokenBranchRequest;
pub use events::ChatEvent;
pub use judging::JudgeTarget;
pub use key_prefetch::KeyPrefetch;
pub use profiles::{ProfileUpdate, ProfilesOverview};
pub use provider::{EnvFallback, KeySource, ProfileView};
pub use request::completion_prompt;
pub(crate) use thread::blind_message;
pub use thread::{MessageView, ThreadMessage};

/// Largest message accepted (a huge paste gets a clear error, not a frozen app).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// How often the partial text of a streaming reply is saved (crash safety without a write per token).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(750);
pub(crate) const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";
/// Models answering one prompt side by side.
pub(crate) const MAX_TARGETS: usize = 4;

/// One model answering a message: the conversation's own (all `None`), or another model and/or
/// profile for a side-by-side run. Each target streams under its own id, so each has its own Stop.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub model: Option<String>,
    /// A profile's id; `None` = the conversation's profile.
    #[serde(default)]
    pub profile_id: Option<i64>,
    #[serde(default)]
    pub stream_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub conversation_id: i64,
    pub content: String,
    #[serde(default)]
    pub stream_id: Option<String>,
    /// Editing: the new text becomes a sibling of this user message (a new branch); the old one stays.
    #[serde(default)]
    pub edit_of: Option<i64>,
    /// Several models at once (2–4); empty = the conversation's model.
    #[serde(default)]
    pub targets: Vec<Target>,
    /// The saved prompt version the message was made from (recorded on the message, counted as a use).
    #[serde(default)]
    pub prompt_version_id: Option<i64>,
    /// For this one request only (`parley ask --base-url`); not saved.
    #[serde(skip)]
    pub base_url: Option<String>,
    /// Results the user typed for the tool calls of the newest reply: each saved as a `tool`
    /// message, then the model answers them (`content` is then ignored).
    #[serde(default)]
    pub tool_results: Vec<ToolResult>,
    /// Images attached (stored already, by `attach_image`), in order.
    #[serde(default)]
    pub images: Vec<crate::attachments::ImageRef>,
    /// Text files attached: appended to the text as fenced blocks with their names.
    #[serde(default)]
    pub files: Vec<crate::attachments::TextFile>,
}

/// The result of one tool call, typed by the user (Parley never executes tools).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResult {
    pub tool_call_id: String,
    pub content: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryRequest {
    pub conversation_id: i64,
    pub user_message_id: i64,
    #[serde(default)]
    pub stream_id: Option<String>,
    #[serde(default)]
    pub targets: Vec<Target>,
}

/// Tokens and cost of every reply in a conversation, all branches included.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationTotals {
    pub replies: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    /// None when no reply has a known price.
    pub cost_usd: Option<f64>,
    /// Some of the counts were counted here (the server sent no usage).
    pub counted: bool,
}

pub struct ChatService {
    pub(crate) db: Db,
    secrets: Arc<dyn SecretStore>,
    client: Client,
    /// One HTTP client per distinct proxy / timeout setting in use (see `client_for`).
    clients: Mutex<HashMap<crate::openai::ClientOptions, Client>>,
    env: EnvFallback,
    streams: Mutex<HashMap<String, CancellationToken>>,
    /// A keyring read started ahead of a request (`prefetch_key`).
    prefetched: Mutex<Option<key_prefetch::KeyPrefetch>>,
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

/// One request in flight: its stop handle and what it asks.
struct Run<'a> {
    guard: StreamGuard<'a>,
    token: CancellationToken,
    target: Target,
}

/// A profile resolved for a request: its row, where to send, and the HTTP client for its proxy.
type Resolved = (crate::db::profiles::ProfileRow, Endpoint, Client);

/// A run with its reply rows created.
struct Prepared<'a> {
    run: Run<'a>,
    endpoint: Result<Resolved>,
    model: String,
    reply_ids: Vec<i64>,
    /// The text each reply starts with (a branch from another token, `branch.rs`).
    prefill: Option<&'a Prefill>,
}

type Emit<'e> = &'e (dyn Fn(ChatEvent) + Send + Sync);

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

fn group_id() -> String {
    format!("{:x}-{:08x}", crate::db::now_ms(), fastrand::u32(..))
}

impl ChatService {
    /// Gives back the database connection's page cache (see [`Db::release_memory`]).
    pub fn release_memory(&self) -> Result<()> {
        self.db.release_memory()
    }

    pub fn new(db: Db, secrets: Arc<dyn SecretStore>, client: Client, env: EnvFallback) -> Self {
        let clients = HashMap::from([(client.options().clone(), client.clone())]);
        ChatService {
            db,
            secrets,
            client,
            clients: Mutex::new(clients),
            env,
            streams: Mutex::new(HashMap::new()),
            prefetched: Mutex::new(None),
        }
    }

    /// Stops a stream or a judge run at once; a reply's partial text is kept as `cancelled`, a
    /// stopped judge run stores nothing. False if it already ended.
    pub fn cancel(&self, stream_id: &str) -> bool {
        match self.streams.lock().unwrap().get(stream_id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Stops every running reply and judge run and waits (at most `wait`, blocking) until each
    /// has ended (replies saved as cancelled). For closing the app: nothing streamed so far is
    /// lost. Returns how many there were.
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

    /// Registers a stream (or a judge run) before anything else happens, so Stop works from the
    /// first moment.
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
                "A reply or judge run with id {id} is already running."
            )));
        }
        streams.insert(id.clone(), token.clone());
        Ok((StreamGuard { service: self, id }, token))
    }

    /// Registers one stream per target (the first may use the request's own stream id).
    fn register_runs(
        &self,
        stream_id: Option<String>,
        targets: Vec<Target>,
    ) -> Result<Vec<Run<'_>>> {
        let mut targets = if targets.is_empty() {
            vec![Target::default()]
        } else {
            targets
        };
        if targets.len() > MAX_TARGETS {
            return Err(Error::invalid(format!(
                "At most {MAX_TARGETS} models can answer side by side (got {}).",
                targets.len()
            )));
        }
        if targets[0].stream_id.is_none() {
            targets[0].stream_id = stream_id;
        }
        targets
            .into_iter()
            .map(|mut target| {
                let (guard, token) = self.register_stream(target.stream_id.take())?;
                target.model = target
                    .model
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty());
                Ok(Run {
                    guard,
                    token,
                    target,
                })
            })
            .collect()
    }
}

fn first(replies: Result<Vec<Message>>) -> Result<Message> {
    replies?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("no reply was made"))
}
