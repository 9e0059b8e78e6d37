//! Rubrics (versioned) and the LLM judge's verdicts. Parameterised SQL only.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::error::{Error, Result};
use crate::secrets::redact::redact;

/// Longest rubric body accepted.
pub(crate) const MAX_RUBRIC_BYTES: usize = 64 * 1024;
/// The rubric used when none is named.
pub(crate) const DEFAULT_SINGLE_RUBRIC: &str = "default";
pub(crate) const DEFAULT_PAIRWISE_RUBRIC: &str = "default-pairwise";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JudgeKind {
    /// One reply graded 1–10.
    Single,
    /// Two replies compared, in both orders.
    Pairwise,
}

impl JudgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JudgeKind::Single => "single",
            JudgeKind::Pairwise => "pairwise",
        }
    }

    /// Exactly as stored (`parse` is the forgiving reader of user input).
    fn from_stored(s: &str) -> Option<JudgeKind> {
        match s {
            "single" => Some(JudgeKind::Single),
            "pairwise" => Some(JudgeKind::Pairwise),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Result<JudgeKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "single" => Ok(JudgeKind::Single),
            "pairwise" | "pair" => Ok(JudgeKind::Pairwise),
            other => Err(Error::invalid(format!(
                "A rubric's kind is \"single\" or \"pairwise\", not \"{other}\"."
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rubric {
    pub id: i64,
    pub name: String,
    pub version: i64,
    pub kind: JudgeKind,
    pub body: String,
    pub created_at: i64,
}

const RUBRIC_COLUMNS: &str = "id, name, version, kind, body, created_at";

fn rubric_from_row(r: &Row) -> rusqlite::Result<Rubric> {
    Ok(Rubric {
        id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        kind: super::stored(r, 3, "rubrics.kind", JudgeKind::from_stored)?,
        body: r.get(4)?,
        created_at: r.get(5)?,
    })
}

/// The latest version of every rubric, by name.
pub fn list_rubrics(conn: &Connection) -> Result<Vec<Rubric>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {RUBRIC_COLUMNS} FROM rubrics r
         WHERE version = (SELECT max(version) FROM rubrics WHERE name = r.name)
         ORDER BY name"
    ))?;
    let rows = st
        .query_map([], rubric_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every version of one rubric, oldest first.
pub fn rubric_versions(conn: &Connection, name: &str) -> Result<Vec<Rubric>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {RUBRIC_COLUMNS} FROM rubrics WHERE name = ?1 ORDER BY version"
    ))?;
    let rows = st
        .query_map([name.trim()], rubric_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn rubric(conn: &Connection, id: i64) -> Result<Rubric> {
    conn.query_row(
        &format!("SELECT {RUBRIC_COLUMNS} FROM rubrics WHERE id = ?1"),
        [id],
        rubric_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("rubric {id}")))
}

/// The latest version of the rubric called `name`.
pub fn rubric_by_name(conn: &Connection, name: &str) -> Result<Rubric> {
    conn.query_row(
        &format!(
            "SELECT {RUBRIC_COLUMNS} FROM rubrics WHERE name = ?1 ORDER BY version DESC LIMIT 1"
        ),
        [name.trim()],
        rubric_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("rubric \"{}\"", name.trim())))
}

/// Saves a rubric as the next version of `name` (version 1 for a new name). A name keeps its kind.
pub fn save_rubric(
    conn: &mut Connection,
    name: &str,
    kind: JudgeKind,
    body: &str,
) -> Result<Rubric> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "A rubric needs a name of 1 to 100 characters (no control characters).",
        ));
    }
    let body = body.replace('\0', "");
    if body.trim().is_empty() {
        return Err(Error::invalid("A rubric's text cannot be empty."));
    }
    if body.len() > MAX_RUBRIC_BYTES {
        return Err(Error::invalid(format!(
            "A rubric's text is at most {} KB.",
            MAX_RUBRIC_BYTES / 1024
        )));
    }
    let tx = conn.transaction()?;
    let latest: Option<(i64, String)> = tx
        .query_row(
            "SELECT version, kind FROM rubrics WHERE name = ?1 ORDER BY version DESC LIMIT 1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((_, old_kind)) = &latest {
        if old_kind != kind.as_str() {
            return Err(Error::invalid(format!(
                "The rubric \"{name}\" is a {old_kind} rubric; save a {} rubric under another name.",
                kind.as_str()
            )));
        }
    }
    let version = latest.map_or(1, |(v, _)| v + 1);
    tx.execute(
        "INSERT INTO rubrics(name, version, kind, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, version, kind.as_str(), body, now_ms()],
    )?;
    let id = tx.last_insert_rowid();
    tx.commit()?;
    rubric(conn, id)
}

/// Which reply won a pairwise comparison (the one "who won" type): `a` is the verdict's
/// `message_id`, `b` its `other_message_id`, whatever position each was shown in. One order is
/// a, b or tie; the verdict adds inconsistent (the two orders disagree).
pub use crate::outcome::Outcome as Side;

/// A stored verdict, with the rubric and the judged replies' models for display.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub id: i64,
    pub kind: JudgeKind,
    pub rubric_id: i64,
    pub rubric_name: String,
    pub rubric_version: i64,
    /// The model asked for: what verdicts are grouped and ranked by.
    pub judge_model: String,
    /// The model the server said answered, when it differs from `judge_model`.
    pub served_model: Option<String>,
    pub judge_profile_id: Option<i64>,
    pub message_id: i64,
    pub other_message_id: Option<i64>,
    /// The model that wrote `message_id` / `other_message_id`.
    pub reply_model: Option<String>,
    pub other_model: Option<String>,
    /// Single: 1–10.
    pub score: Option<i64>,
    /// Pairwise, `message_id` shown first.
    pub winner_ab: Option<Side>,
    /// Pairwise, the positions swapped (already mapped back: `a` is still `message_id`).
    pub winner_ba: Option<Side>,
    pub consistent: Option<bool>,
    /// a, b, tie or inconsistent (the two orders disagree).
    pub winner: Option<Side>,
    pub reasoning: Option<String>,
    pub reasoning_ba: Option<String>,
    /// What the judge answered, verbatim (the first order for a pair).
    pub raw: Option<String>,
    pub raw_ba: Option<String>,
    pub error_kind: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
}

/// A verdict to store (the id, rubric name and reply models are filled in by the database).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct NewVerdict {
    pub rubric_id: i64,
    pub judge_model: String,
    /// Stored only when it differs from `judge_model`.
    pub served_model: Option<String>,
    pub judge_profile_id: Option<i64>,
    pub message_id: i64,
    pub other_message_id: Option<i64>,
    pub score: Option<i64>,
    pub winner_ab: Option<Side>,
    pub winner_ba: Option<Side>,
    pub consistent: Option<bool>,
    pub winner: Option<Side>,
    pub reasoning: Option<String>,
    pub reasoning_ba: Option<String>,
    pub raw: Option<String>,
    pub raw_ba: Option<String>,
    pub error_kind: Option<String>,
    pub error: Option<String>,
}

/// SQL: whether the message whose id is in column `id` is a reply of an arena round not voted on
/// yet. Its model stays hidden until the vote: in lists, exports and verdicts alike.
pub(crate) fn in_unvoted_arena(id: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM battles b WHERE b.source = 'arena' AND b.winner IS NULL \
         AND {id} IN (b.reply_a, b.reply_b))"
    )
}

/// The verdict columns (`verdict_from_row`); a reply's model is NULL while its arena round is
/// not voted on.
static VERDICT_SELECT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT v.id, v.kind, v.rubric_id, r.name, r.version, v.judge_model,
        v.judge_profile_id, v.message_id, v.other_message_id,
        CASE WHEN {} THEN NULL ELSE ma.model END, CASE WHEN {} THEN NULL ELSE mb.model END, v.score,
        v.winner_ab, v.winner_ba, v.consistent, v.winner, v.reasoning, v.reasoning_ba, v.raw,
        v.raw_ba, v.error_kind, v.error, v.created_at, v.served_model
    FROM judge_verdicts v
    JOIN rubrics r ON r.id = v.rubric_id
    JOIN messages ma ON ma.id = v.message_id
    LEFT JOIN messages mb ON mb.id = v.other_message_id",
        in_unvoted_arena("ma.id"),
        in_unvoted_arena("mb.id")
    )
});

fn verdict_from_row(r: &Row) -> rusqlite::Result<Verdict> {
    let side = |i: usize, column: &str| super::stored_opt(r, i, column, |s| Side::parse(s).ok());
    Ok(Verdict {
        id: r.get(0)?,
        kind: super::stored(r, 1, "judge_verdicts.kind", JudgeKind::from_stored)?,
        rubric_id: r.get(2)?,
        rubric_name: r.get(3)?,
        rubric_version: r.get(4)?,
        judge_model: r.get(5)?,
        judge_profile_id: r.get(6)?,
        message_id: r.get(7)?,
        other_message_id: r.get(8)?,
        reply_model: r.get(9)?,
        other_model: r.get(10)?,
        score: r.get(11)?,
        winner_ab: side(12, "judge_verdicts.winner_ab")?,
        winner_ba: side(13, "judge_verdicts.winner_ba")?,
        consistent: r.get::<_, Option<i64>>(14)?.map(|c| c != 0),
        winner: side(15, "judge_verdicts.winner")?,
        reasoning: r.get(16)?,
        reasoning_ba: r.get(17)?,
        raw: r.get(18)?,
        raw_ba: r.get(19)?,
        error_kind: r.get(20)?,
        error: r.get(21)?,
        created_at: r.get(22)?,
        served_model: r.get(23)?,
    })
}

pub(crate) fn insert_verdict(conn: &Connection, v: &NewVerdict) -> Result<Verdict> {
    let kind = match v.other_message_id {
        Some(_) => JudgeKind::Pairwise,
        None => JudgeKind::Single,
    };
    conn.execute(
        "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, judge_profile_id, message_id,
             other_message_id, score, winner_ab, winner_ba, consistent, winner, reasoning,
             reasoning_ba, raw, raw_ba, error_kind, error, created_at, served_model)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19)",
        params![
            kind.as_str(),
            v.rubric_id,
            v.judge_model,
            v.judge_profile_id,
            v.message_id,
            v.other_message_id,
            v.score,
            v.winner_ab.map(Side::as_str),
            v.winner_ba.map(Side::as_str),
            v.consistent.map(i64::from),
            v.winner.map(Side::as_str),
            v.reasoning,
            v.reasoning_ba,
            v.raw,
            v.raw_ba,
            v.error_kind,
            v.error.as_deref().map(|m| redact(m, None)),
            now_ms(),
            v.served_model
                .as_deref()
                .filter(|served| *served != v.judge_model),
        ],
    )?;
    verdict(conn, conn.last_insert_rowid())
}

pub fn verdict(conn: &Connection, id: i64) -> Result<Verdict> {
    conn.query_row(
        &format!("{} WHERE v.id = ?1", *VERDICT_SELECT),
        [id],
        verdict_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("verdict {id}")))
}

/// Every verdict that involves a reply (as the graded one or either side of a pair), newest first.
pub fn verdicts_of(conn: &Connection, message_id: i64) -> Result<Vec<Verdict>> {
    let mut st = conn.prepare_cached(&format!(
        "{} WHERE v.message_id = ?1 OR v.other_message_id = ?1
         ORDER BY v.created_at DESC, v.id DESC",
        *VERDICT_SELECT
    ))?;
    let rows = st
        .query_map([message_id], verdict_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The most verdicts [`list_verdicts`] returns, newest first.
pub const MAX_VERDICTS_LISTED: usize = 500;
/// The most replies whose verdicts [`verdicts_of_messages`] reads at once.
pub const MAX_MESSAGES_ASKED: usize = 1_000;

/// The most verdicts [`verdicts_of_messages`] returns.
pub const MAX_VERDICTS_READ: usize = 5_000;

/// Which verdicts the ratings view lists: made since a time, and about a reply rated with a tag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictFilter {
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default)]
    pub kind: Option<JudgeKind>,
}

/// Verdicts passing the filter, newest first, at most [`MAX_VERDICTS_LISTED`]. A verdict about
/// an arena reply not voted on yet is left out (it would name the hidden model).
pub fn list_verdicts(conn: &Connection, f: &VerdictFilter) -> Result<Vec<Verdict>> {
    let mut st = conn.prepare_cached(&format!(
        "{}
         WHERE (?1 IS NULL OR EXISTS (
                 SELECT 1 FROM ratings r, json_each(r.tags) t
                 WHERE r.message_id IN (v.message_id, v.other_message_id) AND t.value = ?1))
           AND (?2 IS NULL OR v.created_at >= ?2)
           AND (?3 IS NULL OR v.kind = ?3)
           AND NOT {} AND NOT {}
         ORDER BY v.created_at DESC, v.id DESC LIMIT ?4",
        *VERDICT_SELECT,
        in_unvoted_arena("v.message_id"),
        in_unvoted_arena("v.other_message_id")
    ))?;
    let tag = f.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let rows = st
        .query_map(
            params![
                tag,
                f.since,
                f.kind.map(JudgeKind::as_str),
                MAX_VERDICTS_LISTED as i64
            ],
            verdict_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Every verdict about any of these replies (graded alone or either side of a pair), newest
/// first, each once; at most [`MAX_MESSAGES_ASKED`] ids at a time and [`MAX_VERDICTS_READ`]
/// verdicts.
pub fn verdicts_of_messages(conn: &Connection, ids: &[i64]) -> Result<Vec<Verdict>> {
    if ids.len() > MAX_MESSAGES_ASKED {
        return Err(Error::invalid(format!(
            "Verdicts are read for at most {MAX_MESSAGES_ASKED} replies at a time."
        )));
    }
    let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    let mut st = conn.prepare_cached(&format!(
        "{}
         WHERE v.message_id IN (SELECT value FROM json_each(?1))
            OR v.other_message_id IN (SELECT value FROM json_each(?1))
         ORDER BY v.created_at DESC, v.id DESC LIMIT ?2",
        *VERDICT_SELECT
    ))?;
    let rows = st
        .query_map(params![json, MAX_VERDICTS_READ as i64], verdict_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The finished replies of a conversation (every branch) with their parents, oldest first.
pub(crate) fn replies_of(
    conn: &Connection,
    conversation_id: i64,
) -> Result<Vec<(i64, Option<i64>)>> {
    let mut st = conn.prepare_cached(
        "SELECT id, parent_id FROM messages
         WHERE conversation_id = ?1 AND role = 'assistant' AND status = 'done' ORDER BY id",
    )?;
    let rows = st
        .query_map([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests;
