//! Search over the whole history, and pages of long conversations (the window shows only what is
//! near the screen).

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::{Conversation, Facets, PageAt, SearchFilter, SearchHit, ThreadPage};
use parley_core::error::Result;

#[tauri::command(async)]
pub fn search_messages(
    state: State<'_, AppState>,
    query: String,
    filter: Option<SearchFilter>,
    limit: Option<usize>,
) -> Result<Vec<SearchHit>> {
    state
        .service()?
        .search(&query, &filter.unwrap_or_default(), limit.unwrap_or(50))
}

/// `start`: from that position of the active path; else `around` a message; else the last page.
#[tauri::command(async)]
pub fn get_thread_page(
    state: State<'_, AppState>,
    conversation_id: i64,
    start: Option<usize>,
    around: Option<i64>,
    limit: usize,
) -> Result<ThreadPage> {
    let at = match (start, around) {
        (Some(s), _) => PageAt::Start(s),
        (None, Some(id)) => PageAt::Around(id),
        (None, None) => PageAt::End,
    };
    state.service()?.thread_page(conversation_id, at, limit)
}

/// A search hit was chosen: show its branch and the page around it.
#[tauri::command(async)]
pub fn open_at_message(
    state: State<'_, AppState>,
    message_id: i64,
    limit: usize,
) -> Result<ThreadPage> {
    state.service()?.open_at(message_id, limit)
}

#[tauri::command(async)]
pub fn search_facets(state: State<'_, AppState>) -> Result<Facets> {
    state.service()?.search_facets()
}

/// One conversation as the sidebar lists it: after a message only its row is updated.
#[tauri::command(async)]
pub fn get_conversation(state: State<'_, AppState>, id: i64) -> Result<Conversation> {
    state.service()?.conversation(id)
}
