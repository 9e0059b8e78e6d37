//! Ratings per model: how many, thumbs, the 1–5 distribution and mean, a weekly trend, and the
//! tags used; and every rating as rows for export (CSV or JSON).

use std::collections::BTreeMap;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use crate::db::judging::in_unvoted_arena;
use crate::error::Result;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatingFilter {
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default)]
    pub until: Option<i64>,
    /// The day the user's weeks start on, as `Intl.Locale`'s `weekInfo.firstDay`: 1 = Monday …
    /// 7 = Sunday (`None`: Monday, ISO 8601). The trend's weeks start there, at local midnight.
    #[serde(default)]
    pub first_day: Option<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRatings {
    pub model: String,
    pub rated: i64,
    pub thumbs_up: i64,
    pub thumbs_down: i64,
    /// How many replies got 1, 2, 3, 4 and 5.
    pub scores: [i64; 5],
    pub mean_score: Option<f64>,
    /// (week start in ms since the epoch: local midnight of the user's first day of the week,
    /// mean score that week, replies scored).
    pub trend: Vec<(i64, f64, i64)>,
    /// Tag → how many of this model's rated replies carry it.
    pub tags: BTreeMap<String, i64>,
}

/// One rated reply, as exported.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RatedReply {
    pub message_id: i64,
    pub conversation_id: i64,
    pub model: String,
    pub thumb: Option<i64>,
    pub score: Option<i64>,
    pub reasons: Vec<String>,
    pub tags: Vec<String>,
    pub comment: String,
    pub rated_at: i64,
    pub prompt: String,
    pub reply: String,
}

/// The start of the week holding `at_ms` (ms since the epoch), at midnight in `tz`, for weeks
/// starting on `first_day` (1 = Monday … 7 = Sunday).
pub fn week_start<Tz: chrono::TimeZone>(tz: &Tz, at_ms: i64, first_day: u8) -> i64 {
    use chrono::Datelike;
    let Some(t) = tz.timestamp_millis_opt(at_ms).earliest() else {
        return at_ms;
    };
    let date = t.date_naive();
    let first = u32::from(first_day.clamp(1, 7));
    let back = (date.weekday().number_from_monday() + 7 - first) % 7;
    let start = date - chrono::Days::new(u64::from(back));
    start
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest())
        .map_or(at_ms, |d| d.timestamp_millis())
}

/// Every current rating that passes the filter, oldest first.
pub(crate) fn rated_replies(conn: &Connection, f: &RatingFilter) -> Result<Vec<RatedReply>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT m.id, m.conversation_id, coalesce(m.model, '?'), r.thumb, r.score, r.reasons, r.tags,
                r.comment, r.updated_at, coalesce(u.content, ''), m.content
         FROM ratings r JOIN messages m ON m.id = r.message_id
         LEFT JOIN messages u ON u.id = m.parent_id
         WHERE (?1 IS NULL OR EXISTS (SELECT 1 FROM json_each(r.tags) t WHERE t.value = ?1))
           AND (?2 IS NULL OR r.updated_at >= ?2) AND (?3 IS NULL OR r.updated_at < ?3)
           -- an arena reply not voted on yet keeps its model hidden, even here
           AND NOT {}
         ORDER BY r.updated_at, m.id",
        in_unvoted_arena("m.id")
    ))?;
    let parse = |s: String| -> Vec<String> { serde_json::from_str(&s).unwrap_or_default() };
    let rows = st
        .query_map(params![f.tag, f.since, f.until], |r| {
            Ok(RatedReply {
                message_id: r.get(0)?,
                conversation_id: r.get(1)?,
                model: r.get(2)?,
                thumb: r.get(3)?,
                score: r.get(4)?,
                reasons: parse(r.get(5)?),
                tags: parse(r.get(6)?),
                comment: r.get(7)?,
                rated_at: r.get(8)?,
                prompt: r.get(9)?,
                reply: r.get(10)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Ratings per model, most rated first.
pub(crate) fn by_model(conn: &Connection, f: &RatingFilter) -> Result<Vec<ModelRatings>> {
    // Per model: its totals, and per week (sum of scores, how many).
    type Weeks = BTreeMap<i64, (f64, i64)>;
    let mut models: BTreeMap<String, (ModelRatings, Weeks)> = BTreeMap::new();
    for r in rated_replies(conn, f)? {
        let (m, weeks) = models.entry(r.model.clone()).or_insert_with(|| {
            (
                ModelRatings {
                    model: r.model.clone(),
                    ..Default::default()
                },
                BTreeMap::new(),
            )
        });
        m.rated += 1;
        match r.thumb {
            Some(1) => m.thumbs_up += 1,
            Some(-1) => m.thumbs_down += 1,
            _ => {}
        }
        if let Some(s) = r.score.filter(|s| (1..=5).contains(s)) {
            m.scores[(s - 1) as usize] += 1;
            let w = weeks
                .entry(week_start(
                    &chrono::Local,
                    r.rated_at,
                    f.first_day.unwrap_or(1),
                ))
                .or_default();
            w.0 += s as f64;
            w.1 += 1;
        }
        for t in r.tags {
            *m.tags.entry(t).or_default() += 1;
        }
    }
    let mut out: Vec<ModelRatings> = models
        .into_values()
        .map(|(mut m, weeks)| {
            let n: i64 = m.scores.iter().sum();
            let total: i64 = m
                .scores
                .iter()
                .enumerate()
                .map(|(i, c)| (i as i64 + 1) * c)
                .sum();
            m.mean_score = (n > 0).then(|| total as f64 / n as f64);
            m.trend = weeks
                .into_iter()
                .map(|(week, (sum, count))| (week, sum / count as f64, count))
                .collect();
            m
        })
        .collect();
    out.sort_by(|a, b| b.rated.cmp(&a.rated).then_with(|| a.model.cmp(&b.model)));
    Ok(out)
}

/// CSV with a header row (RFC 4180 quoting; lists joined with "; ").
pub(crate) fn to_csv(rows: &[RatedReply]) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from(
        "message_id,conversation_id,model,thumb,score,reasons,tags,comment,rated_at,prompt,reply,\
         kind,other_model,winner,judge_model,rubric\r\n",
    );
    for r in rows {
        let cells = [
            r.message_id.to_string(),
            r.conversation_id.to_string(),
            r.model.clone(),
            r.thumb.map(|t| t.to_string()).unwrap_or_default(),
            r.score.map(|s| s.to_string()).unwrap_or_default(),
            r.reasons.join("; "),
            r.tags.join("; "),
            r.comment.clone(),
            crate::transfer::iso(r.rated_at),
            r.prompt.clone(),
            r.reply.clone(),
            "rating".into(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Writes the export already read (ratings, votes, verdicts) to a new file in `dir` (`parley-ratings-<ms>.csv|json`, never
/// overwriting) and returns its path. No database needed: run it outside the lock.
pub(crate) fn export_rows(
    data: &super::export::ExportData,
    format: ExportFormat,
    dir: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let (text, ext) = super::export::format_export(data, format)?;
    crate::exports::write_new_file(dir, "parley-ratings", ext, &text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, Outcome, ReplyOrigin};
    use crate::db::{conversations, Db};
    use crate::eval::export::export_data;
    use crate::eval::ratings::{self, Rating};

    #[test]
    fn weeks_start_on_the_users_first_day_at_local_midnight() {
        use chrono::{FixedOffset, TimeZone};
        let shanghai = FixedOffset::east_opt(8 * 3600).unwrap();
        let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
        let ms = |tz: &FixedOffset, y, m, d, h| {
            tz.with_ymd_and_hms(y, m, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        // Wednesday 3 December 2025, 10:00: Monday the 1st in China, Sunday the 30th in the US.
        let wed = ms(&shanghai, 2025, 12, 3, 10);
        assert_eq!(week_start(&shanghai, wed, 1), ms(&shanghai, 2025, 12, 1, 0));
        let wed = ms(&new_york, 2025, 12, 3, 10);
        assert_eq!(
            week_start(&new_york, wed, 7),
            ms(&new_york, 2025, 11, 30, 0)
        );
        // Not the epoch's Thursday; the first day itself starts its own week.
        let mon = ms(&shanghai, 2025, 12, 1, 0);
        assert_eq!(week_start(&shanghai, mon, 1), mon);
        let sun = ms(&new_york, 2025, 11, 30, 23);
        assert_eq!(
            week_start(&new_york, sun, 7),
            ms(&new_york, 2025, 11, 30, 0)
        );
        assert_eq!(
            week_start(&new_york, sun, 1),
            ms(&new_york, 2025, 11, 24, 0)
        );
    }

    #[test]
    fn ratings_are_summed_per_model_and_exported() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = messages::insert_user(c, conv.id, None, "say \"hi\", please")?;
            let mut reply = |model: &str, rating: Rating| -> Result<()> {
                let origin = ReplyOrigin {
                    model: model.into(),
                    ..Default::default()
                };
                let id = messages::insert_reply_placeholder(c, &u, &origin)?;
                messages::finish(
                    c,
                    id,
                    &Outcome {
                        content: "hi,\nthere".into(),
                        ..Default::default()
                    },
                )?;
                ratings::set(c, id, rating)?;
                Ok(())
            };
            reply(
                "a",
                Rating {
                    thumb: Some(1),
                    score: Some(5),
                    tags: vec!["x".into()],
                    ..Default::default()
                },
            )?;
            reply(
                "a",
                Rating {
                    thumb: Some(-1),
                    score: Some(2),
                    ..Default::default()
                },
            )?;
            reply(
                "b",
                Rating {
                    score: Some(4),
                    tags: vec!["x".into()],
                    ..Default::default()
                },
            )?;
            let all = by_model(c, &RatingFilter::default())?;
            assert_eq!(all.len(), 2);
            let a = &all[0];
            assert_eq!(
                (a.model.as_str(), a.rated, a.thumbs_up, a.thumbs_down),
                ("a", 2, 1, 1)
            );
            assert_eq!(a.scores, [0, 1, 0, 0, 1]);
            assert_eq!(a.mean_score, Some(3.5));
            assert_eq!(a.trend.len(), 1);
            assert_eq!(a.tags.get("x"), Some(&1));
            let x = by_model(
                c,
                &RatingFilter {
                    tag: Some("x".into()),
                    ..Default::default()
                },
            )?;
            assert_eq!(x.iter().map(|m| m.rated).sum::<i64>(), 2);
            let csv = to_csv(&rated_replies(c, &RatingFilter::default())?);
            let lines: Vec<&str> = csv.split("\r\n").collect();
            assert!(lines[0].starts_with("message_id,conversation_id,model,"));
            // Quotes doubled, fields with commas or line breaks quoted.
            assert!(
                lines[1].contains(",\"say \"\"hi\"\", please\",\"hi,\nthere\""),
                "{}",
                lines[1]
            );
            assert_eq!(csv.matches("\r\n").count(), 4);
            let dir = tempfile::tempdir().unwrap();
            let all = RatingFilter::default();
            let one = export_rows(&export_data(c, &all)?, ExportFormat::Json, dir.path())?;
            let two = export_rows(&export_data(c, &all)?, ExportFormat::Json, dir.path())?;
            assert_ne!(one, two, "an export never overwrites another");
            let back: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&one).unwrap()).unwrap();
            let ratings = back["ratings"].as_array().unwrap();
            assert_eq!(ratings.len(), 3);
            assert_eq!(ratings[0]["reply"], "hi,\nthere");
            let csv_path = export_rows(&export_data(c, &all)?, ExportFormat::Csv, dir.path())?;
            // Ratings first, then votes and verdicts; times in ISO 8601.
            assert!(std::fs::read_to_string(csv_path).unwrap().starts_with(&csv));
            assert!(lines[1].contains("Z,"), "{}", lines[1]);
            Ok(())
        })
        .unwrap();
    }
}
