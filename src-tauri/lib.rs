//! Parley's window: the Tauri commands and the app builder, a thin face over `parley-core`.
//! `lib.rs` only declares modules; `gui::run()` opens the window.

pub mod batch;
pub mod commands;
pub mod gui;
#[cfg(target_os = "linux")]
mod sysfont;
mod trim;
mod webkit;
pub mod window_state;
