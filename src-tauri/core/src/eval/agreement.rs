//! How well a judge agrees with the user: for every judge model and rubric, Spearman's ρ between
//! the user's 1–5 scores and the judge's 1–10 scores of the same replies, and for pairs the user
//! voted on (arena votes and choices), the percentage of agreement and Cohen's κ with the judge's
//! pairwise verdicts (an inconsistent verdict counts as a tie).

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;
use crate::eval::stats::{self, PairwiseAgreement, PairwiseLabel, ScoreAgreement};
use crate::outcome::Outcome;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeAgreement {
    pub judge_model: String,
    pub rubric: String,
    pub rubric_version: i64,
    pub scores: ScoreAgreement,
    pub pairwise: PairwiseAgreement,
}

fn label(w: &str) -> Option<PairwiseLabel> {
    Outcome::parse(w).ok().map(Outcome::agreement_label)
}

/// One row per (judge model, rubric) that has judged anything the user also rated or voted on.
pub(crate) fn by_judge(conn: &Connection) -> Result<Vec<JudgeAgreement>> {
    type Key = (String, String, i64);
    let mut scores: BTreeMap<Key, Vec<(f64, f64)>> = BTreeMap::new();
    let mut pairs: BTreeMap<Key, Vec<(PairwiseLabel, PairwiseLabel)>> = BTreeMap::new();
    // The newest successful single verdict per (judge, rubric, reply), beside the user's score.
    let mut st = conn.prepare(
        "SELECT v.judge_model, r.name, r.version, h.score, v.score
         FROM judge_verdicts v JOIN rubrics r ON r.id = v.rubric_id
         JOIN ratings h ON h.message_id = v.message_id
         WHERE v.kind = 'single' AND v.score IS NOT NULL AND h.score IS NOT NULL
           AND v.id = (SELECT max(id) FROM judge_verdicts w WHERE w.kind = 'single'
                       AND w.score IS NOT NULL AND w.message_id = v.message_id
                       AND w.judge_model = v.judge_model AND w.rubric_id = v.rubric_id)",
    )?;
    for row in st.query_map([], |r| {
        Ok((
            (
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ),
            r.get::<_, i64>(3)? as f64,
            r.get::<_, i64>(4)? as f64,
        ))
    })? {
        let (key, human, judge) = row?;
        scores.entry(key).or_default().push((human, judge));
    }
    // Pairs: a voted battle and the newest pairwise verdict on the same two replies (either way round).
    let mut st = conn.prepare(
        "SELECT v.judge_model, r.name, r.version, b.winner, v.winner, v.message_id = b.reply_a
         FROM battles b JOIN judge_verdicts v
           ON v.kind = 'pairwise' AND v.winner IS NOT NULL
          AND ((v.message_id = b.reply_a AND v.other_message_id = b.reply_b)
            OR (v.message_id = b.reply_b AND v.other_message_id = b.reply_a))
         JOIN rubrics r ON r.id = v.rubric_id
         WHERE b.winner IS NOT NULL
           AND v.id = (SELECT max(id) FROM judge_verdicts w WHERE w.kind = 'pairwise'
                       AND w.winner IS NOT NULL AND w.judge_model = v.judge_model
                       AND w.rubric_id = v.rubric_id
                       AND w.message_id IN (b.reply_a, b.reply_b)
                       AND w.other_message_id IN (b.reply_a, b.reply_b))",
    )?;
    for row in st.query_map([], |r| {
        Ok((
            (
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ),
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, bool>(5)?,
        ))
    })? {
        let (key, human, judge, same_order) = row?;
        if let (Some(h), Some(j)) = (label(&human), label(&judge)) {
            let j = if same_order { j } else { j.flip() };
            pairs.entry(key).or_default().push((h, j));
        }
    }
    let keys: std::collections::BTreeSet<Key> =
        scores.keys().chain(pairs.keys()).cloned().collect();
    Ok(keys
        .into_iter()
        .map(|key| JudgeAgreement {
            scores: stats::score_agreement(scores.get(&key).map(Vec::as_slice).unwrap_or_default()),
            pairwise: stats::pairwise_agreement(
                pairs.get(&key).map(Vec::as_slice).unwrap_or_default(),
            ),
            judge_model: key.0,
            rubric: key.1,
            rubric_version: key.2,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, Outcome, ReplyOrigin};
    use crate::db::{conversations, Db};
    use crate::eval::ratings::{self, Rating};
    use rusqlite::params;

    #[test]
    fn scores_and_pairs_are_compared_per_judge_and_rubric() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = messages::insert_user(c, conv.id, None, "q")?;
            let mut ids = Vec::new();
            for i in 0..4 {
                let origin = ReplyOrigin { model: format!("m{i}"), ..Default::default() };
                let id = messages::insert_reply_placeholder(c, &u, &origin)?;
                messages::finish(c, id, &Outcome { content: "x".into(), ..Default::default() })?;
                ids.push(id);
            }
            let rubric: i64 = c.query_row("SELECT id FROM rubrics WHERE name = 'default'", [], |r| r.get(0))?;
            let pair_rubric: i64 =
                c.query_row("SELECT id FROM rubrics WHERE name = 'default-pairwise'", [], |r| r.get(0))?;
            // Human 1..4 against judge 2, 5, 4, 9: Spearman 0.8 (ranks 1 2 3 4 vs 1 3 2 4).
            for (id, (human, judge)) in ids.iter().zip([(1, 2), (2, 5), (3, 4), (4, 9)]) {
                ratings::set(c, *id, Rating { score: Some(human), ..Default::default() })?;
                c.execute(
                    "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, score, created_at)
                     VALUES ('single', ?1, 'judge-x', ?2, ?3, 0)",
                    params![rubric, id, judge],
                )?;
            }
            // Two voted pairs; the judge agrees on one (stored the other way round) and not the other.
            let battle = |a: i64, b: i64, w: &str| {
                c.execute(
                    "INSERT INTO battles(source, reply_a, reply_b, model_a, model_b, winner, created_at, voted_at)
                     VALUES ('arena', ?1, ?2, 'ma', 'mb', ?3, 0, 0)",
                    params![a, b, w],
                )
            };
            battle(ids[0], ids[1], "a")?;
            battle(ids[2], ids[3], "tie")?;
            let verdict = |a: i64, b: i64, w: &str| {
                c.execute(
                    "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, other_message_id,
                                                winner, consistent, created_at)
                     VALUES ('pairwise', ?1, 'judge-x', ?2, ?3, ?4, 1, 0)",
                    params![pair_rubric, a, b, w],
                )
            };
            verdict(ids[1], ids[0], "b")?; // = the user's "a", seen the other way round
            verdict(ids[2], ids[3], "a")?; // the user said tie
            let rows = by_judge(c)?;
            assert_eq!(rows.len(), 2, "{rows:?}");
            let single = rows.iter().find(|r| r.rubric == "default").unwrap();
            assert_eq!(single.judge_model, "judge-x");
            assert_eq!(single.scores.items, 4);
            assert!((single.scores.spearman.unwrap() - 0.8).abs() < 1e-12);
            let pair = rows.iter().find(|r| r.rubric == "default-pairwise").unwrap();
            assert_eq!(pair.pairwise.items, 2);
            assert_eq!(pair.pairwise.percent_agreement, Some(0.5));
            // Judged again in the other order, later: only this newest verdict counts (it now
            // disagrees with the user), never both.
            verdict(ids[0], ids[1], "b")?;
            let rows = by_judge(c)?;
            let pair = rows.iter().find(|r| r.rubric == "default-pairwise").unwrap();
            assert_eq!(pair.pairwise.items, 2);
            assert_eq!(pair.pairwise.percent_agreement, Some(0.0));
            Ok(())
        })
        .unwrap();
    }
}
