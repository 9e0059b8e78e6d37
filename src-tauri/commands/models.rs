use tauri::State;

use crate::commands::state::AppState;
use parley_core::db::pricing::{self, ModelInfo};
use parley_core::error::Result;

/// The editable model table: prices per million tokens and context windows.
#[tauri::command(async)]
pub fn list_model_table(state: State<'_, AppState>) -> Result<Vec<ModelInfo>> {
    state.service()?.db().with(|c| pricing::list(c))
}

#[tauri::command(async)]
pub fn save_model_info(state: State<'_, AppState>, info: ModelInfo) -> Result<ModelInfo> {
    state.service()?.db().with(|c| pricing::upsert(c, info))
}

#[tauri::command(async)]
pub fn remove_model_info(state: State<'_, AppState>, model: String) -> Result<()> {
    state.service()?.db().with(|c| pricing::remove(c, &model))
}
