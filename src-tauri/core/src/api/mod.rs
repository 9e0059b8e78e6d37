//! The one API surface over the core (GitButler's `but-api` is the model): the window's commands
//! and the headless `parley` call these methods of [`ChatService`] and these functions, and name
//! the types re-exported here. Neither face opens a transaction or takes the database lock.
//!
//! Each method is thin and named after what the user does; the work is in `chat/`, `eval/`,
//! `prompts/` and `db/`. CPU-heavy work (leaderboard bootstrap, exports) runs on a blocking
//! thread with the lock released (see [`ChatService::read_blocking`] and [`compute`]).

mod attachments;
mod conversations;
mod eval;
mod organise;
mod prompts;

use std::path::PathBuf;

use crate::error::{Error, Result};

pub use crate::attachments::{
    AttachedImage, Detail, ImageRef, Limits as AttachmentLimits, TextFile,
};
pub use crate::chat::history::{PageAt, ThreadPage};
pub use crate::chat::ChatService;
pub use crate::chat::{MessageView, ThreadMessage};
pub use crate::db::backup::Backup;
pub use crate::db::compact::Compacted;
pub use crate::db::conversations::{Conversation, ConversationSettings, EndpointKind};
pub use crate::db::judging::{JudgeKind, Rubric, Verdict, VerdictFilter};
pub use crate::db::messages::{Message, Status};
pub use crate::db::organise::{Change, Folder, ListedConversation, OrgState, Tag};
pub use crate::db::pricing::ModelInfo;
pub use crate::db::profiles::{ProfileDefaults, ProfileKind};
pub use crate::db::search::local_time;
pub use crate::db::search::{Facets, SearchFilter, SearchHit};
pub use crate::db::tools::FunctionTool;
pub use crate::db::OpenNotice;
pub use crate::params::{ResponseFormat, SchemaCheck};
pub use crate::transfer::{Format, ImportSummary, Progress, Selection};
pub use prompts::Filled;

/// The data directory: `PARLEY_DATA_DIR`, else the OS data dir + `parley`.
pub fn data_dir() -> Result<PathBuf> {
    crate::db::data_dir()
}

/// Where exports go without a dialog: `PARLEY_EXPORT_DIR`, else Downloads, else home.
pub fn export_dir() -> Result<PathBuf> {
    crate::exports::export_dir()
}

/// Milliseconds since the Unix epoch (the stamps stored in the database).
pub fn now_ms() -> i64 {
    crate::db::now_ms()
}

/// The backups of the database in the data directory, newest first, and the folder they are in.
pub fn backups() -> Result<(PathBuf, Vec<crate::db::backup::Backup>)> {
    let dir = data_dir()?;
    Ok((
        crate::db::backup::dir_of(&dir),
        crate::db::backup::list(&dir)?,
    ))
}

/// Puts a backup back in place of the database (the current file is moved aside, never deleted);
/// returns where the current file went. Only with the window closed.
pub fn restore_backup(name: &str) -> Result<PathBuf> {
    crate::db::backup::restore(&data_dir()?, name)
}

/// Held while the window runs: `parley restore` refuses instead of restoring under it. `None`
/// when another window holds it; while `parley restore` swaps the files, waits for it (up to ten
/// minutes) rather than open a file about to be moved aside.
pub fn hold_window_lock() -> Result<Option<crate::db::backup::WindowLock>> {
    let dir = data_dir()?;
    if let Some(lock) = crate::db::backup::hold_window_lock(&dir)? {
        return Ok(Some(lock));
    }
    crate::db::backup::wait_out_restore(&dir, std::time::Duration::from_secs(600))
}

/// Writes today's backup unless there already is one; returns its path when one was written.
pub fn daily_backup() -> Result<Option<PathBuf>> {
    crate::db::backup::daily_for(&data_dir()?)
}

/// Runs CPU-heavy work on a blocking thread, off the async workers (no lock is held).
pub async fn compute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(joined)
}

pub(crate) fn joined(e: tokio::task::JoinError) -> Error {
    Error::Io {
        message: format!("a background task failed: {e}"),
    }
}

impl ChatService {
    /// Runs `f` with the connection on a blocking thread, so the async workers (and the streams
    /// they drive) never wait for the lock. Keep `f` to reading and writing rows; compute outside.
    pub(crate) async fn read_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.with(f))
            .await
            .map_err(joined)?
    }
}
