//! Parley's core: everything the window and the headless `parley` share. No tauri, no GTK: the
//! compiler enforces it, since this crate does not depend on them.
//!
//! Layers (DESIGN.md): faces (`parley-desktop`'s commands, `parley-cli`) → this crate's API →
//! `chat/`, `eval/`, `prompts/` → `db/`, `openai/`, `secrets/`. `db` imports no feature module.

pub mod api;
pub mod attachments;
pub mod chat;
pub mod db;
pub mod error;
pub mod eval;
mod exports;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod links;
pub mod openai;
pub mod outcome;
pub mod params;
pub mod prompts;
pub mod secrets;
#[cfg(test)]
mod testing;
pub mod transfer;

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
    trace("database checked and migrated");
    // Images attached a day ago or more and never sent (the composer was closed) are let go.
    let day_ago = db::now_ms() - 24 * 3600 * 1000;
    db.with(|c| db::attachments::prune_unreferenced(c, day_ago))?;
    let client = openai::Client::new(openai::ClientOptions::default())?;
    trace("http client built");
    Ok((ChatService::new(db, secrets, client, env), notices))
}

/// Timing marks on stderr when `PARLEY_TRACE` is set: `parley: [trace] 12.3 ms label`, measured from
/// the first mark. For measuring start-up and streaming phases; off by default.
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
