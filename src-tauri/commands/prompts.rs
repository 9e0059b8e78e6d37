use std::collections::HashMap;

use serde::Serialize;
use tauri::State;

use crate::commands::state::AppState;
use parley_core::error::Result;
use parley_core::prompts::library::{self, Draft, Prompt, Sort, Version};
use parley_core::prompts::review::{self, DiffLine, VersionScores};
use parley_core::prompts::transfer::{self, ImportReport};
use parley_core::prompts::{builtins_now, variables};

#[tauri::command(async)]
pub fn list_prompts(state: State<'_, AppState>, query: String, sort: Sort) -> Result<Vec<Prompt>> {
    state
        .service()?
        .db()
        .with(|c| library::list(c, &query, sort))
}

#[tauri::command(async)]
pub fn save_prompt(
    state: State<'_, AppState>,
    name: String,
    draft: Draft,
    message: String,
) -> Result<Prompt> {
    state
        .service()?
        .db()
        .with(|c| library::save(c, &name, draft, &message))
}

#[tauri::command(async)]
pub fn prompt_versions(state: State<'_, AppState>, name: String) -> Result<Vec<Version>> {
    state.service()?.db().with(|c| library::versions(c, &name))
}

#[tauri::command(async)]
pub fn rollback_prompt(state: State<'_, AppState>, name: String, version: i64) -> Result<Prompt> {
    state
        .service()?
        .db()
        .with(|c| library::rollback(c, &name, version))
}

#[tauri::command(async)]
pub fn delete_prompt(state: State<'_, AppState>, name: String) -> Result<()> {
    state.service()?.db().with(|c| library::delete(c, &name))
}

#[tauri::command(async)]
pub fn set_prompt_favourite(
    state: State<'_, AppState>,
    name: String,
    favourite: bool,
) -> Result<Prompt> {
    state
        .service()?
        .db()
        .with(|c| library::set_favourite(c, &name, favourite))
}

#[tauri::command(async)]
pub fn prompt_diff(
    state: State<'_, AppState>,
    name: String,
    from: i64,
    to: i64,
) -> Result<Vec<DiffLine>> {
    state
        .service()?
        .db()
        .with(|c| review::diff(c, &name, from, to))
}

#[tauri::command(async)]
pub fn prompt_scores(state: State<'_, AppState>, name: String) -> Result<Vec<VersionScores>> {
    state.service()?.db().with(|c| review::scores(c, &name))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filled {
    pub text: String,
    pub version_id: i64,
}

/// The prompt's newest version with its variables filled (the clipboard only when the window read it).
#[tauri::command(async)]
pub fn fill_prompt(
    state: State<'_, AppState>,
    name: String,
    values: HashMap<String, String>,
    clipboard: Option<String>,
) -> Result<Filled> {
    let p = state.service()?.db().with(|c| library::get(c, &name))?;
    let text = variables::fill(&p.latest.draft.body, &values, &builtins_now(clipboard))?;
    Ok(Filled {
        text,
        version_id: p.latest.id,
    })
}

#[tauri::command(async)]
pub fn import_prompts(state: State<'_, AppState>, text: String) -> Result<ImportReport> {
    state.service()?.db().with(|c| transfer::import(c, &text))
}

/// Writes the library (Parley JSON, every version) to a new file in Downloads; returns its path.
#[tauri::command(async)]
pub fn export_prompts(state: State<'_, AppState>) -> Result<std::path::PathBuf> {
    let json = state.service()?.db().with(|c| transfer::export_json(c))?;
    let dir = parley_core::db::export_dir()?;
    transfer::write_new_file(&dir, "parley-prompts", "json", &json)
}
