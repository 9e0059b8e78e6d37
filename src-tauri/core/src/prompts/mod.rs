//! Saved prompts (issue 5): a versioned library with variables (no tauri here).

pub mod library;
pub mod preset;

/// The built-ins as of now, in local time; the clipboard only when given (read for prompts that use it).
pub fn builtins_now(clipboard: Option<String>) -> variables::Builtins {
    let now = chrono::Local::now();
    variables::Builtins {
        date: now.format("%Y-%m-%d").to_string(),
        time: now.format("%H:%M").to_string(),
        clipboard,
    }
}
pub mod review;
pub mod transfer;
pub mod variables;
