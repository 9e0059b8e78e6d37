//! Issue 12, per conversation: the function tools offered to the model, and token probabilities.

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::FunctionTool;
use parley_core::error::Result;

#[tauri::command(async)]
pub fn get_conversation_tools(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Vec<FunctionTool>> {
    state.service()?.conversation_tools(conversation_id)
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
        .set_conversation_tools(conversation_id, &tools)
}

/// None: token probabilities are not asked for; Some(n): with n alternatives per token.
#[tauri::command(async)]
pub fn get_conversation_logprobs(
    state: State<'_, AppState>,
    conversation_id: i64,
) -> Result<Option<i64>> {
    state.service()?.conversation_logprobs(conversation_id)
}

#[tauri::command(async)]
pub fn set_conversation_logprobs(
    state: State<'_, AppState>,
    conversation_id: i64,
    top: Option<i64>,
) -> Result<Option<i64>> {
    state
        .service()?
        .set_conversation_logprobs(conversation_id, top)
}
