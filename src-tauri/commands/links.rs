//! Links from replies: checked before the user is asked, opened only through the system opener.

use parley_core::error::Result;
use parley_core::links::{self, Link};

/// Checks a link from a reply before the user is asked (W7); nothing is opened.
#[tauri::command(async)]
pub fn check_link(url: String) -> Result<Link> {
    links::check(&url)
}

/// Checks the link again and hands it to the system's opener; the one way a link leaves the app.
#[tauri::command(async)]
pub fn open_link(url: String) -> Result<Link> {
    links::open(&url)
}
