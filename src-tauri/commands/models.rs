//! The model table: prices per million tokens and context windows, editable.

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::ModelInfo;
use parley_core::error::Result;

#[tauri::command(async)]
pub fn list_model_table(state: State<'_, AppState>) -> Result<Vec<ModelInfo>> {
    state.service()?.model_table()
}

#[tauri::command(async)]
pub fn save_model_info(state: State<'_, AppState>, info: ModelInfo) -> Result<ModelInfo> {
    state.service()?.save_model_info(info)
}

#[tauri::command(async)]
pub fn remove_model_info(state: State<'_, AppState>, model: String) -> Result<()> {
    state.service()?.remove_model_info(&model)
}
