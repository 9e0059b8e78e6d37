//! Basic facts for the About box: version, data folder, and the notices from opening the database.

use serde::Serialize;
use tauri::State;

use crate::commands::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    version: &'static str,
    data_dir: String,
    notices: Vec<String>,
}

#[tauri::command(async)]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: parley_core::api::data_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
        notices: state.notices(),
    }
}

/// The page's first paint with its data in (sidebar listed, the last conversation shown): the
/// "page loaded" start-up mark of `PARLEY_TRACE` (tests/bench.sh times the window to it). WebKit's
/// own load-finished event comes before the page's scripts have even been fetched.
///
/// `marks`: the page's own start-up marks (`performance.mark` names starting `parley:`), as
/// milliseconds before this report, printed with `PARLEY_TRACE` (where the page's time goes).
#[tauri::command(async)]
pub fn page_shown(marks: Option<Vec<(String, f64)>>) {
    parley_core::trace("page loaded");
    for (name, before) in marks.unwrap_or_default().iter().take(32) {
        let name: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
        parley_core::trace(&format!("page mark {name}: {before:.1} ms before"));
    }
}

/// A full garbage collection in the web process, asked by the page once a lot of its DOM went away
/// (a long conversation left): JavaScriptCore does not start one on its own in an idle page.
/// None when the web process extension is not installed. This process gives back its own share at
/// the same time (`release_window_memory`).
#[tauri::command]
pub async fn release_memory<R: tauri::Runtime>(
    window: tauri::WebviewWindow<R>,
    state: State<'_, AppState>,
) -> parley_core::error::Result<Option<crate::webkit::Released>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    crate::webkit::collect(&window, move |r| {
        let _ = tx.send(r);
    });
    let released = rx.await.ok().flatten();
    release_window_memory(state);
    Ok(released)
}

/// This process's share, asked by the page once after start-up and with every `release_memory`:
/// SQLite's page cache (up to 2 MiB, filled as conversations are read), glibc's free pages and the
/// executable's pages start-up read (src-tauri/trim.rs). Answers the executable's resident KiB
/// before and after.
#[tauri::command(async)]
pub fn release_window_memory(state: State<'_, AppState>) -> crate::trim::Trimmed {
    if let Ok(service) = state.service() {
        // Best effort, as the rest: nothing is lost if SQLite keeps its cache.
        let _ = service.release_memory();
    }
    crate::trim::window_process()
}

/// The request parameters' table (name, type, range, doc, endpoints): the window builds its
/// parameter inputs from it, so no range is written in JavaScript or HTML.
#[tauri::command(async)]
pub fn param_spec() -> Vec<parley_core::params::SpecView> {
    parley_core::params::spec()
}
