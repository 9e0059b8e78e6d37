//! The saved-prompt library: list, save (a new version), history, diff, scores, fill, import/export.

use std::collections::HashMap;

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::Filled;
use parley_core::error::Result;
use parley_core::prompts::library::{Draft, Prompt, Sort, Version};
use parley_core::prompts::review::{DiffLine, VersionScores};
use parley_core::prompts::transfer::ImportReport;

#[tauri::command(async)]
pub fn list_prompts(state: State<'_, AppState>, query: String, sort: Sort) -> Result<Vec<Prompt>> {
    state.service()?.prompts(&query, sort)
}

#[tauri::command(async)]
pub fn save_prompt(
    state: State<'_, AppState>,
    name: String,
    draft: Draft,
    message: String,
) -> Result<Prompt> {
    state.service()?.save_prompt(&name, draft, &message)
}

#[tauri::command(async)]
pub fn prompt_versions(state: State<'_, AppState>, name: String) -> Result<Vec<Version>> {
    state.service()?.prompt_versions(&name)
}

#[tauri::command(async)]
pub fn rollback_prompt(state: State<'_, AppState>, name: String, version: i64) -> Result<Prompt> {
    state.service()?.rollback_prompt(&name, version)
}

#[tauri::command(async)]
pub fn delete_prompt(state: State<'_, AppState>, name: String) -> Result<()> {
    state.service()?.delete_prompt(&name)
}

#[tauri::command(async)]
pub fn rename_prompt(state: State<'_, AppState>, name: String, new_name: String) -> Result<Prompt> {
    state.service()?.rename_prompt(&name, &new_name)
}

#[tauri::command(async)]
pub fn set_prompt_favourite(
    state: State<'_, AppState>,
    name: String,
    favourite: bool,
) -> Result<Prompt> {
    state.service()?.set_prompt_favourite(&name, favourite)
}

#[tauri::command(async)]
pub fn prompt_diff(
    state: State<'_, AppState>,
    name: String,
    from: i64,
    to: i64,
) -> Result<Vec<DiffLine>> {
    state.service()?.prompt_diff(&name, from, to)
}

#[tauri::command(async)]
pub fn prompt_scores(state: State<'_, AppState>, name: String) -> Result<Vec<VersionScores>> {
    state.service()?.prompt_scores(&name)
}

/// The prompt's newest version with its variables filled (the clipboard only when the window read it).
#[tauri::command(async)]
pub fn fill_prompt(
    state: State<'_, AppState>,
    name: String,
    values: HashMap<String, String>,
    clipboard: Option<String>,
) -> Result<Filled> {
    state.service()?.fill_prompt(&name, &values, clipboard)
}

#[tauri::command(async)]
pub fn import_prompts(state: State<'_, AppState>, text: String) -> Result<ImportReport> {
    state.service()?.import_prompts(&text)
}

/// Saves the library (Parley JSON, every version) where the user chooses (the system save
/// dialog); returns the path, or `None` if the user cancelled.
#[tauri::command]
pub async fn export_prompts<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<std::path::PathBuf>> {
    let json = state.service()?.prompts_json().await?;
    let name = format!("parley-prompts-{}.json", parley_core::transfer::today());
    let Some(path) = super::organise::save_path(&app, &name)? else {
        return Ok(None);
    };
    parley_core::transfer::write_private(&path, |out| Ok(out.write_all(json.as_bytes())?))?;
    Ok(Some(path))
}
