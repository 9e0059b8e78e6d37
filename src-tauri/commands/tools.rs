//! Issue 12, per conversation: the function tools offered to the model, and token probabilities.

use tauri::State;

use crate::gui::AppState;
use parley_core::db::logprobs;
use parley_core::db::tools::{self, FunctionTool};
use parley_core::error::Result;

#[tauri::command(async)]
pub fn get_conversation_tools(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Vec<FunctionTool>> {
    state
        .service()?
        .db()
        .with(|c| tools::get(c, conversation_id))
}

/// Checks the tools (names, JSON-schema parameters) and saves them; an empty list removes them.
#[tauri::command(async)]
pub fn set_conversation_tools(
    state: State<'_, AppState>,
    conversation_id: i64,
    tools: Vec<FunctionTool>,
) -> Result<Vec<FunctionTool>> {
    state
        .service()?
        .db()
        .with(|c| tools::set(c, conversation_id, &tools))
}

/// None: token probabilities are not asked for; Some(n): with n alternatives per token.
#[tauri::command(async)]
pub fn get_conversation_logprobs(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Option<i64>> {
    state
        .service()?
        .db()
        .with(|c| logprobs::get(c, conversation_id))
}

#[tauri::command(async)]
pub fn set_conversation_logprobs(
    state: State<'_, AppState>,
    conversation_id: i64,
    top: Option<i64>,
) -> Result<Option<i64>> {
    state
        .service()?
        .db()
        .with(|c| logprobs::set(c, conversation_id, top))
}
