//! Finding things in the history: pages of a long thread (a 10,000-message conversation opens at
//! its end without reading the rest), and search over every message, jumping into its branch.

use serde::Serialize;

use crate::db::conversations;
use crate::db::messages;
use crate::db::search::{self, SearchFilter, SearchHit};
use crate::error::{Error, Result};

use super::thread::{decorate, ThreadMessage};
use super::ChatService;

/// The most messages one page carries.
pub const MAX_PAGE: usize = 500;

/// Messages `start..start + messages.len()` of an active path of `total` messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadPage {
    pub total: usize,
    pub start: usize,
    pub messages: Vec<ThreadMessage>,
}

/// Which page: the last one, from a position, or the one with a message in its middle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageAt {
    End,
    Start(usize),
    Around(i64),
}

fn page(
    c: &rusqlite::Connection,
    conversation_id: i64,
    at: PageAt,
    len: usize,
) -> Result<ThreadPage> {
    let len = len.clamp(1, MAX_PAGE);
    let start = match at {
        PageAt::Start(s) => s,
        PageAt::End => {
            let total = messages::active_path_ids(c, conversation_id)?.len();
            total.saturating_sub(len)
        }
        PageAt::Around(id) => {
            let ids = messages::active_path_ids(c, conversation_id)?;
            let i = ids
                .iter()
                .position(|&x| x == id)
                .ok_or_else(|| Error::not_found(format!("message {id} on the shown branch")))?;
            i.saturating_sub(len / 2).min(ids.len().saturating_sub(len))
        }
    };
    let (total, window) = messages::thread_window(c, conversation_id, start, len)?;
    Ok(ThreadPage {
        total,
        start: start.min(total),
        messages: decorate(c, conversation_id, window)?,
    })
}

impl ChatService {
    /// A page of the conversation as shown (see `thread`), for long conversations.
    pub fn thread_page(&self, conversation_id: i64, at: PageAt, len: usize) -> Result<ThreadPage> {
        self.db.with(|c| {
            conversations::get(c, conversation_id)?;
            page(c, conversation_id, at, len)
        })
    }

    /// Shows the branch through `message_id` and returns the page with it in the middle.
    pub fn open_at(&self, message_id: i64, len: usize) -> Result<ThreadPage> {
        self.db.with(|c| {
            let m = messages::select(c, message_id)?;
            page(c, m.conversation_id, PageAt::Around(message_id), len)
        })
    }

    /// What the search filters can choose from.
    pub fn search_facets(&self) -> Result<search::Facets> {
        self.db.with(|c| search::facets(c))
    }

    /// Every message of every conversation (all branches, archived too), newest first.
    pub fn search(
        &self,
        query: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        self.db.with(|c| search::search(c, query, filter, limit))
    }
}
