//! The user's consent, asked natively from Rust before a privileged action (SECURITY.md W8): the
//! page's own dialog is not enough, since script in the page could call the command directly.
//! Tests answer through `PARLEY_CONFIRM=yes|no`, honoured only in debug builds (as the tests run).

use parley_core::error::{Error, Result};
use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

/// The environment variable that answers the dialog in debug builds (`yes` or `no`).
pub const CONFIRM_ENV: &str = "PARLEY_CONFIRM";

/// The test answer, if this is a debug build and one is set.
fn test_answer() -> Option<bool> {
    if !cfg!(debug_assertions) {
        return None;
    }
    match std::env::var(CONFIRM_ENV).ok()?.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Asks with a native dialog (blocking, on a worker thread, never the main one). `Ok(())` when
/// the user agreed; a `cancelled` error otherwise.
pub async fn ask<R: Runtime>(
    app: &AppHandle<R>,
    title: &str,
    message: String,
    yes: &str,
) -> Result<()> {
    let agreed = match test_answer() {
        Some(answer) => answer,
        None => {
            let app = app.clone();
            let (title, yes) = (title.to_string(), yes.to_string());
            tauri::async_runtime::spawn_blocking(move || {
                app.dialog()
                    .message(message)
                    .title(title)
                    .kind(MessageDialogKind::Warning)
                    .buttons(MessageDialogButtons::OkCancelCustom(yes, "Cancel".into()))
                    .blocking_show()
            })
            .await
            .map_err(|e| Error::invalid(format!("The confirmation dialog failed: {e}")))?
        }
    };
    if agreed {
        Ok(())
    } else {
        Err(Error::Cancelled)
    }
}
