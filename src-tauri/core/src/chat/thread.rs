//! The thread as the window shows it: the active path, versions, ratings, and totals.

use crate::db::conversations::{self};
use crate::db::messages::{self, Message, Status, ThreadMessage};
use crate::error::Result;

use super::*;

/// The thread with each reply's rating, and the models of unvoted arena replies hidden.
pub(super) fn thread_for_window(
    c: &rusqlite::Connection,
    conversation_id: i64,
) -> Result<Vec<ThreadMessage>> {
    decorate(c, conversation_id, messages::thread(c, conversation_id)?)
}

/// Fills in what the window shows beside each message: ratings, reference scores, blind arena
/// replies and the diversity of replies made together.
pub(super) fn decorate(
    c: &rusqlite::Connection,
    conversation_id: i64,
    mut thread: Vec<ThreadMessage>,
) -> Result<Vec<ThreadMessage>> {
    let ratings = crate::eval::ratings::for_conversation(c, conversation_id)?;
    let blind = crate::eval::arena::blind_replies(c, conversation_id)?;
    let fill = |m: &mut Message| {
        with_speed(m);
        m.rating = ratings.get(&m.id).cloned();
        m.reference_score = m
            .rating
            .as_ref()
            .filter(|r| !r.reference.is_empty())
            .map(|r| crate::eval::metrics::reference_score(&m.content, &r.reference));
        if blind.contains(&m.id) {
            blind_message(m);
        }
    };
    for t in &mut thread {
        fill(&mut t.message);
        t.group.iter_mut().for_each(fill);
        let done: Vec<&str> = t
            .group
            .iter()
            .filter(|m| m.status == Status::Done)
            .map(|m| m.content.as_str())
            .collect();
        if done.len() > 1 {
            t.diversity = Some(crate::eval::metrics::diversity(&done));
        }
    }
    Ok(thread)
}

/// Fills in the reply's tokens per second (the one rule), for the window.
pub(crate) fn with_speed(m: &mut Message) {
    m.tokens_per_second =
        crate::eval::metrics::tokens_per_second(m.completion_tokens, m.ttft_ms, m.total_ms);
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
                "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
                        sum(cost_usd), coalesce(max(tokens_counted), 0)
                 FROM messages WHERE conversation_id = ?1 AND role = 'assistant'",
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
