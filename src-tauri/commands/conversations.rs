use tauri::State;

use crate::commands::state::AppState;
use parley_core::chat::ConversationTotals;
use parley_core::db::conversations::{self, Conversation, ConversationSettings};
use parley_core::db::messages::ThreadMessage;
use parley_core::error::Result;

#[tauri::command(async)]
pub fn list_conversations(state: State<'_, AppState>) -> Result<Vec<Conversation>> {
    state.service()?.db().with(|c| conversations::list(c))
}

#[tauri::command(async)]
pub fn create_conversation(state: State<'_, AppState>) -> Result<Conversation> {
    state
        .service()?
        .db()
        .with(|c| conversations::create(c, None))
}

#[tauri::command(async)]
pub fn rename_conversation(
    state: State<'_, AppState>,
    id: i64,
    title: String,
) -> Result<Conversation> {
    state
        .service()?
        .db()
        .with(|c| conversations::rename(c, id, &title))
}

#[tauri::command(async)]
pub fn update_conversation(
    state: State<'_, AppState>,
    id: i64,
    settings: ConversationSettings,
) -> Result<Conversation> {
    state
        .service()?
        .db()
        .with(|c| conversations::update_settings(c, id, settings))
}

#[tauri::command(async)]
pub fn set_conversation_profile(
    state: State<'_, AppState>,
    id: i64,
    profile_id: Option<i64>,
) -> Result<Conversation> {
    state
        .service()?
        .db()
        .with(|c| conversations::set_profile(c, id, profile_id))
}

#[tauri::command(async)]
pub fn delete_conversation(state: State<'_, AppState>, id: i64) -> Result<()> {
    state
        .service()?
        .db()
        .with(|c| conversations::soft_delete(c, id))
}

#[tauri::command(async)]
pub fn restore_conversation(state: State<'_, AppState>, id: i64) -> Result<()> {
    state
        .service()?
        .db()
        .with(|c| conversations::restore(c, id))
}

#[tauri::command(async)]
pub fn get_messages(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Vec<ThreadMessage>> {
    state.service()?.thread(conversation_id)
}

/// `< 2/3 >` and "continue with this one": shows the branch through `message_id`.
#[tauri::command(async)]
pub fn select_branch(state: State<'_, AppState>, message_id: i64) -> Result<Vec<ThreadMessage>> {
    state.service()?.select_branch(message_id)
}

#[tauri::command(async)]
pub fn conversation_totals(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<ConversationTotals> {
    state.service()?.totals(conversation_id)
}
