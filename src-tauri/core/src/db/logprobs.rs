//! Token probabilities per conversation: whether to ask for them, and how many alternatives per
//! token (chat 0–20, legacy completions 0–5).
//!
//! TODO(params): a request parameter; fold into the one parameter definition once it is in main.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::openai::logprobs::MAX_TOP_CHAT;

/// None: not asked for. Some(n): asked for, with n alternatives per token.
pub fn get(conn: &Connection, conversation_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT top FROM conversation_logprobs WHERE conversation_id = ?1",
            [conversation_id],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set(conn: &Connection, conversation_id: i64, top: Option<i64>) -> Result<Option<i64>> {
    super::conversations::get(conn, conversation_id)?;
    match top {
        Some(n) if !(0..=MAX_TOP_CHAT).contains(&n) => Err(Error::invalid(format!(
            "Alternatives per token go from 0 to {MAX_TOP_CHAT} (got {n})."
        ))),
        Some(n) => {
            conn.execute(
                "INSERT INTO conversation_logprobs(conversation_id, top) VALUES (?1, ?2)
                 ON CONFLICT(conversation_id) DO UPDATE SET top = excluded.top",
                params![conversation_id, n],
            )?;
            Ok(Some(n))
        }
        None => {
            conn.execute(
                "DELETE FROM conversation_logprobs WHERE conversation_id = ?1",
                [conversation_id],
            )?;
            Ok(None)
        }
    }
}
