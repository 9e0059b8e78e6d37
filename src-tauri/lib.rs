//! Parley: a desktop client for the OpenAI API and compatible servers.
//!
//! Layers: `commands/` (Tauri adapters) and `cli/` (headless) are two faces over the core
//! (`chat/`, `openai/`, `db/`, `secrets/`, `links`), which never imports tauri.

pub mod chat;
pub mod cli;
pub mod commands;
pub mod db;
pub mod error;
pub mod eval;
pub mod gui;
pub mod links;
pub mod openai;
pub mod prompts;
pub mod secrets;

use std::path::Path;
use std::sync::Arc;

use chat::{ChatService, EnvFallback};
use db::{Db, OpenNotice};
use error::Result;
use secrets::SecretStore;

/// Opens the database in `data_dir` and builds the chat service over it.
pub fn open_service(
    data_dir: &Path,
    secrets: Arc<dyn SecretStore>,
    env: EnvFallback,
) -> Result<(ChatService, Vec<OpenNotice>)> {
    let (db, notices) = Db::open_dir(data_dir)?;
    let client = openai::Client::new(openai::ClientOptions::default())?;
    Ok((ChatService::new(db, secrets, client, env), notices))
}

/// Timing marks on stderr when `PARLEY_TRACE` is set: `parley: [trace] 12.3 ms label`, measured from
/// the start of `run()`. For measuring start-up and streaming phases; off by default.
pub fn trace(label: &str) {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    let start = START.get_or_init(|| std::env::var_os("PARLEY_TRACE").map(|_| Instant::now()));
    if let Some(start) = start {
        eprintln!(
            "parley: [trace] {:.1} ms {label}",
            start.elapsed().as_secs_f64() * 1e3
        );
    }
}

/// Entry point of the binary: a subcommand runs headless (no GTK, no webview); none opens the window.
pub fn run() -> i32 {
    trace("start");
    match cli::parse() {
        Some(command) => cli::run(command),
        None => gui::run(),
    }
}
