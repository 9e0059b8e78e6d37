use tauri::State;

use crate::chat::{ProfileUpdate, ProfileView};
use crate::error::Result;
use crate::gui::AppState;

#[tauri::command]
pub async fn get_profile(state: State<'_, AppState>) -> Result<ProfileView> {
    state.service()?.profile().await
}

#[tauri::command]
pub async fn update_profile(
    state: State<'_, AppState>,
    update: ProfileUpdate,
) -> Result<ProfileView> {
    state.service()?.update_profile(update).await
}

/// Write-only: the key goes to the keyring and is never returned to the webview.
#[tauri::command]
pub async fn set_api_key(state: State<'_, AppState>, key: String) -> Result<ProfileView> {
    state.service()?.set_key(&key).await
}

#[tauri::command]
pub async fn clear_api_key(state: State<'_, AppState>) -> Result<ProfileView> {
    state.service()?.clear_key().await
}

#[tauri::command]
pub async fn list_models(state: State<'_, AppState>) -> Result<Vec<String>> {
    state.service()?.list_models().await
}
