//! Saved prompts (issue 5): a versioned library with variables (no tauri here).

pub mod library;
pub mod transfer;
pub mod variables;
