//! The sidebar and the thread: conversations, their settings, branches and totals.

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::{Conversation, ConversationSettings, ListedConversation, ThreadMessage};
use parley_core::chat::ConversationTotals;
use parley_core::error::Result;

#[tauri::command(async)]
pub fn list_conversations(state: State<'_, AppState>) -> Result<Vec<ListedConversation>> {
    // Not archived; each with its folder, tags and pin (pinned first).
    state.service()?.listed_conversations(false)
}

#[tauri::command(async)]
pub fn create_conversation(state: State<'_, AppState>) -> Result<Conversation> {
    state.service()?.create_conversation(None)
}

#[tauri::command(async)]
pub fn rename_conversation(
    state: State<'_, AppState>,
    id: i64,
    title: String,
) -> Result<Conversation> {
    state.service()?.rename_conversation(id, &title)
}

#[tauri::command(async)]
pub fn update_conversation(
    state: State<'_, AppState>,
    id: i64,
    settings: ConversationSettings,
) -> Result<Conversation> {
    state.service()?.update_conversation(id, settings)
}

#[tauri::command(async)]
pub fn set_conversation_profile(
    state: State<'_, AppState>,
    id: i64,
    profile_id: Option<i64>,
) -> Result<Conversation> {
    state.service()?.set_conversation_profile(id, profile_id)
}

#[tauri::command(async)]
pub fn delete_conversation(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.service()?.delete_conversation(id)
}

#[tauri::command(async)]
pub fn restore_conversation(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.service()?.restore_conversation(id)
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
