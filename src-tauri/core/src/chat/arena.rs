//! A blind arena round: one prompt to two models picked at random from a pool, in random
//! positions, their names hidden (in events, results and the stored thread) until the vote.

use serde::{Deserialize, Serialize};

use super::{blind_message, ChatEvent, ChatService, SendRequest, Target};
use crate::db::conversations;
use crate::db::messages::Message;
use crate::error::{Error, Result};
use crate::eval::arena::{self, Battle, Winner};

/// A contender: a model, on a profile (`None` = the default profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArenaEntry {
    pub model: String,
    #[serde(default)]
    pub profile_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArenaRequest {
    pub content: String,
    pub pool: Vec<ArenaEntry>,
    /// One per side (A, B), so each can be stopped; generated when absent.
    #[serde(default)]
    pub stream_ids: Vec<String>,
}

/// The round as the voter sees it: two replies, no names.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArenaRound {
    pub battle_id: i64,
    pub conversation_id: i64,
    pub reply_a: Message,
    pub reply_b: Message,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArenaReveal {
    pub battle: Battle,
}

/// Two different contenders from the pool, in random order.
pub(crate) fn pick_two(
    pool: &[ArenaEntry],
    rng: &mut fastrand::Rng,
) -> Result<(ArenaEntry, ArenaEntry)> {
    let mut distinct: Vec<ArenaEntry> = Vec::new();
    for e in pool {
        let e = ArenaEntry {
            model: e.model.trim().to_string(),
            profile_id: e.profile_id,
        };
        if !e.model.is_empty() && !distinct.contains(&e) {
            distinct.push(e);
        }
    }
    if distinct.len() < 2 {
        return Err(Error::invalid(
            "The arena needs at least two different models in its pool.",
        ));
    }
    let i = rng.usize(..distinct.len());
    let mut j = rng.usize(..distinct.len() - 1);
    if j >= i {
        j += 1;
    }
    Ok((distinct[i].clone(), distinct[j].clone()))
}

/// The event as the voter may see it: no model or profile names.
fn blind_event(event: ChatEvent) -> ChatEvent {
    match event {
        ChatEvent::Started {
            stream_id,
            user_message,
            assistant_message_id,
            group_id,
            choice_index,
            ..
        } => ChatEvent::Started {
            stream_id,
            user_message,
            assistant_message_id,
            model: String::new(),
            group_id,
            choice_index,
            profile: None,
        },
        ChatEvent::Finished { mut message } => {
            blind_message(&mut message.message);
            ChatEvent::Finished { message }
        }
        ChatEvent::Failed { error, message } => ChatEvent::Failed {
            error,
            message: message.map(|mut m| {
                blind_message(&mut m);
                m
            }),
        },
        other => other,
    }
}

impl ChatService {
    /// Runs one blind round in a new conversation. The battle is saved before anything streams
    /// (its replies attached as they are created), so the thread hides the names from the start.
    pub async fn arena_round(
        &self,
        req: ArenaRequest,
        emit: impl Fn(ChatEvent) + Send + Sync,
    ) -> Result<ArenaRound> {
        super::clean_content(&req.content)?;
        let (a, b) = pick_two(&req.pool, &mut fastrand::Rng::new())?;
        // On the leaderboard a contender on another profile is "model@Profile".
        let default = self.profile_row(None)?.name;
        let name = |e: &ArenaEntry| -> Result<String> {
            let profile = e
                .profile_id
                .map(|id| self.profile_row(Some(id)))
                .transpose()?;
            let profile = profile.as_ref().map(|p| p.name.as_str());
            Ok(arena::contender_name(&e.model, profile, &default))
        };
        let (name_a, name_b) = (name(&a)?, name(&b)?);
        let (conversation_id, battle_id) = self.db.with(|c| {
            let tx = c.transaction()?;
            let conv = conversations::create(&tx, None)?;
            let battle = arena::create_arena(&tx, conv.id, &name_a, &name_b)?;
            tx.commit()?;
            Ok((conv.id, battle))
        })?;
        let mut ids = req.stream_ids.into_iter();
        let targets = [a, b]
            .into_iter()
            .map(|e| Target {
                model: Some(e.model),
                profile_id: e.profile_id,
                stream_id: ids.next(),
            })
            .collect();
        let request = SendRequest {
            conversation_id,
            content: req.content,
            targets,
            ..Default::default()
        };
        let replies = self
            .send_all(request, |event| {
                if let ChatEvent::Started {
                    assistant_message_id,
                    choice_index,
                    ..
                } = &event
                {
                    let side_b = *choice_index == Some(1);
                    let _ = self
                        .db
                        .with(|c| arena::attach_reply(c, battle_id, side_b, *assistant_message_id));
                }
                emit(blind_event(event));
            })
            .await?;
        let mut replies = replies.into_iter().map(|mut m| {
            blind_message(&mut m);
            m
        });
        let (Some(reply_a), Some(reply_b)) = (replies.next(), replies.next()) else {
            return Err(Error::invalid(
                "the arena round made fewer than two replies",
            ));
        };
        Ok(ArenaRound {
            battle_id,
            conversation_id,
            reply_a,
            reply_b,
        })
    }

    /// Records the vote and reveals the models. The winning reply becomes the conversation's branch.
    pub fn arena_vote(&self, battle_id: i64, winner: Winner) -> Result<ArenaReveal> {
        self.db.with(|c| {
            let battle = arena::vote(c, battle_id, winner)?;
            let chosen = match winner {
                Winner::A => battle.reply_a,
                Winner::B => battle.reply_b,
                _ => None,
            };
            if let Some(id) = chosen {
                crate::db::messages::select(c, id)?;
            }
            Ok(ArenaReveal { battle })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_different_contenders_in_both_orders() {
        let pool = vec![
            ArenaEntry {
                model: "m1".into(),
                profile_id: None,
            },
            ArenaEntry {
                model: " m1 ".into(),
                profile_id: None,
            },
            ArenaEntry {
                model: "m2".into(),
                profile_id: None,
            },
            ArenaEntry {
                model: "m2".into(),
                profile_id: Some(3),
            },
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let (a, b) = pick_two(&pool, &mut rng).unwrap();
            assert_ne!(a, b);
            seen.insert((a.model.clone(), a.profile_id, b.model.clone(), b.profile_id));
        }
        // 3 distinct contenders: all 6 ordered pairs come up.
        assert_eq!(seen.len(), 6);
        let one = vec![
            ArenaEntry {
                model: "m".into(),
                profile_id: None
            };
            3
        ];
        assert_eq!(pick_two(&one, &mut rng).unwrap_err().kind(), "invalid");
    }
}
