//! The ratings export: every rating, arena vote (and choice among replies made together) and judge
//! verdict that passes the filter, as CSV (one row each, a `kind` column) or JSON; times in ISO 8601.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::summary::{rated_replies, to_csv, ExportFormat, RatingFilter};
use crate::db::judging::in_unvoted_arena;
use crate::error::{Error, Result};
use crate::transfer::iso;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vote {
    pub battle_id: i64,
    /// "arena" (blind vote) or "choice" (continued with one of several replies).
    pub source: String,
    pub conversation_id: Option<i64>,
    pub reply_a: Option<i64>,
    pub reply_b: Option<i64>,
    pub model_a: String,
    pub model_b: String,
    pub winner: String,
    pub tags: Vec<String>,
    pub voted_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeVerdict {
    pub verdict_id: i64,
    pub kind: String,
    pub message_id: i64,
    pub conversation_id: i64,
    pub model: String,
    pub other_message_id: Option<i64>,
    pub other_model: Option<String>,
    pub judge_model: String,
    pub rubric: String,
    pub score: Option<i64>,
    pub winner: Option<String>,
    pub reasoning: String,
    pub error: Option<String>,
    pub judged_at: String,
}

/// Votes given (a battle without a winner is not a vote yet), oldest first.
pub fn votes(conn: &Connection, f: &RatingFilter) -> Result<Vec<Vote>> {
    let mut st = conn.prepare_cached(
        "SELECT id, source, conversation_id, reply_a, reply_b, model_a, model_b, winner, tags, voted_at
         FROM battles b WHERE winner IS NOT NULL AND voted_at IS NOT NULL
           AND (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(b.tags) t WHERE t.value = ?1))
           AND (?2 IS NULL OR voted_at >= ?2) AND (?3 IS NULL OR voted_at < ?3)
         ORDER BY voted_at, id",
    )?;
    let rows = st
        .query_map(params![f.tag, f.since, f.until], |r| {
            Ok(Vote {
                battle_id: r.get(0)?,
                source: r.get(1)?,
                conversation_id: r.get(2)?,
                reply_a: r.get(3)?,
                reply_b: r.get(4)?,
                model_a: r.get(5)?,
                model_b: r.get(6)?,
                winner: r.get(7)?,
                tags: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
                voted_at: iso(r.get(9)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The judge's verdicts, oldest first (none when filtering by a tag: verdicts carry no tags).
pub fn verdicts(conn: &Connection, f: &RatingFilter) -> Result<Vec<JudgeVerdict>> {
    if f.tag.is_some() {
        return Ok(Vec::new());
    }
    // A verdict on a reply of an arena round not voted on yet would name its model: left out.
    let mut st = conn.prepare_cached(&format!(
        "SELECT v.id, v.kind, v.message_id, ma.conversation_id, coalesce(ma.model, '?'), v.other_message_id,
                mb.model, v.judge_model, r.name || ' v' || r.version, v.score, v.winner,
                coalesce(v.reasoning, ''), v.error, v.created_at
         FROM judge_verdicts v JOIN rubrics r ON r.id = v.rubric_id
         JOIN messages ma ON ma.id = v.message_id LEFT JOIN messages mb ON mb.id = v.other_message_id
         WHERE (?1 IS NULL OR v.created_at >= ?1) AND (?2 IS NULL OR v.created_at < ?2)
           AND NOT {} AND NOT {}
         ORDER BY v.created_at, v.id",
        in_unvoted_arena("v.message_id"),
        in_unvoted_arena("v.other_message_id")
    ))?;
    let rows = st
        .query_map(params![f.since, f.until], |r| {
            Ok(JudgeVerdict {
                verdict_id: r.get(0)?,
                kind: r.get(1)?,
                message_id: r.get(2)?,
                conversation_id: r.get(3)?,
                model: r.get(4)?,
                other_message_id: r.get(5)?,
                other_model: r.get(6)?,
                judge_model: r.get(7)?,
                rubric: r.get(8)?,
                score: r.get(9)?,
                winner: r.get(10)?,
                reasoning: r.get(11)?,
                error: r.get(12)?,
                judged_at: iso(r.get(13)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// What the export holds, read from the database (formatting it needs no lock).
pub(crate) struct ExportData {
    ratings: Vec<super::summary::RatedReply>,
    votes: Vec<Vote>,
    verdicts: Vec<JudgeVerdict>,
}

/// Reads what passes the filter: ratings, votes and verdicts.
pub(crate) fn export_data(conn: &Connection, f: &RatingFilter) -> Result<ExportData> {
    Ok(ExportData {
        ratings: rated_replies(conn, f)?,
        votes: votes(conn, f)?,
        verdicts: verdicts(conn, f)?,
    })
}

/// The export's text and file extension.
pub fn export_text(
    conn: &Connection,
    f: &RatingFilter,
    format: ExportFormat,
) -> Result<(String, &'static str)> {
    format_export(&export_data(conn, f)?, format)
}

/// The text and file extension of data already read.
pub(crate) fn format_export(
    data: &ExportData,
    format: ExportFormat,
) -> Result<(String, &'static str)> {
    let ExportData {
        ratings,
        votes,
        verdicts,
    } = data;
    match format {
        ExportFormat::Json => {
            let text = serde_json::to_string_pretty(&serde_json::json!({
                "ratings": ratings, "votes": votes, "verdicts": verdicts,
            }))
            .map_err(|e| Error::invalid(e.to_string()))?;
            Ok((text, "json"))
        }
        ExportFormat::Csv => {
            let mut out = to_csv(ratings);
            // Columns: message_id,conversation_id,model,thumb,score,reasons,tags,comment,rated_at,
            // prompt,reply,kind,other_model,winner,judge_model,rubric
            for v in votes {
                let cells = [
                    opt(v.reply_a),
                    opt(v.conversation_id),
                    v.model_a.clone(),
                    String::new(),
                    String::new(),
                    String::new(),
                    v.tags.join("; "),
                    String::new(),
                    v.voted_at.clone(),
                    String::new(),
                    String::new(),
                    format!("vote ({})", v.source),
                    v.model_b.clone(),
                    v.winner.clone(),
                    String::new(),
                    String::new(),
                ];
                out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            for v in verdicts {
                let cells = [
                    v.message_id.to_string(),
                    v.conversation_id.to_string(),
                    v.model.clone(),
                    String::new(),
                    opt(v.score),
                    String::new(),
                    String::new(),
                    v.reasoning.clone(),
                    v.judged_at.clone(),
                    String::new(),
                    String::new(),
                    format!("verdict ({})", v.kind),
                    opt(v.other_model.clone()),
                    opt(v.winner.clone()),
                    v.judge_model.clone(),
                    v.rubric.clone(),
                ];
                out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            Ok((out, "csv"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversations, Db};

    #[test]
    fn the_ratings_export_covers_votes_and_verdicts_with_iso_times() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?.id;
            for (role, model) in [("user", None), ("assistant", Some("m-a")), ("assistant", Some("m-b"))] {
                c.execute(
                    "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at)
                     VALUES (?1, CASE WHEN ?2 = 'user' THEN NULL ELSE 1 END, ?2, 'x', 'done', ?3, 0)",
                    params![conv, role, model],
                )?;
            }
            c.execute(
                "INSERT INTO battles(source, conversation_id, reply_a, reply_b, model_a, model_b, winner, created_at, voted_at)
                 VALUES ('arena', ?1, 2, 3, 'm-a', 'm-b', 'b', 1000, 1700000000000)",
                [conv],
            )?;
            c.execute(
                "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, score, reasoning, created_at)
                 VALUES ('single', 1, 'judge', 2, 7, 'fine, mostly', 1700000001000)",
                [],
            )?;
            let (csv, ext) = export_text(c, &RatingFilter::default(), ExportFormat::Csv)?;
            assert_eq!(ext, "csv");
            let lines: Vec<&str> = csv.lines().collect();
            assert!(lines[0].ends_with("kind,other_model,winner,judge_model,rubric"), "{}", lines[0]);
            assert!(lines[1].contains("2023-11-14T22:13:20Z,,,vote (arena),m-b,b,,"), "{}", lines[1]);
            assert!(lines[2].contains(",\"fine, mostly\",2023-11-14T22:13:21Z,,,verdict (single),,,judge,default v1"), "{}", lines[2]);
            let (json, _) = export_text(c, &RatingFilter::default(), ExportFormat::Json)?;
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["votes"][0]["winner"], "b");
            assert_eq!(v["verdicts"][0]["score"], 7);
            Ok(())
        })
        .unwrap();
    }
}
