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
        notices: state.notices.clone(),
    }
}

/// The page's first paint with its data in (sidebar listed, the last conversation shown): the
/// "page loaded" start-up mark of `PARLEY_TRACE` (tests/bench.sh times the window to it). WebKit's
/// own load-finished event comes before the page's scripts have even been fetched.
#[tauri::command(async)]
pub fn page_shown() {
    parley_core::trace("page loaded");
}

/// A full garbage collection in the web process, asked by the page once a lot of its DOM went away
/// (a long conversation left): JavaScriptCore does not start one on its own in an idle page.
/// None when the web process extension is not installed. This process gives back SQLite's page
/// cache and glibc's free pages at the same time.
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
    // This process's share: SQLite's page cache (up to 2 MiB, filled as conversations are read).
    if let Ok(service) = state.service() {
        // Best effort, as the web process's part: nothing is lost if SQLite keeps its cache.
        let _ = service.release_memory();
    }
    trim_malloc();
    Ok(released)
}

/// glibc keeps what is freed inside its arenas (one per thread that allocated: the cache SQLite
/// just gave back is in them); `malloc_trim` returns their free pages to the system. Either half
/// alone left the window's anonymous memory as it was (README, "Performance").
fn trim_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's own function, callable from any thread at any time.
        unsafe { malloc_trim(0) };
    }
}

/// The request parameters' table (name, type, range, doc, endpoints): the window builds its
/// parameter inputs from it, so no range is written in JavaScript or HTML.
#[tauri::command(async)]
pub fn param_spec() -> Vec<parley_core::params::SpecView> {
    parley_core::params::spec()
}
