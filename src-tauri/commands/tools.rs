//! Tool calls (issue 12): the function tools a conversation offers the model.

use tauri::State;

use crate::gui::AppState;
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
