//! Human ratings of replies: thumbs, a 1–5 score, reasons from an editable list, a comment and tags.
//! Changing a rating keeps the earlier state in `rating_history`.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::db::now_ms;
use crate::error::{Error, Result};

pub(crate) const MAX_REASONS: usize = 20;
pub(crate) const MAX_TAGS: usize = 20;
pub(crate) const MAX_LABEL_CHARS: usize = 60;
pub(crate) const MAX_COMMENT_BYTES: usize = 20_000;
pub(crate) const MAX_REFERENCE_BYTES: usize = 200_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rating {
    /// 1 = 👍, -1 = 👎.
    #[serde(default)]
    pub thumb: Option<i64>,
    /// 1–5.
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub comment: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The answer the reply should have given (optional): the reply is scored against it.
    #[serde(default)]
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingState {
    pub message_id: i64,
    /// None when the reply is not rated (or the rating was cleared).
    pub rating: Option<Rating>,
    pub updated_at: Option<i64>,
    /// Earlier states, newest first.
    pub history: Vec<PastRating>,
    /// The reply scored against the rating's reference answer, when there is one.
    pub reference_score: Option<crate::eval::metrics::ReferenceScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PastRating {
    #[serde(flatten)]
    pub rating: Rating,
    pub rated_at: i64,
}

/// Trims, drops empty and duplicate labels, keeps order.
fn clean_labels(labels: Vec<String>, max: usize, what: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for l in labels {
        let l: String = l.trim().chars().filter(|c| !c.is_control()).collect();
        if l.is_empty() || out.contains(&l) {
            continue;
        }
        if l.chars().count() > MAX_LABEL_CHARS {
            return Err(Error::invalid(format!(
                "A {what} is longer than {MAX_LABEL_CHARS} characters."
            )));
        }
        out.push(l);
    }
    if out.len() > max {
        return Err(Error::invalid(format!("At most {max} {what}s.")));
    }
    Ok(out)
}

impl Rating {
    pub(crate) fn validate(self) -> Result<Rating> {
        if self.thumb.is_some_and(|t| t != 1 && t != -1) {
            return Err(Error::invalid("Thumbs are up (1) or down (-1)."));
        }
        if self.score.is_some_and(|s| !(1..=5).contains(&s)) {
            return Err(Error::invalid("The score is from 1 to 5."));
        }
        if self.comment.len() > MAX_COMMENT_BYTES {
            return Err(Error::invalid(format!(
                "The comment is longer than {MAX_COMMENT_BYTES} bytes."
            )));
        }
        if self.reference.len() > MAX_REFERENCE_BYTES {
            return Err(Error::invalid(format!(
                "The reference answer is longer than {MAX_REFERENCE_BYTES} bytes."
            )));
        }
        Ok(Rating {
            thumb: self.thumb,
            score: self.score,
            reasons: clean_labels(self.reasons, MAX_REASONS, "reason")?,
            comment: self.comment.replace('\0', "").trim_end().to_string(),
            tags: clean_labels(self.tags, MAX_TAGS, "tag")?,
            reference: self.reference.replace('\0', "").trim().to_string(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.thumb.is_none()
            && self.score.is_none()
            && self.reasons.is_empty()
            && self.comment.is_empty()
            && self.tags.is_empty()
            && self.reference.is_empty()
    }
}

fn json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse(v: String) -> Vec<String> {
    serde_json::from_str(&v).unwrap_or_default()
}

/// The rating columns in this order, starting at column `at`:
const RATING_COLUMNS: &str = "thumb, score, reasons, comment, tags, reference";

fn rating_from(r: &rusqlite::Row, at: usize) -> rusqlite::Result<Rating> {
    Ok(Rating {
        thumb: r.get(at)?,
        score: r.get(at + 1)?,
        reasons: parse(r.get(at + 2)?),
        comment: r.get(at + 3)?,
        tags: parse(r.get(at + 4)?),
        reference: r.get(at + 5)?,
    })
}

fn current(conn: &Connection, message_id: i64) -> Result<Option<(Rating, i64)>> {
    Ok(conn
        .query_row(
            &format!("SELECT {RATING_COLUMNS}, updated_at FROM ratings WHERE message_id = ?1"),
            [message_id],
            |r| Ok((rating_from(r, 0)?, r.get(6)?)),
        )
        .optional()?)
}

/// The rating of a reply with its history.
pub fn get(conn: &Connection, message_id: i64) -> Result<RatingState> {
    let now = current(conn, message_id)?;
    let mut st = conn.prepare_cached(
        &format!(
            "SELECT {RATING_COLUMNS}, rated_at FROM rating_history WHERE message_id = ?1 ORDER BY id DESC"
        ),
    )?;
    let history = st
        .query_map([message_id], |r| {
            Ok(PastRating {
                rating: rating_from(r, 0)?,
                rated_at: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let reference_score = match now.as_ref().filter(|(r, _)| !r.reference.is_empty()) {
        Some((r, _)) => {
            let content: String = conn.query_row(
                "SELECT content FROM messages WHERE id = ?1",
                [message_id],
                |row| row.get(0),
            )?;
            Some(crate::eval::metrics::reference_score(
                &content,
                &r.reference,
            ))
        }
        None => None,
    };
    Ok(RatingState {
        message_id,
        updated_at: now.as_ref().map(|(_, at)| *at),
        rating: now.map(|(r, _)| r),
        history,
        reference_score,
    })
}

/// Rates a reply (an assistant message). The previous rating, if any, goes to the history; an
/// empty rating clears it (the history keeps what it was).
pub fn set(conn: &mut Connection, message_id: i64, rating: Rating) -> Result<RatingState> {
    let rating = rating.validate()?;
    let tx = conn.transaction()?;
    let role: Option<String> = tx
        .query_row(
            "SELECT role FROM messages WHERE id = ?1",
            [message_id],
            |r| r.get(0),
        )
        .optional()?;
    match role.as_deref() {
        None => return Err(Error::not_found(format!("message {message_id}"))),
        Some("assistant") => {}
        Some(_) => return Err(Error::invalid("Only replies can be rated.")),
    }
    if let Some((old, at)) = current(&tx, message_id)? {
        if old == rating {
            drop(tx);
            return get(conn, message_id);
        }
        tx.execute(
            "INSERT INTO rating_history(message_id, thumb, score, reasons, comment, tags, rated_at, reference)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                message_id,
                old.thumb,
                old.score,
                json(&old.reasons),
                old.comment,
                json(&old.tags),
                at,
                old.reference
            ],
        )?;
    }
    if rating.is_empty() {
        tx.execute("DELETE FROM ratings WHERE message_id = ?1", [message_id])?;
    } else {
        tx.execute(
            "INSERT INTO ratings(message_id, thumb, score, reasons, comment, tags, updated_at, reference)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(message_id) DO UPDATE SET thumb = ?2, score = ?3, reasons = ?4, comment = ?5,
                 tags = ?6, updated_at = ?7, reference = ?8",
            params![
                message_id,
                rating.thumb,
                rating.score,
                json(&rating.reasons),
                rating.comment,
                json(&rating.tags),
                now_ms(),
                rating.reference
            ],
        )?;
    }
    tx.commit()?;
    get(conn, message_id)
}

/// The ratings of these messages only (a page of a long conversation).
pub(crate) fn for_messages(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, Rating>> {
    let list = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let mut st = conn.prepare_cached(
        "SELECT r.message_id, r.thumb, r.score, r.reasons, r.comment, r.tags, r.reference FROM ratings r
         WHERE r.message_id IN (SELECT value FROM json_each(?1))",
    )?;
    let rows = st
        .query_map([list], |r| Ok((r.get::<_, i64>(0)?, rating_from(r, 1)?)))?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(rows)
}

/// The reasons offered when rating, in order.
pub fn reasons(conn: &Connection) -> Result<Vec<String>> {
    let mut st =
        conn.prepare_cached("SELECT reason FROM rating_reasons ORDER BY position, reason")?;
    let rows = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

/// Replaces the list of reasons (ratings already given keep theirs).
pub(crate) fn set_reasons(conn: &mut Connection, list: Vec<String>) -> Result<Vec<String>> {
    let list = clean_labels(list, 50, "reason")?;
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM rating_reasons", [])?;
    for (i, r) in list.iter().enumerate() {
        tx.execute(
            "INSERT INTO rating_reasons(reason, position) VALUES (?1, ?2)",
            params![r, i as i64],
        )?;
    }
    tx.commit()?;
    reasons(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, ReplyOrigin};
    use crate::db::{conversations, Db};

    fn reply(c: &mut Connection) -> (i64, i64) {
        let conv = conversations::create(c, None).unwrap();
        let u = messages::insert_user(c, conv.id, None, "q").unwrap();
        let origin = ReplyOrigin {
            model: "m".into(),
            ..Default::default()
        };
        (
            u.id,
            messages::insert_reply_placeholder(c, &u, &origin).unwrap(),
        )
    }

    #[test]
    fn a_changed_rating_keeps_its_history_and_only_replies_are_rated() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let (user, id) = reply(c);
            let first = Rating {
                thumb: Some(1),
                score: Some(4),
                reasons: vec![" accurate ".into(), "accurate".into(), "".into()],
                comment: "good".into(),
                tags: vec!["math".into()],
                reference: " 42 ".into(),
            };
            let st = set(c, id, first)?;
            let r = st.rating.clone().unwrap();
            assert_eq!(r.reasons, ["accurate"]);
            assert_eq!(r.reference, "42");
            assert!(st.history.is_empty());
            // The same again adds no history.
            assert!(set(c, id, r.clone())?.history.is_empty());
            let second = Rating {
                thumb: Some(-1),
                score: Some(2),
                ..r.clone()
            };
            let st = set(c, id, second)?;
            assert_eq!(st.rating.as_ref().unwrap().score, Some(2));
            assert_eq!(st.history.len(), 1);
            assert_eq!(st.history[0].rating, r);
            // Clearing keeps the history too.
            let st = set(c, id, Rating::default())?;
            assert!(st.rating.is_none());
            assert_eq!(st.history.len(), 2);
            assert_eq!(for_messages(c, &[id])?.len(), 0);
            for bad in [
                Rating {
                    thumb: Some(0),
                    ..Default::default()
                },
                Rating {
                    score: Some(6),
                    ..Default::default()
                },
                Rating {
                    tags: vec!["x".repeat(61)],
                    ..Default::default()
                },
            ] {
                assert_eq!(set(c, id, bad).unwrap_err().kind(), "invalid");
            }
            assert_eq!(
                set(c, user, Rating::default()).unwrap_err().kind(),
                "invalid"
            );
            assert_eq!(
                set(c, 999, Rating::default()).unwrap_err().kind(),
                "not_found"
            );
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn the_reason_list_is_editable() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            assert!(reasons(c)?.contains(&"accurate".to_string()));
            let list = set_reasons(c, vec!["b".into(), "a".into(), "b".into()])?;
            assert_eq!(list, ["b", "a"]);
            Ok(())
        })
        .unwrap();
    }
}
