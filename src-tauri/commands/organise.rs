//! Organising, export/import and backups for the window: thin adapters over the core. Files are
//! chosen with the system dialog from here, so the page never names a path (no file access for it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;

use crate::commands::state::AppState;
use parley_core::api::{
    Backup, Change, Folder, Format, ImportSummary, ListedConversation, OrgState, Progress,
    Selection, Tag,
};
use parley_core::error::Result;
use parley_core::transfer;

#[tauri::command(async)]
pub fn list_archived_conversations(state: State<'_, AppState>) -> Result<Vec<ListedConversation>> {
    state.service()?.listed_conversations(true)
}

#[tauri::command(async)]
pub fn list_folders(state: State<'_, AppState>) -> Result<Vec<Folder>> {
    state.service()?.list_folders()
}

#[tauri::command(async)]
pub fn create_folder(
    state: State<'_, AppState>,
    name: String,
    parent_id: Option<i64>,
) -> Result<Folder> {
    state.service()?.create_folder(&name, parent_id)
}

#[tauri::command(async)]
pub fn rename_folder(state: State<'_, AppState>, id: i64, name: String) -> Result<Folder> {
    state.service()?.rename_folder(id, &name)
}

#[tauri::command(async)]
pub fn move_folder(state: State<'_, AppState>, id: i64, parent_id: Option<i64>) -> Result<Folder> {
    state.service()?.move_folder(id, parent_id)
}

#[tauri::command(async)]
pub fn delete_folder(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.service()?.delete_folder(id)
}

#[tauri::command(async)]
pub fn list_tags(state: State<'_, AppState>) -> Result<Vec<Tag>> {
    state.service()?.list_tags()
}

#[tauri::command(async)]
pub fn create_tag(state: State<'_, AppState>, name: String, color: Option<String>) -> Result<Tag> {
    state.service()?.create_tag(&name, color.as_deref())
}

#[tauri::command(async)]
pub fn update_tag(state: State<'_, AppState>, id: i64, name: String, color: String) -> Result<Tag> {
    state.service()?.update_tag(id, &name, &color)
}

#[tauri::command(async)]
pub fn delete_tag(state: State<'_, AppState>, id: i64) -> Result<()> {
    state.service()?.delete_tag(id)
}

/// Moves, tags, pins or archives conversations; returns how they were, for Undo.
#[tauri::command(async)]
pub fn organise_conversations(
    state: State<'_, AppState>,
    ids: Vec<i64>,
    change: Change,
) -> Result<Vec<OrgState>> {
    state.service()?.organise(&ids, &change)
}

/// Undo of [`organise_conversations`].
#[tauri::command(async)]
pub fn undo_organise(state: State<'_, AppState>, states: Vec<OrgState>) -> Result<()> {
    state.service()?.undo_organise(&states)
}

#[tauri::command(async)]
pub fn delete_conversations(state: State<'_, AppState>, ids: Vec<i64>) -> Result<()> {
    state.service()?.delete_conversations(&ids)
}

#[tauri::command(async)]
pub fn restore_conversations(state: State<'_, AppState>, ids: Vec<i64>) -> Result<()> {
    state.service()?.restore_conversations(&ids)
}

// ----- export and import -----

/// What to export, as the page names it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportWhat {
    #[serde(default)]
    pub ids: Vec<i64>,
    #[serde(default)]
    pub folder_id: Option<i64>,
    #[serde(default)]
    pub all: bool,
}

/// Where to save: the system save dialog with `name` filled in. `PARLEY_EXPORT_DIR` (tests, or a
/// user who wants no dialog) skips the dialog and saves there under a name not yet taken.
/// `None`: the user cancelled.
pub fn save_path<R: Runtime>(app: &AppHandle<R>, name: &str) -> Result<Option<PathBuf>> {
    if let Some(dir) = std::env::var_os("PARLEY_EXPORT_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        let mut path = dir.join(name);
        let mut n = 2;
        while path.exists() {
            path = dir.join(format!("{stem}-{n}.{ext}"));
            n += 1;
        }
        return Ok(Some(path));
    }
    let mut dialog = app.dialog().file().set_file_name(name);
    if let Some(dir) = dirs_download() {
        dialog = dialog.set_directory(dir);
    }
    Ok(dialog.blocking_save_file().and_then(|p| p.into_path().ok()))
}

fn dirs_download() -> Option<PathBuf> {
    parley_core::api::export_dir().ok()
}

/// Exports with the save dialog; returns the file written, or `None` if the user cancelled.
#[tauri::command(async)]
pub fn export_conversations<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    what: ExportWhat,
    format: Format,
) -> Result<Option<PathBuf>> {
    let service = state.service()?;
    let (selection, label) = match (what.all, what.folder_id) {
        (true, _) => (Selection::All, "all".to_string()),
        (_, Some(f)) => {
            let name = service.folder_path(f)?.join("-");
            (Selection::Folder(f), name)
        }
        _ if what.ids.len() == 1 => {
            let title = service.conversation(what.ids[0])?.title;
            let title = if title.trim().is_empty() {
                "conversation".into()
            } else {
                title
            };
            (Selection::Ids(what.ids), title)
        }
        _ => (
            Selection::Ids(what.ids.clone()),
            format!("{}-conversations", what.ids.len()),
        ),
    };
    // Checked before the dialog: a bad id is said at once.
    service.check_export(&selection)?;
    let Some(path) = save_path(&app, &transfer::default_file_name(&label, format))? else {
        return Ok(None);
    };
    service.export_conversations(&selection, format, &path)?;
    Ok(Some(path))
}

static IMPORT_CANCEL: AtomicBool = AtomicBool::new(false);

/// The file to import: the system open dialog (`PARLEY_IMPORT_FILE` instead, for tests).
fn open_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    if let Some(file) = std::env::var_os("PARLEY_IMPORT_FILE") {
        return Some(PathBuf::from(file));
    }
    app.dialog()
        .file()
        .add_filter("JSON", &["json"])
        .blocking_pick_file()
        .and_then(|p| p.into_path().ok())
}

/// Imports a Parley JSON or ChatGPT export chosen with the open dialog, all or nothing, with
/// progress on `on_progress`; `None` if the user cancelled the dialog.
#[tauri::command(async)]
pub fn import_conversations<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    on_progress: Channel<Progress>,
) -> Result<Option<ImportSummary>> {
    let service = state.service()?;
    let Some(path) = open_path(&app) else {
        return Ok(None);
    };
    IMPORT_CANCEL.store(false, Ordering::SeqCst);
    let mut last = 0u64;
    let summary = service.import_conversations(&path, &mut |p| {
        // About every half percent: enough for a smooth bar, few messages.
        if p.bytes_read >= last + p.total_bytes / 200 || p.bytes_read == p.total_bytes {
            last = p.bytes_read;
            let _ = on_progress.send(p);
        }
        !IMPORT_CANCEL.load(Ordering::SeqCst)
    })?;
    Ok(Some(summary))
}

#[tauri::command(async)]
pub fn cancel_import() {
    IMPORT_CANCEL.store(true, Ordering::SeqCst);
}

// ----- backups -----

#[tauri::command(async)]
pub fn list_backups(state: State<'_, AppState>) -> Result<Vec<Backup>> {
    state.service()?.list_backups()
}

/// Puts a backup in place (the current file moved aside) and reopens it live; returns where the
/// replaced file went.
#[tauri::command(async)]
pub fn restore_backup(state: State<'_, AppState>, name: String) -> Result<PathBuf> {
    state.service()?.restore_backup_live(&name)
}

/// Settings → Compact: SQLite `VACUUM`; the size on disk before and after.
#[tauri::command(async)]
pub fn compact_database(state: State<'_, AppState>) -> Result<parley_core::api::Compacted> {
    state.service()?.compact_database()
}
