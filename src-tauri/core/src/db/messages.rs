//! Messages form a tree through `parent_id`: a retry adds a sibling, nothing is overwritten.
//! A reply is a `streaming` row while it streams (its text checkpointed now and then, not per token),
//! then finished in one statement. Rows left `streaming` by a crash become `interrupted` at start.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{conversations, now_ms};
use crate::error::{Error, Result};
use crate::secrets::redact::redact;

mod recovery;
mod tree;
pub(crate) use recovery::writer_alive;
pub use recovery::{mark_interrupted, process_tag};
use tree::Tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// The result the user typed for one of a reply's tool calls.
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
    fn parse(s: &str) -> Option<Role> {
        match s {
            "system" => Some(Role::System),
            "user" => Some(Role::User),
            "assistant" => Some(Role::Assistant),
            "tool" => Some(Role::Tool),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Done,
    Streaming,
    Cancelled,
    Error,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Streaming => "streaming",
            Status::Cancelled => "cancelled",
            Status::Error => "error",
            Status::Interrupted => "interrupted",
        }
    }
    fn parse(s: &str) -> Option<Status> {
        match s {
            "done" => Some(Status::Done),
            "streaming" => Some(Status::Streaming),
            "cancelled" => Some(Status::Cancelled),
            "error" => Some(Status::Error),
            "interrupted" => Some(Status::Interrupted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: i64,
    pub conversation_id: i64,
    pub parent_id: Option<i64>,
    pub role: Role,
    pub content: String,
    pub status: Status,
    /// The model asked for (what a reply is ranked by).
    pub model: Option<String>,
    /// The model the server said answered, when it differs from the one asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served_model: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub ttft_ms: Option<i64>,
    pub total_ms: Option<i64>,
    pub finish_reason: Option<String>,
    pub created_at: i64,
    /// Replies made by one send (n choices, or models side by side) share a group id.
    pub group_id: Option<String>,
    pub choice_index: Option<i64>,
    /// "chat" or "completions"; None for user messages.
    pub endpoint: Option<String>,
    /// The token counts were counted here with a tokenizer: the server reported none.
    pub tokens_counted: bool,
    pub cost_usd: Option<f64>,
    /// How many earlier messages were left out of the request to fit the context window.
    pub omitted: Option<i64>,
    pub profile_name: Option<String>,
    /// The model's reasoning, apart from the answer; never sent back in the history.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    /// Reasoning tokens (part of `completion_tokens`), as reported or counted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_cost_usd: Option<f64>,
    /// Time from the first reasoning text to the first answer token (or the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_ms: Option<i64>,
    /// The functions a reply asked to call (shown, stored, never executed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<crate::openai::types::ToolCall>,
    /// A `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The reply's tokens with their log-probabilities, when they were asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logprobs: Vec<crate::openai::logprobs::TokenLogprob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_logprob: Option<f64>,
    /// A reply under a response format (JSON object or schema): its check after streaming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_check: Option<crate::params::SchemaCheck>,
}

impl Message {
    /// A finished message with nothing but a role and text (tests and callers that build one in memory).
    pub fn new(role: Role, content: &str) -> Message {
        Message {
            id: 0,
            conversation_id: 0,
            parent_id: None,
            role,
            content: content.into(),
            status: Status::Done,
            model: None,
            served_model: None,
            error_kind: None,
            error_message: None,
            prompt_tokens: None,
            completion_tokens: None,
            ttft_ms: None,
            total_ms: None,
            finish_reason: None,
            created_at: 0,
            group_id: None,
            choice_index: None,
            endpoint: None,
            tokens_counted: false,
            cost_usd: None,
            omitted: None,
            profile_name: None,
            reasoning: String::new(),
            reasoning_tokens: None,
            reasoning_cost_usd: None,
            thinking_ms: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
            logprobs: Vec::new(),
            mean_logprob: None,
            schema_check: None,
        }
    }
}

/// A row of the active path with the ids of its siblings (same parent), and the rows of its
/// group when it is the last reply and was made together with others. What the window shows of
/// it (ratings, scores, blinding) is the chat layer's `ThreadMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEntry {
    pub message: Message,
    /// Ids of all children of this message's parent (itself included), oldest first.
    pub sibling_ids: Vec<i64>,
    /// For the last reply of the path, when it was made together with others (n choices or
    /// several models): all of them, in choice order; else empty.
    pub group: Vec<Message>,
}

/// Where a new reply comes from, recorded on its row.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReplyOrigin {
    pub model: String,
    pub group_id: Option<String>,
    pub choice_index: Option<i64>,
    pub endpoint: Option<String>,
    pub profile_name: Option<String>,
}

/// Everything known about a reply when its stream ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub content: String,
    pub status: Option<Status>,
    pub model: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub ttft_ms: Option<i64>,
    pub total_ms: Option<i64>,
    pub finish_reason: Option<String>,
    pub tokens_counted: bool,
    pub cost_usd: Option<f64>,
    pub omitted: Option<i64>,
    pub reasoning: String,
    pub reasoning_tokens: Option<i64>,
    pub reasoning_cost_usd: Option<f64>,
    pub thinking_ms: Option<i64>,
    pub tool_calls: Vec<crate::openai::types::ToolCall>,
    pub logprobs: Vec<crate::openai::logprobs::TokenLogprob>,
    pub schema_check: Option<crate::params::SchemaCheck>,
}

const COLUMNS: &str = "id, conversation_id, parent_id, role, content, status, model, error_kind, error_message, \
                       prompt_tokens, completion_tokens, ttft_ms, total_ms, finish_reason, created_at, \
                       group_id, choice_index, endpoint, tokens_counted, cost_usd, omitted, profile_name, \
                       reasoning, reasoning_tokens, reasoning_cost_usd, thinking_ms, tool_calls, tool_call_id, \
                       logprobs, mean_logprob, served_model, schema_check";

fn from_row(r: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        parent_id: r.get(2)?,
        role: super::stored(r, 3, "messages.role", Role::parse)?,
        content: r.get(4)?,
        status: super::stored(r, 5, "messages.status", Status::parse)?,
        model: r.get(6)?,
        error_kind: r.get(7)?,
        error_message: r.get(8)?,
        prompt_tokens: r.get(9)?,
        completion_tokens: r.get(10)?,
        ttft_ms: r.get(11)?,
        total_ms: r.get(12)?,
        finish_reason: r.get(13)?,
        created_at: r.get(14)?,
        group_id: r.get(15)?,
        choice_index: r.get(16)?,
        endpoint: r.get(17)?,
        tokens_counted: r.get::<_, i64>(18)? != 0,
        cost_usd: r.get(19)?,
        omitted: r.get(20)?,
        profile_name: r.get(21)?,
        reasoning: r.get(22)?,
        reasoning_tokens: r.get(23)?,
        reasoning_cost_usd: r.get(24)?,
        thinking_ms: r.get(25)?,
        // Unreadable calls (a hand-edited file) show as none rather than hiding the message.
        tool_calls: r
            .get::<_, Option<String>>(26)?
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default(),
        tool_call_id: r.get(27)?,
        logprobs: r
            .get::<_, Option<String>>(28)?
            .and_then(|raw| serde_json::from_str(&raw).ok())
            .unwrap_or_default(),
        mean_logprob: r.get(29)?,
        served_model: r.get(30)?,
        schema_check: r
            .get::<_, Option<String>>(31)?
            .and_then(|raw| serde_json::from_str(&raw).ok()),
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Message> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("message {id}")))
}

/// The newest message of the active path (where a new user message attaches).
pub fn active_leaf(conn: &Connection, conversation_id: i64) -> Result<Option<i64>> {
    Ok(active_path_ids(conn, conversation_id)?.last().copied())
}

/// Ids along the active path: from the root, at each step the most recently chosen child.
pub fn active_path_ids(conn: &Connection, conversation_id: i64) -> Result<Vec<i64>> {
    path::active_ids(conn, conversation_id)
}

/// The rows with these ids, in the order given (only those rows are read).
fn rows_by_ids(conn: &Connection, ids: &[i64]) -> Result<Vec<Message>> {
    let list = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE id IN (SELECT value FROM json_each(?1))"
    ))?;
    let mut by_id: std::collections::HashMap<i64, Message> = st
        .query_map([list], from_row)?
        .map(|m| m.map(|m| (m.id, m)))
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The conversation as the user sees it: the active path, oldest first.
pub fn active_path(conn: &Connection, conversation_id: i64) -> Result<Vec<Message>> {
    conversations::get(conn, conversation_id)?;
    rows_by_ids(conn, &active_path_ids(conn, conversation_id)?)
}

/// The active path with each message's siblings, and the whole group of the last reply when it
/// was made together with others (n choices, models side by side). The branch tree (ids,
/// parents, stamps) is read once; of the rows, only those of the path and the group shown.
pub fn thread(conn: &Connection, conversation_id: i64) -> Result<Vec<PathEntry>> {
    Ok(thread_window(conn, conversation_id, 0, usize::MAX)?.1)
}

/// Part of the thread: the messages at positions `start..start + len` of the active path, and the
/// path's length. Only those rows are read in full, and a long path is kept (path.rs): a long
/// conversation opens at its end without reading the rest of its tree.
pub fn thread_window(
    conn: &Connection,
    conversation_id: i64,
    start: usize,
    len: usize,
) -> Result<(usize, Vec<PathEntry>)> {
    conversations::get(conn, conversation_id)?;
    let ids = path::active_ids(conn, conversation_id)?;
    let total = ids.len();
    let start = start.min(total);
    let end = start.saturating_add(len).min(total);
    let path = rows_by_ids(conn, &ids[start..end])?;
    // A few messages: their siblings one look-up each; many: the tree, read once.
    let parents: Vec<Option<i64>> = path.iter().map(|m| m.parent_id).collect();
    let siblings = if path.len() <= SIBLINGS_BY_LOOKUP {
        path::siblings_of(conn, conversation_id, &parents)?
    } else {
        let tree = Tree::load(conn, conversation_id)?;
        parents
            .iter()
            .map(|&p| (p, tree.siblings(p).to_vec()))
            .collect()
    };
    let mut out = Vec::with_capacity(path.len());
    for (i, m) in path.into_iter().enumerate() {
        let sibling_ids = siblings.get(&m.parent_id).cloned().unwrap_or_default();
        let group = match (&m.group_id, start + i + 1 == total) {
            (Some(g), true) => group(conn, g)?,
            _ => Vec::new(),
        };
        let group = if group.len() > 1 { group } else { Vec::new() };
        out.push(PathEntry {
            message: m,
            sibling_ids,
            group,
        });
    }
    Ok((total, out))
}

/// Up to this many messages, siblings are looked up per message rather than from the whole tree.
const SIBLINGS_BY_LOOKUP: usize = 500;

/// The replies of one group, in choice order.
pub fn group(conn: &Connection, group_id: &str) -> Result<Vec<Message>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE group_id = ?1 ORDER BY choice_index, id"
    ))?;
    let rows = st
        .query_map([group_id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Makes `id` (and every message above it) the active branch: the conversation now shows the
/// path through it, continued by its most recently chosen descendants. Nothing is deleted.
pub fn select(conn: &mut Connection, id: i64) -> Result<Message> {
    let message = get(conn, id)?;
    let tx = conn.transaction()?;
    // Along the path up from `id`, the messages that have siblings, with the newest stamp among
    // those siblings: only they need a new stamp (one without siblings is always the active one).
    let contested: Vec<(i64, i64)> = {
        let mut st = tx.prepare_cached(
            "WITH RECURSIVE up(id, parent) AS (SELECT id, parent_id FROM messages WHERE id = ?1
                 UNION ALL SELECT m.id, m.parent_id FROM messages m JOIN up ON m.id = up.parent)
             SELECT up.id, CASE WHEN up.parent IS NULL
                 THEN (SELECT max(coalesce(s.selected_at, s.created_at)) FROM messages s
                       WHERE s.conversation_id = ?2 AND s.parent_id IS NULL AND s.id <> up.id)
                 ELSE (SELECT max(coalesce(s.selected_at, s.created_at)) FROM messages s
                       WHERE s.parent_id = up.parent AND s.id <> up.id) END AS rival
             FROM up",
        )?;
        let rows = st
            .query_map(params![id, message.conversation_id], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .filter_map(|(node, rival)| rival.map(|r| (node, r)))
            .collect()
    };
    let stamp = contested
        .iter()
        .map(|(_, rival)| rival + 1)
        .fold(now_ms(), i64::max);
    for (node, _) in &contested {
        tx.execute(
            "UPDATE messages SET selected_at = ?2 WHERE id = ?1",
            params![node, stamp],
        )?;
    }
    tx.commit()?;
    Ok(message)
}

/// The messages from the root down to `id` inclusive: the history a reply to `id` is based on.
pub fn path_to(conn: &Connection, id: i64) -> Result<Vec<Message>> {
    let mut st = conn.prepare_cached(&format!(
        "WITH RECURSIVE up(id, depth) AS (SELECT ?1, 0 UNION ALL
             SELECT m.parent_id, up.depth + 1 FROM messages m JOIN up ON m.id = up.id WHERE m.parent_id IS NOT NULL)
         SELECT {COLUMNS} FROM messages WHERE id IN (SELECT id FROM up) ORDER BY id"
    ))?;
    let rows = st
        .query_map([id], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if rows.is_empty() {
        return Err(Error::not_found(format!("message {id}")));
    }
    Ok(rows)
}

mod path;
mod write;
pub use path::KEEP_FROM as KEEP_PATH_FROM;
pub use write::{checkpoint, checkpoint_reasoning, finish, insert_tool_results};
pub(crate) use write::{insert_reply_placeholder, insert_user};

#[cfg(test)]
mod tests;
