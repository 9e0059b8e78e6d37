//! Conversations: newest first, soft delete with undo, per-conversation settings.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::error::{Error, Result};
pub use crate::params::EndpointKind;
use crate::params::Params;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    /// Serialised flat: `{"id", "title", "systemPrompt", "model", "temperature", …}`.
    #[serde(flatten)]
    pub settings: ConversationSettings,
    /// The provider profile it talks to; `None` = the default profile.
    #[serde(default)]
    pub profile_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the user can set on a conversation. An unset parameter = the profile's default, else the
/// server's; `model: None` = the profile's default model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSettings {
    #[serde(default)]
    pub system_prompt: String,
    #[serde(default)]
    pub model: Option<String>,
    /// Serialised flat (`temperature`, `topP`, …), as the table in `params.rs` names them.
    #[serde(flatten)]
    pub params: Params,
    /// Chat (`/v1/chat/completions`) or the legacy text completion (`/v1/completions`).
    #[serde(default)]
    pub endpoint: EndpointKind,
}

pub const MAX_TITLE_CHARS: usize = 200;

impl ConversationSettings {
    /// The parameters' ranges (from the table), checked before anything is saved or sent.
    pub fn validate(mut self) -> Result<Self> {
        self.params = self.params.validate()?;
        self.model = self
            .model
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        if self.system_prompt.contains('\0') {
            self.system_prompt = self.system_prompt.replace('\0', "");
        }
        Ok(self)
    }
}

const COLUMNS: &str =
    "id, title, system_prompt, model, params, created_at, updated_at, endpoint, profile_id";

fn from_row(r: &Row) -> rusqlite::Result<Conversation> {
    let params: Option<String> = r.get(4)?;
    Ok(Conversation {
        id: r.get(0)?,
        title: r.get(1)?,
        settings: ConversationSettings {
            system_prompt: r.get(2)?,
            model: r.get(3)?,
            params: Params::from_stored(params.as_deref()),
            endpoint: super::stored(r, 7, "conversations.endpoint", |s| {
                EndpointKind::parse(s).ok()
            })?,
        },
        profile_id: r.get(8)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
    })
}

pub fn create(conn: &Connection, settings: Option<ConversationSettings>) -> Result<Conversation> {
    let s = settings.unwrap_or_default().validate()?;
    let now = now_ms();
    conn.execute(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES ('', ?1, ?1)",
        [now],
    )?;
    update_settings(conn, conn.last_insert_rowid(), s)
}

pub fn get(conn: &Connection, id: i64) -> Result<Conversation> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM conversations WHERE id = ?1 AND deleted_at IS NULL"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("conversation {id}")))
}

/// Newest activity first.
pub fn list(conn: &Connection) -> Result<Vec<Conversation>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE deleted_at IS NULL ORDER BY updated_at DESC, id DESC"
    ))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The most recently active conversation, for `parley ask --continue`.
pub fn latest(conn: &Connection) -> Result<Option<Conversation>> {
    Ok(list(conn)?.into_iter().next())
}

pub fn rename(conn: &Connection, id: i64, title: &str) -> Result<Conversation> {
    let title: String = title
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect();
    let n = conn.execute(
        "UPDATE conversations SET title = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        params![id, title],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("conversation {id}")));
    }
    get(conn, id)
}

/// Sets the title from the first user message if the conversation has none yet.
pub fn title_if_untitled(conn: &Connection, id: i64, first_message: &str) -> Result<()> {
    let line = first_message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut title: String = line.chars().filter(|c| !c.is_control()).take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    conn.execute(
        "UPDATE conversations SET title = ?2 WHERE id = ?1 AND title = ''",
        params![id, title],
    )?;
    Ok(())
}

pub fn update_settings(
    conn: &Connection,
    id: i64,
    settings: ConversationSettings,
) -> Result<Conversation> {
    let s = settings.validate()?;
    let n = conn.execute(
        "UPDATE conversations SET system_prompt = ?2, model = ?3, params = ?4, endpoint = ?5
         WHERE id = ?1 AND deleted_at IS NULL",
        params![
            id,
            s.system_prompt,
            s.model,
            s.params.to_stored(),
            s.endpoint.as_str()
        ],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("conversation {id}")));
    }
    get(conn, id)
}

/// Points the conversation at a provider profile (`None`: the default profile).
pub fn set_profile(conn: &Connection, id: i64, profile_id: Option<i64>) -> Result<Conversation> {
    if let Some(pid) = profile_id {
        super::profiles::get(conn, pid)?;
    }
    let n = conn.execute(
        "UPDATE conversations SET profile_id = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        params![id, profile_id],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("conversation {id}")));
    }
    get(conn, id)
}

/// Marks activity: the conversation becomes the newest, even within the same millisecond.
pub fn touch(conn: &Connection, id: i64) -> Result<()> {
    conn.execute(
        "UPDATE conversations
         SET updated_at = max(?2, (SELECT coalesce(max(updated_at), 0) + 1 FROM conversations))
         WHERE id = ?1",
        params![id, now_ms()],
    )?;
    Ok(())
}

/// Hides the conversation; `restore` brings it back. Purged for good at the next start.
pub fn soft_delete(conn: &Connection, id: i64) -> Result<()> {
    let n = conn.execute(
        "UPDATE conversations SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        params![id, now_ms()],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("conversation {id}")));
    }
    Ok(())
}

pub fn restore(conn: &Connection, id: i64) -> Result<()> {
    let n = conn.execute(
        "UPDATE conversations SET deleted_at = NULL WHERE id = ?1 AND deleted_at IS NOT NULL",
        [id],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("deleted conversation {id}")));
    }
    Ok(())
}

/// How long a deleted conversation can still be restored. Another Parley starting meanwhile (the
/// CLI beside the window) must not end the window's undo.
pub const UNDO_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Removes conversations deleted more than [`UNDO_WINDOW_MS`] ago (called at start).
pub fn purge_deleted(conn: &mut Connection) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?1",
        [now_ms() - UNDO_WINDOW_MS],
    )?)
}

#[cfg(test)]
mod tests;
