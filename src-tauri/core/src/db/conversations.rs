//! Conversations: newest first, soft delete with undo, per-conversation settings.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::error::{Error, Result};

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

/// What the user can set on a conversation. `None` (or an empty `stop`) = the server's default;
/// `model: None` = the profile's default model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSettings {
    #[serde(default)]
    pub system_prompt: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    /// Up to 4 sequences where the server stops generating.
    #[serde(default)]
    pub stop: Vec<String>,
    #[serde(default)]
    pub seed: Option<i64>,
    /// How many choices to generate for each message (`n`); they show side by side.
    #[serde(default)]
    pub n: Option<i64>,
    /// Chat (`/v1/chat/completions`) or the legacy text completion (`/v1/completions`).
    #[serde(default)]
    pub endpoint: EndpointKind,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    #[default]
    Chat,
    Completions,
}

impl EndpointKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Chat => "chat",
            EndpointKind::Completions => "completions",
        }
    }
    pub fn parse(s: &str) -> Result<EndpointKind> {
        match s {
            "chat" => Ok(EndpointKind::Chat),
            "completions" => Ok(EndpointKind::Completions),
            other => Err(Error::invalid(format!(
                "Unknown endpoint {other:?}: use chat or completions."
            ))),
        }
    }
}

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_STOP_SEQUENCES: usize = 4;
/// The reference allows up to 128 choices; more than 8 columns cannot be read side by side.
pub const MAX_CHOICES: i64 = 8;

fn check_range(name: &str, value: Option<f64>, min: f64, max: f64) -> Result<()> {
    match value {
        Some(v) if !(min..=max).contains(&v) || v.is_nan() => Err(Error::invalid(format!(
            "{name} must be between {min} and {max} (got {v})."
        ))),
        _ => Ok(()),
    }
}

impl ConversationSettings {
    /// Ranges from the OpenAI reference, checked before anything is saved or sent.
    pub fn validate(mut self) -> Result<Self> {
        check_range("Temperature", self.temperature, 0.0, 2.0)?;
        check_range("Top p", self.top_p, 0.0, 1.0)?;
        check_range("Frequency penalty", self.frequency_penalty, -2.0, 2.0)?;
        check_range("Presence penalty", self.presence_penalty, -2.0, 2.0)?;
        if let Some(m) = self.max_tokens {
            if m < 1 {
                return Err(Error::invalid(format!(
                    "Max tokens must be at least 1 (got {m})."
                )));
            }
        }
        if let Some(n) = self.n {
            if !(1..=MAX_CHOICES).contains(&n) {
                return Err(Error::invalid(format!(
                    "Choices (n) must be between 1 and {MAX_CHOICES} (got {n})."
                )));
            }
        }
        // Whitespace is meaningful in a stop sequence ("\n\n"); only empty ones are dropped.
        self.stop.retain(|s| !s.is_empty());
        if self.stop.len() > MAX_STOP_SEQUENCES {
            return Err(Error::invalid(format!(
                "At most {MAX_STOP_SEQUENCES} stop sequences (got {}).",
                self.stop.len()
            )));
        }
        if self
            .stop
            .iter()
            .any(|s| s.chars().count() > 256 || s.contains('\0'))
        {
            return Err(Error::invalid(
                "A stop sequence is longer than 256 characters.",
            ));
        }
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
    "id, title, system_prompt, model, temperature, max_tokens, created_at, updated_at, \
                       top_p, frequency_penalty, presence_penalty, stop, seed, n, endpoint, profile_id";

fn from_row(r: &Row) -> rusqlite::Result<Conversation> {
    let stop: Option<String> = r.get(11)?;
    Ok(Conversation {
        id: r.get(0)?,
        title: r.get(1)?,
        settings: ConversationSettings {
            system_prompt: r.get(2)?,
            model: r.get(3)?,
            temperature: r.get(4)?,
            max_tokens: r.get(5)?,
            top_p: r.get(8)?,
            frequency_penalty: r.get(9)?,
            presence_penalty: r.get(10)?,
            stop: stop
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            seed: r.get(12)?,
            n: r.get(13)?,
            endpoint: super::stored(r, 14, "conversations.endpoint", |s| {
                EndpointKind::parse(s).ok()
            })?,
        },
        profile_id: r.get(15)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// `stop` as stored: a JSON array, or NULL when empty.
fn stop_json(s: &ConversationSettings) -> Option<String> {
    (!s.stop.is_empty()).then(|| serde_json::to_string(&s.stop).unwrap_or_default())
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
        "UPDATE conversations SET system_prompt = ?2, model = ?3, temperature = ?4, max_tokens = ?5,
             top_p = ?6, frequency_penalty = ?7, presence_penalty = ?8, stop = ?9, seed = ?10,
             n = ?11, endpoint = ?12
         WHERE id = ?1 AND deleted_at IS NULL",
        params![
            id,
            s.system_prompt,
            s.model,
            s.temperature,
            s.max_tokens,
            s.top_p,
            s.frequency_penalty,
            s.presence_penalty,
            stop_json(&s),
            s.seed,
            s.n,
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
