//! The chat service: persist → stream → persist. No tauri here; the GUI commands and the CLI are
//! two thin faces over this.

pub mod arena;
pub mod context;
pub mod events;
pub mod judging;
pub mod profile;
mod settings;
pub mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::db::conversations::{Conversation, EndpointKind};
use crate::db::messages::{self, Message, Outcome, ReplyOrigin, Role, Status, ThreadMessage};
use crate::db::{conversations, pricing, Db};
use crate::error::{Error, Result};
use crate::openai::types::{
    wants_max_completion_tokens, ChatMessage, ChatRequest, CompletionRequest, Request, Sampling,
};
use crate::openai::{Client, Endpoint, Finished, StreamEvent};
use crate::secrets::SecretStore;
pub use events::ChatEvent;
pub use judging::JudgeTarget;
pub use profile::{EnvFallback, KeySource, ProfileView};
pub use settings::{ProfileUpdate, ProfilesOverview};

/// Largest message accepted (a huge paste gets a clear error, not a frozen app).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// How often the partial text of a streaming reply is saved (crash safety without a write per token).
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(750);
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";
/// Models answering one prompt side by side.
pub const MAX_TARGETS: usize = 4;

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

/// The prompt of a legacy text completion: the system prompt (if any) as a first paragraph,
/// then the text of the conversation so far, each completion continuing the text before it.
pub fn completion_prompt(system_prompt: &str, path: &[Message]) -> String {
    let mut prompt = String::new();
    if !system_prompt.trim().is_empty() {
        prompt.push_str(system_prompt);
        prompt.push_str("\n\n");
    }
    for m in path.iter().filter(|m| belongs_in_history(m)) {
        prompt.push_str(&m.content);
    }
    prompt
}

fn sampling(s: &conversations::ConversationSettings) -> Sampling {
    Sampling {
        temperature: s.temperature,
        top_p: s.top_p,
        n: s.n.filter(|n| *n > 1),
        frequency_penalty: s.frequency_penalty,
        presence_penalty: s.presence_penalty,
        stop: (!s.stop.is_empty()).then(|| s.stop.clone()),
        seed: s.seed,
    }
}

/// Does this refusal name the output-limit parameter (a model that wants the other name)?
fn refuses_output_limit_name(e: &Error) -> bool {
    match e {
        Error::BadRequest { message, .. } => {
            let m = message.to_ascii_lowercase();
            m.contains("max_tokens") || m.contains("max_completion_tokens")
        }
        _ => false,
    }
}

/// Records how a stream ended in the reply's outcome; returns the error to report, if any
/// (a stop is not an error).
fn record(outcome: &mut Outcome, result: &Result<Finished>, index: u32) -> Option<Error> {
    match result {
        Ok(fin) => {
            outcome.model = fin.model.clone();
            outcome.finish_reason = fin.finish_reason(index);
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
            Some(e.clone())
        }
    }
}

fn group_id() -> String {
    format!("{:x}-{:08x}", crate::db::now_ms(), fastrand::u32(..))
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

    /// Saves the user's message, then streams and saves the reply. Returns the (first) reply in
    /// its final state (done, cancelled or error); fails only when nothing was saved.
    pub async fn send(
        &self,
        req: SendRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        first(self.send_all(req, emit).await)
    }

    /// Like [`send`](Self::send), with every reply: one per target and choice.
    pub async fn send_all(
        &self,
        req: SendRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Vec<Message>> {
        let content = clean_content(&req.content)?;
        let runs = self.register_runs(req.stream_id, req.targets)?;
        let user = self.db.with(|c| {
            let parent = match req.edit_of {
                Some(id) => {
                    let old = messages::get(c, id)?;
                    if old.conversation_id != req.conversation_id || old.role != Role::User {
                        return Err(Error::invalid(
                            "Only a user message of this conversation can be edited.",
                        ));
                    }
                    old.parent_id
                }
                None => messages::active_leaf(c, req.conversation_id)?,
            };
            let user = messages::insert_user(c, req.conversation_id, parent, &content)?;
            if let Some(version) = req.prompt_version_id {
                c.execute(
                    "UPDATE messages SET prompt_version_id = ?2 WHERE id = ?1",
                    rusqlite::params![user.id, version],
                )?;
                crate::prompts::library::mark_used(c, version)?;
            }
            Ok(user)
        })?;
        self.reply_to(user, runs, req.base_url.as_deref(), &emit)
            .await
    }

    /// A new reply to an existing user message (regenerate, or after an error, a stop or a crash).
    /// The old reply stays, as a sibling.
    pub async fn retry(
        &self,
        req: RetryRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Message> {
        first(self.retry_all(req, emit).await)
    }

    pub async fn retry_all(
        &self,
        req: RetryRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Vec<Message>> {
        let user = self.db.with(|c| messages::get(c, req.user_message_id))?;
        if user.conversation_id != req.conversation_id || user.role != Role::User {
            return Err(Error::invalid(
                "Only a user message of this conversation can be answered again.",
            ));
        }
        let runs = self.register_runs(req.stream_id, req.targets)?;
        self.reply_to(user, runs, None, &emit).await
    }

    /// The conversation as shown: the active path, each message with its siblings.
    pub fn thread(&self, conversation_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            conversations::get(c, conversation_id)?;
            thread_for_window(c, conversation_id)
        })
    }

    /// Shows another branch: `message_id` and the path through it become the active one.
    pub fn select_branch(&self, message_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            let m = messages::select(c, message_id)?;
            thread_for_window(c, m.conversation_id)
        })
    }

    /// "Continue with this" among replies made together: shows that branch, and when the replies
    /// came from different models, counts the choice as a win over each of them.
    pub fn choose_reply(&self, message_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            let m = messages::select(c, message_id)?;
            crate::eval::arena::record_choice(c, message_id)?;
            thread_for_window(c, m.conversation_id)
        })
    }

    pub fn totals(&self, conversation_id: i64) -> Result<ConversationTotals> {
        self.db.with(|c| {
            conversations::get(c, conversation_id)?;
            Ok(c.query_row(
                "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
                        sum(cost_usd), coalesce(max(tokens_counted), 0)
                 FROM messages WHERE conversation_id = ?1 AND role = 'assistant'",
                [conversation_id],
                |r| {
                    Ok(ConversationTotals {
                        replies: r.get(0)?,
                        prompt_tokens: r.get(1)?,
                        completion_tokens: r.get(2)?,
                        cost_usd: r.get(3)?,
                        counted: r.get::<_, i64>(4)? != 0,
                    })
                },
            )?)
        })
    }

    /// The model to use for a target: its own, the conversation's, the profile's default, or
    /// OpenAI's default on OpenAI (other servers have their own names).
    fn choose_model(
        &self,
        target: &Target,
        conv: &Conversation,
        endpoint: &Result<Resolved>,
    ) -> String {
        target
            .model
            .clone()
            .or_else(|| conv.settings.model.clone())
            .or_else(|| {
                endpoint
                    .as_ref()
                    .ok()
                    .and_then(|(row, _, _)| row.default_model.clone())
            })
            .or_else(|| {
                let (_, ep, _) = endpoint.as_ref().ok()?;
                (ep.base_url.host_str() == Some("api.openai.com"))
                    .then(|| OPENAI_DEFAULT_MODEL.to_string())
            })
            .unwrap_or_default()
    }

    async fn reply_to(
        &self,
        user: Message,
        runs: Vec<Run<'_>>,
        base_url: Option<&str>,
        emit: Emit<'_>,
    ) -> Result<Vec<Message>> {
        let conv = self
            .db
            .with(|c| conversations::get(c, user.conversation_id))?;
        let choices = conv.settings.n.unwrap_or(1).max(1);
        let group = (runs.len() > 1 || choices > 1).then(group_id);
        let endpoint_kind = conv.settings.endpoint;
        let mut prepared = Vec::with_capacity(runs.len());
        for (t, run) in runs.into_iter().enumerate() {
            // A side-by-side target may use another profile; else the conversation's.
            let profile = run.target.profile_id.or(conv.profile_id);
            let endpoint = self.endpoint_for(profile, base_url).await;
            let model = self.choose_model(&run.target, &conv, &endpoint);
            let mut reply_ids = Vec::new();
            for i in 0..choices {
                let origin = ReplyOrigin {
                    model: model.clone(),
                    group_id: group.clone(),
                    choice_index: group.is_some().then_some(t as i64 * choices + i),
                    endpoint: Some(endpoint_kind.as_str().into()),
                    profile_name: endpoint.as_ref().ok().map(|(row, _, _)| row.name.clone()),
                };
                let id = self
                    .db
                    .with(|c| messages::insert_reply_placeholder(c, &user, &origin))?;
                emit(ChatEvent::Started {
                    stream_id: run.guard.id.clone(),
                    user_message: user.clone(),
                    assistant_message_id: id,
                    model: model.clone(),
                    group_id: group.clone(),
                    choice_index: origin.choice_index,
                    profile: origin.profile_name.clone(),
                });
                reply_ids.push(id);
            }
            prepared.push(Prepared {
                run,
                endpoint,
                model,
                reply_ids,
            });
        }
        let results = futures_util::future::join_all(
            prepared
                .into_iter()
                .map(|p| self.stream_replies(&conv, &user, p, emit)),
        )
        .await;
        let mut saved = Vec::new();
        for r in results {
            saved.extend(r?);
        }
        Ok(saved)
    }

    /// Builds the request of one target: the endpoint's body, with the history fitted to the
    /// model's context window. Returns the request and how many messages were left out.
    fn build_request(
        &self,
        s: &conversations::ConversationSettings,
        user: &Message,
        model: &str,
        info: Option<&pricing::ModelInfo>,
    ) -> Result<(Request, usize)> {
        if model.is_empty() {
            return Err(Error::invalid(
                "No model is chosen for this server: set a default model in Settings, or a model in this conversation's settings.",
            ));
        }
        let path = self.db.with(|c| messages::path_to(c, user.id))?;
        match s.endpoint {
            EndpointKind::Chat => {
                let window = info
                    .and_then(|i| i.context_window)
                    .map(|w| w.max(0) as usize);
                let reserve = s
                    .max_tokens
                    .map(|m| m.max(0) as usize)
                    .unwrap_or(context::DEFAULT_REPLY_RESERVE);
                let fitted = context::fit(model, history(&s.system_prompt, &path), window, reserve);
                let mut body = ChatRequest::streaming(model, fitted.messages);
                body.sampling = sampling(s);
                body.set_output_limit(s.max_tokens, wants_max_completion_tokens(model));
                Ok((Request::Chat(body), fitted.omitted))
            }
            EndpointKind::Completions => {
                let prompt = completion_prompt(&s.system_prompt, &path);
                let mut body = CompletionRequest::streaming(model, prompt);
                body.sampling = sampling(s);
                body.max_tokens = s.max_tokens;
                Ok((Request::Completion(body), 0))
            }
        }
    }

    /// Streams one target's request into its reply rows (one per choice) and saves each.
    async fn stream_replies(
        &self,
        conv: &Conversation,
        user: &Message,
        p: Prepared<'_>,
        emit: Emit<'_>,
    ) -> Result<Vec<Message>> {
        let Prepared {
            run,
            endpoint,
            model,
            reply_ids,
        } = p;
        let n = reply_ids.len();
        let started = Instant::now();
        let mut texts = vec![String::new(); n];
        let mut ttft: Vec<Option<Duration>> = vec![None; n];
        let mut omitted = 0;
        let mut sent: Option<Request> = None;
        // The model's row in the price table: its context window now, its prices at the end.
        let price = self.db.with(|c| pricing::lookup(c, &model)).ok().flatten();
        let request = endpoint.and_then(|(row, ep, client)| {
            // Conversation settings first, then the profile's defaults.
            let settings = profile::effective_settings(&conv.settings, &row);
            let (body, left_out) = self.build_request(&settings, user, &model, price.as_ref())?;
            omitted = left_out;
            Ok((ep, client, body))
        });
        let stream_id = run.guard.id.clone();
        let result = match request {
            Err(e) => Err(e),
            Ok((ep, client, mut body)) => {
                let mut last_checkpoint = Instant::now();
                let mut attempt = 0;
                loop {
                    let mut on_event = |ev: StreamEvent| match ev {
                        StreamEvent::Delta { index, text } => {
                            let i = index as usize;
                            ttft[i].get_or_insert_with(|| started.elapsed());
                            texts[i].push_str(&text);
                            emit(ChatEvent::Delta {
                                reply_id: reply_ids[i],
                                text,
                            });
                            if last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                                last_checkpoint = Instant::now();
                                // Best effort: a failed checkpoint only loses crash safety for this interval.
                                for (id, text) in reply_ids.iter().zip(&texts) {
                                    let _ = self.db.with(|c| messages::checkpoint(c, *id, text));
                                }
                            }
                        }
                        StreamEvent::Retrying {
                            attempt,
                            delay,
                            reason,
                        } => emit(ChatEvent::Retrying {
                            stream_id: stream_id.clone(),
                            attempt,
                            delay_ms: delay.as_millis() as u64,
                            reason,
                        }),
                    };
                    let r = client.stream(&ep, &body, &run.token, &mut on_event).await;
                    // A model that wants the other name for the output limit: once, with it.
                    let nothing_yet = texts.iter().all(String::is_empty);
                    if attempt == 0
                        && nothing_yet
                        && r.as_ref().is_err_and(refuses_output_limit_name)
                    {
                        if let Request::Chat(chat) = &mut body {
                            if chat.swap_output_limit_name() {
                                attempt += 1;
                                continue;
                            }
                        }
                    }
                    sent = Some(body);
                    break r;
                }
            }
        };
        // The prompt as counted here, only when the server did not say.
        let counted_prompt = |sent: &Option<Request>| match sent {
            Some(Request::Chat(b)) => tokens::count_messages(&model, &b.messages) as i64,
            Some(Request::Completion(b)) => tokens::count_text(&model, &b.prompt) as i64,
            None => 0,
        };
        drop(run);

        let usage = result.as_ref().ok().and_then(|f| f.usage);
        let mut prompt_count: Option<i64> = None;
        let mut saved = Vec::with_capacity(n);
        for (i, id) in reply_ids.iter().enumerate() {
            let text = std::mem::take(&mut texts[i]);
            let mut outcome = Outcome {
                ttft_ms: ttft[i].map(|d| d.as_millis() as i64),
                total_ms: Some(started.elapsed().as_millis() as i64),
                omitted: (omitted > 0).then_some(omitted as i64),
                ..Default::default()
            };
            // The server's usage when it covers exactly this reply; else counted here.
            match usage {
                Some(u) if n == 1 => {
                    outcome.prompt_tokens = Some(u.prompt_tokens);
                    outcome.completion_tokens = Some(u.completion_tokens);
                }
                _ if !text.is_empty() || result.is_ok() => {
                    outcome.prompt_tokens = Some(usage.map_or_else(
                        || *prompt_count.get_or_insert_with(|| counted_prompt(&sent)),
                        |u| u.prompt_tokens,
                    ));
                    outcome.completion_tokens = Some(tokens::count_text(&model, &text) as i64);
                    outcome.tokens_counted = true;
                }
                _ => {}
            }
            if let (Some(pt), Some(ct), Some(price)) =
                (outcome.prompt_tokens, outcome.completion_tokens, &price)
            {
                // The prompt is paid once for all choices of a request.
                outcome.cost_usd = price.cost(pt / n as i64, ct);
            }
            if let (Some(pt), Some(ct)) = (outcome.prompt_tokens, outcome.completion_tokens) {
                emit(ChatEvent::Usage {
                    reply_id: *id,
                    prompt_tokens: pt,
                    completion_tokens: ct,
                    counted: outcome.tokens_counted,
                });
            }
            let missing = n > 1
                && text.is_empty()
                && result
                    .as_ref()
                    .is_ok_and(|f| f.finish_reason(i as u32).is_none());
            outcome.content = text;
            let mut error = record(&mut outcome, &result, i as u32);
            if missing {
                // Some servers ignore `n` and send one choice: say so rather than show nothing.
                let e = Error::Stream {
                    message: format!(
                        "the server sent no choice {} of {n}; it may not support n > 1",
                        i + 1
                    ),
                };
                outcome.status = Some(Status::Error);
                outcome.error_kind = Some(e.kind().to_string());
                outcome.error_message = Some(e.to_string());
                error = Some(e);
            }
            let finished = self.db.with(|c| messages::finish(c, *id, &outcome));
            match (finished, error) {
                (Ok(message), None) => {
                    emit(ChatEvent::Finished {
                        message: message.clone(),
                    });
                    saved.push(message);
                }
                (Ok(message), Some(error)) => {
                    emit(ChatEvent::Failed {
                        error,
                        message: Some(message.clone()),
                    });
                    saved.push(message);
                }
                (Err(db_error), _) => {
                    emit(ChatEvent::Failed {
                        error: db_error.clone(),
                        message: None,
                    });
                    return Err(db_error);
                }
            }
        }
        Ok(saved)
    }
}

/// The thread with each reply's rating, and the models of unvoted arena replies hidden.
fn thread_for_window(c: &rusqlite::Connection, conversation_id: i64) -> Result<Vec<ThreadMessage>> {
    let mut thread = messages::thread(c, conversation_id)?;
    let ratings = crate::eval::ratings::for_conversation(c, conversation_id)?;
    let blind = crate::eval::arena::blind_replies(c, conversation_id)?;
    let fill = |m: &mut Message| {
        m.rating = ratings.get(&m.id).cloned();
        m.reference_score = m
            .rating
            .as_ref()
            .filter(|r| !r.reference.is_empty())
            .map(|r| crate::eval::metrics::reference_score(&m.content, &r.reference));
        if blind.contains(&m.id) {
            blind_message(m);
        }
    };
    for t in &mut thread {
        fill(&mut t.message);
        t.group.iter_mut().for_each(fill);
        let done: Vec<&str> = t
            .group
            .iter()
            .filter(|m| m.status == Status::Done)
            .map(|m| m.content.as_str())
            .collect();
        if done.len() > 1 {
            t.diversity = Some(crate::eval::metrics::diversity(&done));
        }
    }
    Ok(thread)
}

/// Hides which model (and profile) wrote a reply, until its arena vote.
pub(crate) fn blind_message(m: &mut Message) {
    m.model = None;
    m.profile_name = None;
}

fn first(replies: Result<Vec<Message>>) -> Result<Message> {
    replies?
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("no reply was made"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: Role, status: Status, content: &str) -> Message {
        Message {
            conversation_id: 1,
            status,
            ..Message::new(role, content)
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
