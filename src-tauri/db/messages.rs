//! Messages form a tree through `parent_id`: a retry adds a sibling, nothing is overwritten.
//! A reply is a `streaming` row while it streams (its text checkpointed now and then, not per token),
//! then finished in one statement. Rows left `streaming` by a crash become `interrupted` at start.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::{conversations, now_ms};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
    fn parse(s: &str) -> Role {
        match s {
            "system" => Role::System,
            "user" => Role::User,
            _ => Role::Assistant,
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
    fn parse(s: &str) -> Status {
        match s {
            "done" => Status::Done,
            "streaming" => Status::Streaming,
            "cancelled" => Status::Cancelled,
            "error" => Status::Error,
            _ => Status::Interrupted,
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
    pub model: Option<String>,
    pub error_kind: Option<String>,
    pub error_message: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub ttft_ms: Option<i64>,
    pub total_ms: Option<i64>,
    pub finish_reason: Option<String>,
    pub created_at: i64,
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
}

const COLUMNS: &str = "id, conversation_id, parent_id, role, content, status, model, error_kind, error_message, \
                       prompt_tokens, completion_tokens, ttft_ms, total_ms, finish_reason, created_at";

fn from_row(r: &Row) -> rusqlite::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        parent_id: r.get(2)?,
        role: Role::parse(&r.get::<_, String>(3)?),
        content: r.get(4)?,
        status: Status::parse(&r.get::<_, String>(5)?),
        model: r.get(6)?,
        error_kind: r.get(7)?,
        error_message: r.get(8)?,
        prompt_tokens: r.get(9)?,
        completion_tokens: r.get(10)?,
        ttft_ms: r.get(11)?,
        total_ms: r.get(12)?,
        finish_reason: r.get(13)?,
        created_at: r.get(14)?,
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

/// Ids along the active path: from the root, always the newest child.
fn active_path_ids(conn: &Connection, conversation_id: i64) -> Result<Vec<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT id, parent_id FROM messages WHERE conversation_id = ?1 ORDER BY id",
    )?;
    let edges = st
        .query_map([conversation_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Rows come in id order, so the last child seen for a parent is its newest.
    let mut newest_child = std::collections::HashMap::with_capacity(edges.len());
    let mut root = None;
    for (id, parent) in &edges {
        match parent {
            Some(p) => {
                newest_child.insert(*p, *id);
            }
            None => root = Some(*id),
        }
    }
    let mut path = Vec::new();
    let mut cursor = root;
    while let Some(id) = cursor {
        path.push(id);
        cursor = newest_child.get(&id).copied();
    }
    Ok(path)
}

/// The conversation as the user sees it: the active path, oldest first.
pub fn active_path(conn: &Connection, conversation_id: i64) -> Result<Vec<Message>> {
    conversations::get(conn, conversation_id)?;
    let ids = active_path_ids(conn, conversation_id)?;
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM messages WHERE conversation_id = ?1 ORDER BY id"
    ))?;
    let mut by_id: std::collections::HashMap<i64, Message> = st
        .query_map([conversation_id], from_row)?
        .map(|m| m.map(|m| (m.id, m)))
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids.into_iter().filter_map(|id| by_id.remove(&id)).collect())
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

/// Saves the user's message (its own short transaction, committed before any network call).
pub fn insert_user(
    conn: &mut Connection,
    conversation_id: i64,
    parent_id: Option<i64>,
    content: &str,
) -> Result<Message> {
    let tx = conn.transaction()?;
    conversations::get(&tx, conversation_id)?;
    tx.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at)
         VALUES (?1, ?2, 'user', ?3, 'done', ?4)",
        params![conversation_id, parent_id, content, now_ms()],
    )?;
    let id = tx.last_insert_rowid();
    conversations::title_if_untitled(&tx, conversation_id, content)?;
    conversations::touch(&tx, conversation_id)?;
    tx.commit()?;
    get(conn, id)
}

/// Creates the reply row, empty and `streaming`, under the user message it answers.
pub fn insert_reply_placeholder(
    conn: &Connection,
    user_message: &Message,
    model: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at, writer)
         VALUES (?1, ?2, 'assistant', '', 'streaming', nullif(?3, ''), ?4, ?5)",
        params![
            user_message.conversation_id,
            user_message.id,
            model,
            now_ms(),
            process_tag()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Saves the partial text of a reply that is still streaming (called every few hundred ms, not per token).
pub fn checkpoint(conn: &Connection, id: i64, content: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET content = ?2 WHERE id = ?1 AND status = 'streaming'",
        params![id, content],
    )?;
    Ok(())
}

/// Writes the final state of a reply in one statement.
pub fn finish(conn: &Connection, id: i64, o: &Outcome) -> Result<Message> {
    let status = o.status.unwrap_or(Status::Done);
    conn.execute(
        "UPDATE messages SET content = ?2, status = ?3, model = coalesce(?4, model), error_kind = ?5,
             error_message = ?6, prompt_tokens = ?7, completion_tokens = ?8, ttft_ms = ?9, total_ms = ?10,
             finish_reason = ?11
         WHERE id = ?1",
        params![
            id,
            o.content,
            status.as_str(),
            o.model,
            o.error_kind,
            o.error_message,
            o.prompt_tokens,
            o.completion_tokens,
            o.ttft_ms,
            o.total_ms,
            o.finish_reason
        ],
    )?;
    let message = get(conn, id)?;
    conversations::touch(conn, message.conversation_id)?;
    Ok(message)
}

/// This process, as written in `messages.writer`: the pid, and on Linux its start time too, so a
/// reused pid is not mistaken for the writer.
pub fn process_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        match start_time(pid) {
            Some(t) => format!("{pid}:{t}"),
            None => pid.to_string(),
        }
    })
}

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot); None elsewhere.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19).map(str::to_owned)
}

/// Is the process that wrote `tag` still running? Where that cannot be known, only this process is.
fn writer_alive(tag: Option<&str>) -> bool {
    let Some(tag) = tag else { return false };
    if tag == process_tag() {
        return true;
    }
    let mut parts = tag.splitn(2, ':');
    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (pid, parts.next()) {
        (Some(pid), Some(started)) => start_time(pid).as_deref() == Some(started),
        _ => false,
    }
}

/// At start: replies whose writer died mid-stream are kept, marked interrupted. Replies another
/// running Parley is streaming are left alone.
pub fn mark_interrupted(conn: &mut Connection) -> Result<usize> {
    let orphans: Vec<i64> = {
        let mut st = conn.prepare("SELECT id, writer FROM messages WHERE status = 'streaming'")?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .filter(|(_, writer)| !writer_alive(writer.as_deref()))
            .map(|(id, _)| id)
            .collect()
    };
    let tx = conn.transaction()?;
    for id in &orphans {
        tx.execute(
            "UPDATE messages SET status = 'interrupted', error_kind = 'interrupted',
                 error_message = 'Parley stopped before this reply was complete.'
             WHERE id = ?1 AND status = 'streaming'",
            [id],
        )?;
    }
    tx.commit()?;
    Ok(orphans.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversations, Db};

    fn reply(conn: &mut Connection, user: &Message, text: &str) -> Message {
        let id = insert_reply_placeholder(conn, user, "m").unwrap();
        finish(
            conn,
            id,
            &Outcome {
                content: text.into(),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn a_linear_chat_reads_back_in_order() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u1 = insert_user(c, conv.id, None, "hi")?;
            let a1 = reply(c, &u1, "hello");
            let u2 = insert_user(c, conv.id, active_leaf(c, conv.id)?, "how are you")?;
            assert_eq!(u2.parent_id, Some(a1.id));
            let a2 = reply(c, &u2, "fine");
            let path = active_path(c, conv.id)?;
            assert_eq!(
                path.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
                ["hi", "hello", "how are you", "fine"]
            );
            assert_eq!(path_to(c, a2.id)?.len(), 4);
            assert_eq!(path_to(c, u2.id)?.last().unwrap().id, u2.id);
            assert_eq!(conversations::get(c, conv.id)?.title, "hi");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_retry_adds_a_sibling_and_keeps_the_old_reply() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = insert_user(c, conv.id, None, "q")?;
            let failed = insert_reply_placeholder(c, &u, "m")?;
            finish(
                c,
                failed,
                &Outcome {
                    status: Some(Status::Error),
                    error_kind: Some("server".into()),
                    ..Default::default()
                },
            )?;
            let second = reply(c, &u, "answer");
            let path = active_path(c, conv.id)?;
            assert_eq!(path.last().unwrap().id, second.id);
            assert_eq!(get(c, failed)?.status, Status::Error);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn checkpoints_then_crash_leave_an_interrupted_partial_reply() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = insert_user(c, conv.id, None, "q")?;
            let id = insert_reply_placeholder(c, &u, "m")?;
            checkpoint(c, id, "partial")?;
            // Still streaming in this (live) process: left alone.
            assert_eq!(mark_interrupted(c)?, 0);
            // As if written by a process that has exited.
            c.execute(
                "UPDATE messages SET writer = '999999999:1' WHERE id = ?1",
                [id],
            )?;
            assert_eq!(mark_interrupted(c)?, 1);
            let m = get(c, id)?;
            assert_eq!(
                (m.status, m.content.as_str()),
                (Status::Interrupted, "partial")
            );
            // A finished reply is never touched by later checkpoints or recovery.
            checkpoint(c, id, "late")?;
            assert_eq!(get(c, id)?.content, "partial");
            assert_eq!(mark_interrupted(c)?, 0);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn deleting_a_conversation_removes_its_messages() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = insert_user(c, conv.id, None, "q")?;
            reply(c, &u, "a");
            conversations::soft_delete(c, conv.id)?;
            c.execute("UPDATE conversations SET deleted_at = 0", [])?;
            conversations::purge_deleted(c)?;
            let n: i64 = c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
            assert_eq!(n, 0);
            Ok(())
        })
        .unwrap();
    }
}
