//! Pairwise battles: blind arena rounds (two models picked at random from a pool, positions
//! randomised, names hidden until the vote) and choices among replies made together. Both feed the
//! leaderboard.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use crate::db::now_ms;
use crate::error::{Error, Result};

/// A vote: a, b, tie or bad (the one "who won" type, `crate::outcome`; never inconsistent).
pub use crate::outcome::Outcome as Winner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Arena,
    Choice,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Battle {
    pub id: i64,
    pub source: Source,
    pub conversation_id: Option<i64>,
    pub reply_a: Option<i64>,
    pub reply_b: Option<i64>,
    pub model_a: String,
    pub model_b: String,
    pub winner: Option<Winner>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub voted_at: Option<i64>,
}

const COLUMNS: &str =
    "id, source, conversation_id, reply_a, reply_b, model_a, model_b, winner, tags, \
                       created_at, voted_at";

fn from_row(r: &Row) -> rusqlite::Result<Battle> {
    let source: String = r.get(1)?;
    let winner: Option<String> = r.get(7)?;
    let tags: String = r.get(8)?;
    Ok(Battle {
        id: r.get(0)?,
        source: if source == "choice" {
            Source::Choice
        } else {
            Source::Arena
        },
        conversation_id: r.get(2)?,
        reply_a: r.get(3)?,
        reply_b: r.get(4)?,
        model_a: r.get(5)?,
        model_b: r.get(6)?,
        winner: winner.and_then(|w| Winner::parse(&w).ok()),
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        created_at: r.get(9)?,
        voted_at: r.get(10)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> Result<Battle> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM battles WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("battle {id}")))
}

/// A new, unvoted arena battle; its replies are attached as they are created.
pub fn create_arena(
    conn: &Connection,
    conversation_id: i64,
    model_a: &str,
    model_b: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO battles(source, conversation_id, model_a, model_b, created_at)
         VALUES ('arena', ?1, ?2, ?3, ?4)",
        params![conversation_id, model_a, model_b, now_ms()],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn attach_reply(conn: &Connection, battle_id: i64, side_b: bool, reply_id: i64) -> Result<()> {
    let sql = if side_b {
        "UPDATE battles SET reply_b = ?2 WHERE id = ?1"
    } else {
        "UPDATE battles SET reply_a = ?2 WHERE id = ?1"
    };
    conn.execute(sql, params![battle_id, reply_id])?;
    Ok(())
}

/// Records (or changes) the vote of an arena battle.
pub fn vote(conn: &Connection, battle_id: i64, winner: Winner) -> Result<Battle> {
    if !winner.is_vote() {
        return Err(Error::invalid("A vote is a, b, tie or bad."));
    }
    let n = conn.execute(
        "UPDATE battles SET winner = ?2, voted_at = ?3 WHERE id = ?1 AND source = 'arena'",
        params![battle_id, winner.as_str(), now_ms()],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("arena battle {battle_id}")));
    }
    get(conn, battle_id)
}

/// Replies of a conversation whose arena battle is not voted yet: their model stays hidden.
pub fn blind_replies(conn: &Connection, conversation_id: i64) -> Result<HashSet<i64>> {
    let mut st = conn.prepare_cached(
        "SELECT reply_a, reply_b FROM battles
         WHERE conversation_id = ?1 AND source = 'arena' AND winner IS NULL",
    )?;
    let mut out = HashSet::new();
    for row in st.query_map([conversation_id], |r| {
        Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
    })? {
        let (a, b) = row?;
        out.extend(a);
        out.extend(b);
    }
    Ok(out)
}

/// How a contender is named on the leaderboard, in arena rounds and in choices alike: the bare
/// model on the default profile (or when the profile is unknown), `model@Profile` on any other, so
/// one model on one profile is one row whichever way it was rated.
pub fn contender_name(model: &str, profile: Option<&str>, default_profile: &str) -> String {
    match profile {
        Some(p) if p != default_profile => format!("{model}@{p}"),
        _ => model.to_string(),
    }
}

/// The user continued from `chosen`, one of several replies made together by different models
/// (or one model on different profiles): one battle per other contender, won by the chosen one.
/// Choosing again in the same group replaces the earlier choice.
pub fn record_choice(conn: &mut Connection, chosen: i64) -> Result<usize> {
    let tx = conn.transaction()?;
    type Reply = (i64, Option<String>, Option<String>);
    let row: Option<(Option<String>, i64)> = tx
        .query_row(
            "SELECT group_id, conversation_id FROM messages WHERE id = ?1 AND role = 'assistant'",
            [chosen],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((Some(group), conversation)) = row else {
        return Ok(0);
    };
    let replies: Vec<Reply> = {
        let mut st = tx.prepare(
            "SELECT id, model, profile_name FROM messages WHERE group_id = ?1
             AND (id = ?2 OR status = 'done') ORDER BY choice_index, id",
        )?;
        let rows = st
            .query_map(params![group, chosen], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<rusqlite::Result<Vec<Reply>>>()?;
        rows
    };
    let default = crate::db::profiles::default_profile(&tx)?.name;
    let named: Vec<(i64, String)> = (replies.into_iter())
        .filter_map(|(id, model, profile)| {
            Some((id, contender_name(&model?, profile.as_deref(), &default)))
        })
        .collect();
    let Some(name) = named
        .iter()
        .find(|(id, _)| *id == chosen)
        .map(|(_, n)| n.clone())
    else {
        return Ok(0);
    };
    tx.execute(
        "DELETE FROM battles WHERE source = 'choice'
         AND reply_a IN (SELECT id FROM messages WHERE group_id = ?1)",
        [&group],
    )?;
    let now = now_ms();
    let mut n = 0;
    for (other, other_name) in named.iter().filter(|(_, m)| *m != name) {
        tx.execute(
            "INSERT INTO battles(source, conversation_id, reply_a, reply_b, model_a, model_b, winner,
                                 created_at, voted_at)
             VALUES ('choice', ?1, ?2, ?3, ?4, ?5, 'a', ?6, ?6)",
            params![conversation, chosen, other, name, other_name, now],
        )?;
        n += 1;
    }
    tx.commit()?;
    Ok(n)
}

/// Which battles count: by source, tag (of the replies' ratings or the battle) and date.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BattleFilter {
    #[serde(default)]
    pub source: Option<Source>,
    /// Only battles where either reply carries this rating tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Voted at or after (ms since the epoch).
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default)]
    pub until: Option<i64>,
}

/// Every voted battle that passes the filter, oldest vote first.
pub fn voted(conn: &Connection, f: &BattleFilter) -> Result<Vec<Battle>> {
    let source = f.source.map(|s| match s {
        Source::Arena => "arena",
        Source::Choice => "choice",
    });
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM battles b WHERE winner IS NOT NULL
           AND (?1 IS NULL OR source = ?1)
           AND (?2 IS NULL OR voted_at >= ?2)
           AND (?3 IS NULL OR voted_at < ?3)
           AND (?4 IS NULL OR EXISTS (
                 SELECT 1 FROM ratings r, json_each(r.tags) t
                 WHERE r.message_id IN (b.reply_a, b.reply_b) AND t.value = ?4)
               OR EXISTS (SELECT 1 FROM json_each(b.tags) t WHERE t.value = ?4))
         ORDER BY voted_at, id"
    ))?;
    let rows = st
        .query_map(params![source, f.since, f.until, f.tag], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The votes the leaderboard is computed from: every voted battle that passes the filter (the same
/// numbers in the window and in `parley leaderboard`). Computing is left to the caller, outside
/// the database lock.
pub fn leaderboard_votes(
    conn: &Connection,
    filter: &BattleFilter,
) -> Result<Vec<crate::eval::stats::Battle>> {
    use crate::eval::stats::Battle as Vote;
    let votes: Vec<Vote> = voted(conn, filter)?
        .into_iter()
        .filter_map(|b| {
            let outcome = b.winner?;
            // The same model on two profiles is named apart at the source; never a self-battle.
            (b.model_a != b.model_b).then(|| Vote::new(b.model_a, b.model_b, outcome))
        })
        .collect();
    Ok(votes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::messages::{self, ReplyOrigin};
    use crate::db::{conversations, Db};
    use crate::eval::ratings::{self, Rating};

    #[test]
    fn arena_votes_and_choices_become_battles_with_filters() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let conv = conversations::create(c, None)?;
            let u = messages::insert_user(c, conv.id, None, "q")?;
            let mut ids = Vec::new();
            for (i, m) in ["m1", "m2", "m1"].iter().enumerate() {
                let origin = ReplyOrigin {
                    model: m.to_string(),
                    group_id: Some("g".into()),
                    choice_index: Some(i as i64),
                    ..Default::default()
                };
                let id = messages::insert_reply_placeholder(c, &u, &origin)?;
                messages::finish(
                    c,
                    id,
                    &messages::Outcome {
                        content: "x".into(),
                        ..Default::default()
                    },
                )?;
                ids.push(id);
            }
            let b = create_arena(c, conv.id, "m1", "m2")?;
            attach_reply(c, b, false, ids[0])?;
            attach_reply(c, b, true, ids[1])?;
            assert_eq!(blind_replies(c, conv.id)?.len(), 2);
            assert!(voted(c, &BattleFilter::default())?.is_empty());
            let v = vote(c, b, Winner::B)?;
            assert_eq!((v.winner, v.model_b.as_str()), (Some(Winner::B), "m2"));
            assert!(blind_replies(c, conv.id)?.is_empty());
            // Continuing from m2's reply: a win over m1 (the other m1 reply is the same model).
            assert_eq!(record_choice(c, ids[1])?, 2);
            // Choosing again replaces, never doubles.
            assert_eq!(record_choice(c, ids[0])?, 1);
            let all = voted(c, &BattleFilter::default())?;
            assert_eq!(all.len(), 2);
            let choice = &all[1];
            assert_eq!(
                (choice.model_a.as_str(), choice.model_b.as_str()),
                ("m1", "m2")
            );
            let arena_only = BattleFilter {
                source: Some(Source::Arena),
                ..Default::default()
            };
            assert_eq!(voted(c, &arena_only)?.len(), 1);
            // Tags come from the replies' ratings.
            ratings::set(
                c,
                ids[1],
                Rating {
                    tags: vec!["code".into()],
                    ..Default::default()
                },
            )?;
            let tagged = BattleFilter {
                tag: Some("code".into()),
                ..Default::default()
            };
            // Both the arena battle and the choice involve that reply.
            assert_eq!(voted(c, &tagged)?.len(), 2);
            ratings::set(
                c,
                ids[2],
                Rating {
                    tags: vec!["poetry".into()],
                    ..Default::default()
                },
            )?;
            let poetry = BattleFilter {
                tag: Some("poetry".into()),
                ..Default::default()
            };
            assert!(voted(c, &poetry)?.is_empty());
            let later = BattleFilter {
                since: Some(now_ms() + 60_000),
                ..Default::default()
            };
            assert!(voted(c, &later)?.is_empty());
            assert_eq!(Winner::parse(" TIE ")?, Winner::Tie);
            assert!(Winner::parse("c").is_err());
            assert_eq!(
                vote(c, b, Winner::Inconsistent).unwrap_err().kind(),
                "invalid"
            );
            Ok(())
        })
        .unwrap();
    }

    /// A choice between one model on two profiles is a battle of `m@work` against `m`, named as
    /// the arena names them; the default profile's name is never added.
    #[test]
    fn choices_name_contenders_as_the_arena_does() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let default = crate::db::profiles::default_profile(c)?.name;
            crate::db::profiles::get_or_create(c, "work")?;
            let conv = conversations::create(c, None)?;
            let u = messages::insert_user(c, conv.id, None, "q")?;
            let mut ids = Vec::new();
            for (i, p) in [default.as_str(), "work"].iter().enumerate() {
                let origin = ReplyOrigin {
                    model: "m".into(),
                    group_id: Some("g".into()),
                    choice_index: Some(i as i64),
                    profile_name: Some(p.to_string()),
                    ..Default::default()
                };
                let id = messages::insert_reply_placeholder(c, &u, &origin)?;
                let done = messages::Outcome {
                    content: "x".into(),
                    ..Default::default()
                };
                messages::finish(c, id, &done)?;
                ids.push(id);
            }
            assert_eq!(record_choice(c, ids[1])?, 1);
            let b = &voted(c, &BattleFilter::default())?[0];
            assert_eq!((b.model_a.as_str(), b.model_b.as_str()), ("m@work", "m"));
            assert_eq!(contender_name("m", Some(&default), &default), "m");
            assert_eq!(contender_name("m", None, &default), "m");
            Ok(())
        })
        .unwrap();
    }
}
