//! Links from replies: checked before the user is asked, opened only through the system opener.

use parley_core::error::Result;
use parley_core::links::{self, Link};
use tauri::{AppHandle, Runtime};

use super::consent;

/// Checks a link from a reply before the user is asked (W7); nothing is opened.
#[tauri::command(async)]
pub fn check_link(url: String) -> Result<Link> {
    links::check(&url)
}

/// Checks the link again, asks the user natively with the full URL (W8: script in the page could
/// call this directly), and hands it to the system's opener; the one way a link leaves the app.
#[tauri::command]
pub async fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> Result<Link> {
    let link = links::check(&url)?;
    let host = link
        .host
        .as_deref()
        .map(|h| format!("\n\nSite: {h}"))
        .unwrap_or_default();
    let message = format!(
        "Open this link in your browser or mail program?\n\n{}{host}",
        link.url
    );
    consent::ask(&app, "Open link", message, "Open").await?;
    links::open(&link.url)
}
