//! The thread as the window shows it: the active path, versions, ratings, and totals. The rows
//! come from `db::messages`; what the window sees of them (ratings, reference scores, diversity,
//! blinded models) is added here, in the chat layer's own types.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::db::conversations::{self};
use crate::db::messages::{self, Message, PathEntry, Status};
use crate::error::Result;
use crate::eval::metrics::{Diversity, LogprobMetric, ReferenceScore, StructuredMetric};
use crate::eval::ratings::Rating;

use super::*;

/// A message as the window shows it: the stored row and, for a reply, the user's rating and the
/// reply's score against the rating's reference answer. Serialized flat (the row's fields beside
/// `rating` and `referenceScore`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    #[serde(flatten)]
    pub message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_score: Option<ReferenceScore>,
    /// Completion tokens per second (the one rule, `eval::metrics::tokens_per_second`), so the
    /// window shows the number the CLI prints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
    /// Mean log-probability and perplexity, where token probabilities were stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprob_metric: Option<LogprobMetric>,
    /// Under a response format: did the reply validate, and with how many errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<StructuredMetric>,
}

impl std::ops::Deref for MessageView {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.message
    }
}

/// A message on the active path as the window shows it, with its siblings (same parent) for
/// `< 2/3 >` navigation, and the group of the last reply when several were made together.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadMessage {
    #[serde(flatten)]
    pub message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_score: Option<ReferenceScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_second: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logprob_metric: Option<LogprobMetric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured: Option<StructuredMetric>,
    /// Ids of all children of this message's parent (itself included), oldest first.
    pub sibling_ids: Vec<i64>,
    /// For the last reply of the path, when it was made together with others (n choices or
    /// several models): all of them, in choice order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<MessageView>,
    /// How different the finished replies of that group are (distinct-n, self-similarity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diversity: Option<Diversity>,
    /// A user message's images, each with its thumbnail as a `data:` URL.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ThreadImage>,
}

/// An image of a message as the window shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadImage {
    #[serde(flatten)]
    pub image: crate::attachments::StoredImage,
    pub thumb: String,
}

/// The images of a message with their thumbnails.
pub(crate) fn images_of(c: &rusqlite::Connection, message_id: i64) -> Result<Vec<ThreadImage>> {
    let mut out = Vec::new();
    for image in crate::db::attachments::of_message(c, message_id)? {
        let (mime, thumb) = crate::db::attachments::thumb(c, &image.image.sha256)?;
        out.push(ThreadImage {
            image,
            thumb: crate::attachments::data_url(&mime, &thumb),
        });
    }
    Ok(out)
}

/// What the window adds to the rows of one conversation.
struct Extras {
    ratings: HashMap<i64, Rating>,
    blind: HashSet<i64>,
}

impl Extras {
    fn view(&self, mut m: Message) -> MessageView {
        let rating = self.ratings.get(&m.id).cloned();
        let reference_score = rating
            .as_ref()
            .filter(|r| !r.reference.is_empty())
            .map(|r| crate::eval::metrics::reference_score(&m.content, &r.reference));
        if self.blind.contains(&m.id) {
            blind_message(&mut m);
        }
        MessageView {
            tokens_per_second: speed(&m),
            logprob_metric: crate::eval::metrics::logprob_metric(m.mean_logprob),
            structured: crate::eval::metrics::structured_metric(m.schema_check.as_ref()),
            message: m,
            rating,
            reference_score,
        }
    }
}

/// The thread with each reply's rating, and the models of unvoted arena replies hidden.
pub(super) fn thread_for_window(
    c: &rusqlite::Connection,
    conversation_id: i64,
) -> Result<Vec<ThreadMessage>> {
    decorate(c, conversation_id, messages::thread(c, conversation_id)?)
}

/// Fills in what the window shows beside each message: ratings, reference scores, speed, blind
/// arena replies and the diversity of replies made together.
pub(super) fn decorate(
    c: &rusqlite::Connection,
    conversation_id: i64,
    path: Vec<PathEntry>,
) -> Result<Vec<ThreadMessage>> {
    let extras = Extras {
        ratings: crate::eval::ratings::for_messages(c, &shown_ids(&path))?,
        blind: crate::eval::arena::blind_replies(c, conversation_id)?,
    };
    path.into_iter()
        .map(
            |PathEntry {
                 message,
                 sibling_ids,
                 group,
             }| {
                let images = if message.role == messages::Role::User {
                    images_of(c, message.id)?
                } else {
                    Vec::new()
                };
                let done: Vec<&str> = group
                    .iter()
                    .filter(|m| m.status == Status::Done)
                    .map(|m| m.content.as_str())
                    .collect();
                let diversity = (done.len() > 1).then(|| crate::eval::metrics::diversity(&done));
                let MessageView {
                    message,
                    rating,
                    reference_score,
                    tokens_per_second,
                    logprob_metric,
                    structured,
                } = extras.view(message);
                Ok(ThreadMessage {
                    message,
                    rating,
                    reference_score,
                    tokens_per_second,
                    logprob_metric,
                    structured,
                    sibling_ids,
                    group: group.into_iter().map(|m| extras.view(m)).collect(),
                    diversity,
                    images,
                })
            },
        )
        .collect()
}

/// The ids of the messages shown: the path's and those of the group at its end.
fn shown_ids(path: &[PathEntry]) -> Vec<i64> {
    path.iter()
        .flat_map(|e| std::iter::once(e.message.id).chain(e.group.iter().map(|m| m.id)))
        .collect()
}

/// The reply's tokens per second (the one rule), for the window.
pub(crate) fn speed(m: &Message) -> Option<f64> {
    crate::eval::metrics::tokens_per_second(m.completion_tokens, m.ttft_ms, m.total_ms)
}

/// A row as the window shows it when nothing else is known of it (a reply just finished).
pub(crate) fn with_speed(message: Message) -> MessageView {
    MessageView {
        tokens_per_second: speed(&message),
        logprob_metric: crate::eval::metrics::logprob_metric(message.mean_logprob),
        structured: crate::eval::metrics::structured_metric(message.schema_check.as_ref()),
        message,
        rating: None,
        reference_score: None,
    }
}

/// Hides which model (and profile) wrote a reply, until its arena vote.
pub(crate) fn blind_message(m: &mut Message) {
    m.model = None;
    m.profile_name = None;
}

impl ChatService {
    /// The conversation as shown: the active path, each message with its siblings.
    pub fn thread(&self, conversation_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            conversations::get(c, conversation_id)?;
            thread_for_window(c, conversation_id)
        })
    }

    /// Shows another branch: `message_id` and the path through it become the active one.
    pub fn select_branch(&self, message_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            let m = messages::select(c, message_id)?;
            thread_for_window(c, m.conversation_id)
        })
    }

    /// "Continue with this" among replies made together: shows that branch, and when the replies
    /// came from different models, counts the choice as a win over each of them.
    pub fn choose_reply(&self, message_id: i64) -> Result<Vec<ThreadMessage>> {
        self.db.with(|c| {
            let m = messages::select(c, message_id)?;
            crate::eval::arena::record_choice(c, message_id)?;
            thread_for_window(c, m.conversation_id)
        })
    }

    pub fn totals(&self, conversation_id: i64) -> Result<ConversationTotals> {
        self.db.with(|c| {
            conversations::get(c, conversation_id)?;
            Ok(c.query_row(
                // The n choices of one request (one group, one model, one profile) read one
                // prompt: it is counted once (side-by-side models each sent theirs).
                "SELECT count(*), coalesce(sum(CASE WHEN k = 1 THEN prompt_tokens END), 0),
                        coalesce(sum(completion_tokens), 0), sum(cost_usd),
                        coalesce(max(tokens_counted), 0)
                 FROM (SELECT prompt_tokens, completion_tokens, cost_usd, tokens_counted,
                              CASE WHEN group_id IS NULL THEN 1 ELSE row_number() OVER (
                                PARTITION BY group_id, model, profile_name ORDER BY choice_index, id)
                              END AS k
                       FROM messages WHERE conversation_id = ?1 AND role = 'assistant')",
                [conversation_id],
                |r| {
                    Ok(ConversationTotals {
                        replies: r.get(0)?,
                        prompt_tokens: r.get(1)?,
                        completion_tokens: r.get(2)?,
                        cost_usd: r.get(3)?,
                        counted: r.get::<_, i64>(4)? != 0,
                    })
                },
            )?)
        })
    }
}
