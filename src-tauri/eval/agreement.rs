//! How well a judge agrees with the user: for every judge model and rubric, Spearman's ρ between
//! the user's 1–5 scores and the judge's 1–10 scores of the same replies, and for pairs the user
//! voted on (arena votes and choices), the percentage of agreement and Cohen's κ with the judge's
//! pairwise verdicts (an inconsistent verdict counts as a tie).

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::Result;
use crate::eval::stats::{self, PairwiseAgreement, PairwiseLabel, ScoreAgreement};

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
    match w {
        "a" => Some(PairwiseLabel::A),
        "b" => Some(PairwiseLabel::B),
        "tie" | "inconsistent" | "bad" => Some(PairwiseLabel::Tie),
        _ => None,
    }
}

fn flip(l: PairwiseLabel) -> PairwiseLabel {
    match l {
        PairwiseLabel::A => PairwiseLabel::B,
        PairwiseLabel::B => PairwiseLabel::A,
        PairwiseLabel::Tie => PairwiseLabel::Tie,
    }
}

/// One row per (judge model, rubric) that has judged anything the user also rated or voted on.
pub fn by_judge(conn: &Connection) -> Result<Vec<JudgeAgreement>> {
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
                       AND w.rubric_id = v.rubric_id AND w.message_id = v.message_id
                       AND w.other_message_id = v.other_message_id)",
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
            let j = if same_order { j } else { flip(j) };
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
