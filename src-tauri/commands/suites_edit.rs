//! The suite library in the window: list, open, save, delete, import (open dialog), export (save
//! dialog), a table pasted from a spreadsheet, and a run with progress on a channel (Stop is
//! `cancel_stream` with the run's key).

use std::path::PathBuf;

use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::commands::state::AppState;
use parley_core::chat::suite_library::{
    RunProgress, RunRequest, RunSummary, SavedSuite, SuiteInfo,
};
use parley_core::error::{Error, Result};
use parley_core::eval::suite::doc::{self, SuiteDoc, Table};

#[tauri::command(async)]
pub fn list_suites(state: State<'_, AppState>) -> Result<Vec<SuiteInfo>> {
    state.service()?.list_suites()
}

#[tauri::command(async)]
pub fn load_suite(state: State<'_, AppState>, id: i64) -> Result<SavedSuite> {
    state.service()?.load_suite(id)
}

#[tauri::command(async)]
pub fn save_suite(
    state: State<'_, AppState>,
    id: Option<i64>,
    name: String,
    doc: SuiteDoc,
) -> Result<SavedSuite> {
    state.service()?.save_suite(id, &name, &doc)
}

#[tauri::command(async)]
pub fn delete_suite(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.service()?.delete_suite(id)
}

/// Text copied from a spreadsheet as a table of cases.
#[tauri::command(async)]
pub fn paste_suite_table(text: String) -> Result<Table> {
    doc::paste_table(&text)
}

/// The suite file to import: the open dialog (`PARLEY_IMPORT_SUITE` instead, for tests).
fn suite_file<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("PARLEY_IMPORT_SUITE") {
        return Some(PathBuf::from(file));
    }
    app.dialog()
        .file()
        .add_filter("promptfoo YAML", &["yaml", "yml"])
        .blocking_pick_file()
        .and_then(|p| p.into_path().ok())
}

/// Imports a `promptfooconfig.yaml` chosen with the open dialog; `None` if cancelled.
#[tauri::command(async)]
pub fn import_suite<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<Option<SuiteInfo>> {
    let service = state.service()?;
    let Some(path) = suite_file(&app) else {
        return Ok(None);
    };
    service.import_suite(&path).map(Some)
}

/// Saves a suite as promptfoo YAML where the user chooses; the path, or `None` if cancelled.
#[tauri::command(async)]
pub fn export_suite<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: i64,
) -> Result<Option<PathBuf>> {
    let (name, yaml) = state.service()?.export_suite(id)?;
    let Some(path) = super::organise::save_path(&app, &name)? else {
        return Ok(None);
    };
    // Owner-only and whole, as every other export.
    parley_core::transfer::write_private(&path, |out| Ok(out.write_all(yaml.as_bytes())?))?;
    Ok(Some(path))
}

/// Runs a library suite; progress on `on_progress`; resolves when it ends (or is stopped).
#[tauri::command]
pub async fn run_library_suite(
    state: State<'_, AppState>,
    request: RunRequest,
    on_progress: Channel<RunProgress>,
) -> Result<RunSummary> {
    let service = state.service()?;
    let done = service.spawn_suite_run(request, move |p| drop(on_progress.send(p)));
    done.await
        .map_err(|_| Error::invalid("the suite run stopped unexpectedly"))?
}
