//! Comparing prompt versions: a line diff of two versions, and each version's scores — the
//! user's ratings and the judge's grades of replies made from it — so the better wording shows.

use rusqlite::Connection;
use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::library;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffLine {
    /// "equal", "delete" (only in the older version) or "insert" (only in the newer).
    pub tag: &'static str,
    pub text: String,
}

/// The line diff from version `from` to version `to` (system prompt first, then the body).
pub fn diff(conn: &Connection, name: &str, from: i64, to: i64) -> Result<Vec<DiffLine>> {
    let versions = library::versions(conn, name)?;
    let pick = |n: i64| {
        versions
            .iter()
            .find(|v| v.version == n)
            .ok_or_else(|| Error::not_found(format!("version {n} of prompt {name}")))
    };
    let (a, b) = (pick(from)?, pick(to)?);
    let text = |v: &library::Version| {
        let mut t = String::new();
        if !v.draft.system_prompt.is_empty() {
            t.push_str("[system] ");
            t.push_str(&v.draft.system_prompt);
            t.push('\n');
        }
        t.push_str(&v.draft.body);
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    let (old, new) = (text(a), text(b));
    Ok(TextDiff::from_lines(&old, &new)
        .iter_all_changes()
        .map(|c| DiffLine {
            tag: match c.tag() {
                ChangeTag::Equal => "equal",
                ChangeTag::Delete => "delete",
                ChangeTag::Insert => "insert",
            },
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionScores {
    pub version: i64,
    /// Messages sent from this version.
    pub uses: i64,
    pub rated: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    pub mean_score: Option<f64>,
    pub judged: i64,
    pub mean_judge_score: Option<f64>,
    /// Evaluation-suite runs that ran this version (`parley://NAME@VERSION`), the newest of them,
    /// and its cells of this version: how many, how many passed.
    pub suite_runs: i64,
    pub suite_latest_run: Option<i64>,
    pub suite_cells: i64,
    pub suite_passed: i64,
}

/// Scores per version, newest first: ratings and judge grades of the replies to messages sent
/// from it, and the suite pass rate of its latest evaluation run (db/suite_prompts.rs).
pub fn scores(conn: &Connection, name: &str) -> Result<Vec<VersionScores>> {
    let p = library::get(conn, name)?;
    let mut st = conn.prepare_cached(
        "SELECT v.version,
            (SELECT count(*) FROM messages u WHERE u.prompt_version_id = v.id),
            (SELECT count(*) FROM ratings r JOIN messages m ON m.id = r.message_id
               JOIN messages u ON u.id = m.parent_id WHERE u.prompt_version_id = v.id),
            (SELECT count(*) FROM ratings r JOIN messages m ON m.id = r.message_id
               JOIN messages u ON u.id = m.parent_id WHERE u.prompt_version_id = v.id AND r.thumb = 1),
            (SELECT count(*) FROM ratings r JOIN messages m ON m.id = r.message_id
               JOIN messages u ON u.id = m.parent_id WHERE u.prompt_version_id = v.id AND r.thumb = -1),
            (SELECT avg(r.score) FROM ratings r JOIN messages m ON m.id = r.message_id
               JOIN messages u ON u.id = m.parent_id WHERE u.prompt_version_id = v.id),
            (SELECT count(*) FROM judge_verdicts j JOIN messages m ON m.id = j.message_id
               JOIN messages u ON u.id = m.parent_id
               WHERE u.prompt_version_id = v.id AND j.kind = 'single' AND j.score IS NOT NULL),
            (SELECT avg(j.score) FROM judge_verdicts j JOIN messages m ON m.id = j.message_id
               JOIN messages u ON u.id = m.parent_id
               WHERE u.prompt_version_id = v.id AND j.kind = 'single' AND j.score IS NOT NULL)
         FROM prompt_versions v WHERE v.prompt_id = ?1 ORDER BY v.version DESC",
    )?;
    let rows = st
        .query_map([p.id], |r| {
            Ok(VersionScores {
                version: r.get(0)?,
                uses: r.get(1)?,
                rated: r.get(2)?,
                thumbs_up: r.get(3)?,
                thumbs_down: r.get(4)?,
                mean_score: r.get(5)?,
                judged: r.get(6)?,
                mean_judge_score: r.get(7)?,
                ..Default::default()
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut rows = rows;
    for runs in crate::db::suite_prompts::by_version(conn, p.id)? {
        if let Some(row) = rows.iter_mut().find(|r| r.version == runs.version) {
            row.suite_runs = runs.runs;
            row.suite_latest_run = Some(runs.latest_run);
            row.suite_cells = runs.cells;
            row.suite_passed = runs.passed;
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, Outcome, ReplyOrigin};
    use crate::db::{conversations, Db};
    use crate::eval::ratings::{self, Rating};
    use crate::prompts::library::Draft;

    #[test]
    fn diff_and_scores_per_version() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let d = |body: &str| Draft {
                title: "t".into(),
                body: body.into(),
                ..Default::default()
            };
            let v1 = library::save(c, "p", d("Line one\nLine two"), "")?
                .latest
                .id;
            let v2 = library::save(c, "p", d("Line one\nLine 2\nLine three"), "")?
                .latest
                .id;
            let lines = diff(c, "p", 1, 2)?;
            let tags: Vec<(&str, &str)> = lines.iter().map(|l| (l.tag, l.text.as_str())).collect();
            assert_eq!(
                tags,
                [
                    ("equal", "Line one"),
                    ("delete", "Line two"),
                    ("insert", "Line 2"),
                    ("insert", "Line three")
                ]
            );
            assert_eq!(diff(c, "p", 1, 7).unwrap_err().kind(), "not_found");
            // Replies to messages sent from v1 rated 5 and 3; one from v2 rated 1.
            let conv = conversations::create(c, None)?;
            for (version, score) in [(v1, 5), (v1, 3), (v2, 1)] {
                let u = messages::insert_user(c, conv.id, None, "q")?;
                c.execute(
                    "UPDATE messages SET prompt_version_id = ?2 WHERE id = ?1",
                    [u.id, version],
                )?;
                let id = messages::insert_reply_placeholder(
                    c,
                    &u,
                    &ReplyOrigin {
                        model: "m".into(),
                        ..Default::default()
                    },
                )?;
                messages::finish(
                    c,
                    id,
                    &Outcome {
                        content: "a".into(),
                        ..Default::default()
                    },
                )?;
                ratings::set(
                    c,
                    id,
                    Rating {
                        score: Some(score),
                        thumb: Some(if score > 2 { 1 } else { -1 }),
                        ..Default::default()
                    },
                )?;
            }
            let s = scores(c, "p")?;
            assert_eq!(s.len(), 2);
            assert_eq!(
                (s[0].version, s[0].uses, s[0].rated, s[0].thumbs_down),
                (2, 1, 1, 1)
            );
            assert_eq!(s[0].mean_score, Some(1.0));
            assert_eq!((s[1].version, s[1].uses, s[1].thumbs_up), (1, 2, 2));
            assert_eq!(s[1].mean_score, Some(4.0));
            assert_eq!(s[1].judged, 0);
            Ok(())
        })
        .unwrap();
    }
}
