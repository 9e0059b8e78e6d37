//! Issue 12, per conversation: the function tools offered to the model, token probabilities and
//! the response format (entries of the one parameter table, each with its own editor).

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::{Conversation, FunctionTool, ResponseFormat};
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

/// Checks the response format (a schema the API would reject is explained, not saved) and saves
/// it; none or text clears it. Returns the conversation as saved.
#[tauri::command(async)]
pub fn set_conversation_response_format(
    state: State<'_, AppState>,
    conversation_id: i64,
    format: Option<ResponseFormat>,
) -> Result<Conversation> {
    state
        .service()?
        .set_conversation_response_format(conversation_id, format)
}
