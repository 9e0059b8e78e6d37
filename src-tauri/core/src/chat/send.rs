//! Sending: a user message saved, its replies (one per target and choice) created and streamed.

use crate::db::conversations::{self, Conversation};
use crate::db::messages::{self, Message, ReplyOrigin, Role};
use crate::error::{Error, Result};
use rusqlite::OptionalExtension;

use super::*;

impl ChatService {
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
        if !req.tool_results.is_empty() {
            return self.send_tool_results(req, emit).await;
        }
        crate::attachments::check_count(req.images.len(), req.files.len())?;
        let mut files = Vec::with_capacity(req.files.len());
        for f in &req.files {
            files.push(crate::attachments::text_file(&f.name, f.text.as_bytes())?);
        }
        let text = crate::attachments::compose(&req.content, &files);
        // A message of images alone has no text.
        let content = if !req.images.is_empty() && text.trim().is_empty() {
            String::new()
        } else {
            clean_content(&text)?
        };
        let mut images = req.images.clone();
        for i in &mut images {
            i.name = crate::attachments::clean_name(&i.name);
        }
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
            // An edit keeps the images of the message it replaces (the same stored copies).
            let images = match req.edit_of {
                Some(id) if images.is_empty() => crate::db::attachments::of_message(c, id)?
                    .into_iter()
                    .map(|s| s.image)
                    .collect(),
                _ => images,
            };
            for i in &images {
                if !crate::db::attachments::exists(c, &i.sha256)? {
                    return Err(Error::invalid(format!(
                        "The image \"{}\" is no longer stored; attach it again. Nothing was sent.",
                        i.name
                    )));
                }
            }
            // A version deleted since it was inserted: the text goes as typed, counted for none
            // (before, the question was saved and the reply never asked for).
            let version = match req.prompt_version_id {
                Some(v) => c
                    .query_row("SELECT id FROM prompt_versions WHERE id = ?1", [v], |r| {
                        r.get::<_, i64>(0)
                    })
                    .optional()?,
                None => None,
            };
            let user = messages::insert_user(c, req.conversation_id, parent, &content)?;
            crate::db::attachments::link(c, user.id, &images)?;
            if let Some(version) = version {
                c.execute(
                    "UPDATE messages SET prompt_version_id = ?2 WHERE id = ?1",
                    rusqlite::params![user.id, version],
                )?;
                crate::prompts::library::mark_used(c, version)?;
            }
            Ok(user)
        })?;
        self.reply_to(user, runs, req.base_url.as_deref(), None, &emit)
            .await
    }

    /// Tool results for the newest reply's calls: saved as `tool` messages, then answered.
    async fn send_tool_results(
        &self,
        req: SendRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<Vec<Message>> {
        let mut results = Vec::with_capacity(req.tool_results.len());
        for r in &req.tool_results {
            results.push((r.tool_call_id.clone(), clean_content(&r.content)?));
        }
        let runs = self.register_runs(req.stream_id, req.targets)?;
        let last = self.db.with(|c| {
            let Some(leaf) = messages::active_leaf(c, req.conversation_id)? else {
                return Err(Error::invalid("This conversation has no reply to answer."));
            };
            let saved = messages::insert_tool_results(c, leaf, &results)?;
            Ok(saved.last().cloned())
        })?;
        let last = last.ok_or_else(|| Error::invalid("No tool results were given."))?;
        self.reply_to(last, runs, req.base_url.as_deref(), None, &emit)
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
        self.reply_to(user, runs, None, None, &emit).await
    }

    /// The model to use for a target: its own, the conversation's, the profile's default, or
    /// OpenAI's default on OpenAI (other servers have their own names).
    pub(super) fn choose_model(
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

    pub(super) async fn reply_to(
        &self,
        user: Message,
        runs: Vec<Run<'_>>,
        base_url: Option<&str>,
        prefill: Option<&Prefill>,
        emit: Emit<'_>,
    ) -> Result<Vec<Message>> {
        let conv = self
            .db
            .with(|c| conversations::get(c, user.conversation_id))?;
        // `n` only where the endpoint takes it (the Responses API gives one answer).
        let choices = (conv.settings.params.clone())
            .for_endpoint(conv.settings.endpoint)
            .n
            .unwrap_or(1)
            .max(1);
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
                prefill,
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
}
