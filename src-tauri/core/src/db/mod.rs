//! SQLite storage: one file, WAL, foreign keys, ordered migrations, backups before migrating,
//! corrupt files moved aside (never overwritten).

pub mod attachments;
pub mod backup;
pub mod compact;
pub mod conversations;
pub mod judging;
pub mod messages;
pub mod migrations;
pub mod organise;
pub mod pricing;
pub mod private;
pub mod profiles;
pub mod rebuild;
pub mod search;
pub mod suite_library;
pub mod suite_prompts;
pub mod suite_replies;
pub mod suites;
pub mod tools;
pub(crate) mod wal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::Connection;

use crate::error::{Error, Result};

pub const DB_FILE: &str = "parley.db";

/// A shared handle on the one connection (one writer). Never hold it across an `.await`:
/// `with` takes a closure, so that cannot happen by accident.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    /// The data directory the file is in (`None` in memory): backups live beside it.
    dir: Option<PathBuf>,
    /// Bounds the kept WAL when the last handle goes (declared after `conn`: dropped after it).
    _trim: Option<Arc<wal::TrimOnClose>>,
}

/// What happened while opening, worth telling the user.
#[derive(Debug, Clone, PartialEq)]
pub enum OpenNotice {
    CorruptMovedAside { moved_to: PathBuf, reason: String },
    BackedUp { path: PathBuf, from_version: i64 },
    Interrupted { replies: usize },
}

impl std::fmt::Display for OpenNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenNotice::CorruptMovedAside { moved_to, reason } => write!(
                f,
                "The database file was damaged ({reason}). It was moved aside to {} and a new one was started. \
                 To go back to a backup: `parley backups`, then `parley restore NAME` (with the window closed).",
                moved_to.display()
            ),
            OpenNotice::BackedUp { path, from_version } => write!(
                f,
                "The database was upgraded from schema {from_version}; a backup was written to {}.",
                path.display()
            ),
            OpenNotice::Interrupted { replies } => {
                write!(f, "{replies} reply(s) were cut off when Parley last stopped; they are kept and marked interrupted.")
            }
        }
    }
}

/// Reads a stored enum column (`table.column` names it in the error). Text this version does not
/// know — the file was edited outside Parley, damaged, or written by a newer one — is an error of
/// kind "database" naming the column and the value, never silently read as another value.
pub(crate) fn stored<T>(
    r: &rusqlite::Row,
    i: usize,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    parse(&text).ok_or_else(|| unknown_value(i, column, &text))
}

/// [`stored`] for a column that may be NULL (NULL reads as `None`).
pub(crate) fn stored_opt<T>(
    r: &rusqlite::Row,
    i: usize,
    column: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    match r.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| unknown_value(i, column, &text)),
    }
}

fn unknown_value(i: usize, column: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!(
            "{column} holds {text:?}, which this version of Parley does not know \
             (the database was changed outside Parley, or by a newer version)"
        )
        .into(),
    )
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The data directory: `PARLEY_DATA_DIR`, else the OS data dir + `parley`.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PARLEY_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("parley"))
        .ok_or_else(|| Error::Io {
            message: "no data directory on this system; set PARLEY_DATA_DIR".into(),
        })
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
        return Err(Error::Database {
            message: format!("could not enable WAL (journal_mode = {mode})"),
        });
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    // In WAL mode NORMAL keeps every committed transaction across a process crash.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Plans that do not depend on bound values (the query planner stability guarantee): without
    // it a statement whose plan could use a value (`MATCH ?` over the search index, `x LIKE ?`)
    // is prepared again each time that value changes: every search as the user types (~5% of a
    // rare word's search on the 1,000,000-message bench). No Parley query needs a value-based
    // plan: its LIKE patterns start with `%`, and it never gathers value statistics (no ANALYZE).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    search::register_functions(conn)?;
    wal::persist(conn)
}

/// What an existing file looks like before Parley touches it.
enum Existing {
    /// With the connection that looked, kept open until the real one is: closing it first would
    /// make the real one read the whole WAL again to rebuild its index.
    Healthy {
        version: i64,
        _looked: Connection,
    },
    Corrupt {
        reason: String,
    },
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Reads the schema version and runs SQLite's quick check without writing anything. Only real
/// corruption counts as corrupt: a busy or unreadable file is an error, never moved aside.
fn inspect(path: &Path) -> Result<Existing> {
    let corrupt = |reason: String| Ok(Existing::Corrupt { reason });
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // It only reads: its close never checkpoints (fsyncs before the first request) nor deletes.
    wal::persist(&conn)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    check_without_index_modules(&conn)?;
    let version: i64 = match conn.pragma_query_value(None, "user_version", |r| r.get(0)) {
        Ok(v) => v,
        Err(e) if is_corruption(&e) => return corrupt(e.to_string()),
        Err(e) => return Err(e.into()),
    };
    match conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)) {
        Ok(s) if s == "ok" => Ok(Existing::Healthy {
            version,
            _looked: conn,
        }),
        Ok(s) => corrupt(s),
        Err(e) if is_corruption(&e) => corrupt(e.to_string()),
        Err(e) => Err(e.into()),
    }
}

/// Takes the virtual-table modules (FTS5) off the connection that checks at start. SQLite 3.44+
/// also runs a virtual table's own check (`xIntegrity`) in `PRAGMA quick_check`, and FTS5's
/// re-reads its whole search index and recomputes a checksum of every entry: 2.7 of the 2.9 s a
/// start took with 100,000 messages (173 MB), 24 s with 1,000,000, growing with the history; the
/// window and every `parley ask` waited for it. Without the module SQLite skips that step (it
/// skips tables whose module is not registered) and checks what the quick check checked before
/// 3.44: every page, cell and record of every table and index in the file, the search index's own
/// tables included, and that each page is used once — file corruption, SECURITY.md D3. What it
/// no longer re-derives at start is whether the search index's entries agree with each other:
/// Settings → Compact checks that and rebuilds the index from the messages when they do not
/// (`db/compact.rs`).
fn check_without_index_modules(conn: &Connection) -> Result<()> {
    // SAFETY: the handle is this live connection's (borrowed for the call); a null list keeps no
    // module. Nothing on this connection has used a virtual table yet.
    let rc = unsafe { rusqlite::ffi::sqlite3_drop_modules(conn.handle(), std::ptr::null_mut()) };
    if rc != rusqlite::ffi::SQLITE_OK {
        return Err(Error::Database {
            message: format!("could not prepare the start-up check (SQLite code {rc})"),
        });
    }
    Ok(())
}

fn stamp() -> String {
    now_ms().to_string()
}

/// Moves the file and its -wal / -shm companions aside; returns where the main file went.
fn move_aside(path: &Path) -> Result<PathBuf> {
    move_aside_as(path, "corrupt")
}

/// Moves `parley.db` (and -wal / -shm) to `parley.db.<why>-<ms>`, never over an existing file.
pub(crate) fn move_aside_as(path: &Path, why: &str) -> Result<PathBuf> {
    let target = path.with_file_name(format!("{DB_FILE}.{why}-{}", stamp()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", path.display()));
        let to = PathBuf::from(format!("{}{suffix}", target.display()));
        if from.exists() {
            if to.exists() {
                return Err(Error::Io {
                    message: format!("{} already exists", to.display()),
                });
            }
            std::fs::rename(&from, &to)?;
        }
    }
    Ok(target)
}

impl Db {
    /// Opens (creating if needed) `dir/parley.db`, checking, backing up and migrating it.
    pub fn open_dir(dir: &Path) -> Result<(Db, Vec<OpenNotice>)> {
        // Other local users read nothing: folder 0700, files 0600, also those made before (D6).
        private::fix_data_dir(dir)?;
        let path = dir.join(DB_FILE);
        let mut notices = Vec::new();
        let mut looked = None;
        if path.exists() {
            match inspect(&path)? {
                Existing::Corrupt { reason } => {
                    let moved_to = move_aside(&path)?;
                    notices.push(OpenNotice::CorruptMovedAside { moved_to, reason });
                }
                // Refuse before anything (even the WAL switch) is written to a newer file.
                Existing::Healthy { version, .. } if version > migrations::latest_version() => {
                    return Err(migrations::newer_than_known(version));
                }
                healthy => looked = Some(healthy),
            }
        }
        if !path.exists() {
            // SQLite gives its -wal and -shm files the database file's mode.
            private::create_new(&path)?;
        }
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        drop(looked);
        let version = migrations::current_version(&conn)?;
        if version > 0 && version < migrations::latest_version() {
            let backup = backup::write(&conn, dir, &format!("v{version}"))?;
            notices.push(OpenNotice::BackedUp {
                path: backup,
                from_version: version,
            });
        }
        migrations::migrate(&mut conn)?;
        let conn = Arc::new(Mutex::new(conn));
        let db = Db {
            conn: conn.clone(),
            dir: Some(dir.to_path_buf()),
            _trim: Some(Arc::new(wal::TrimOnClose(conn))),
        };
        let replies = db.with(messages::mark_interrupted)?;
        if replies > 0 {
            notices.push(OpenNotice::Interrupted { replies });
        }
        db.with(|c| suites::mark_interrupted_runs(c))?;
        db.with(conversations::purge_deleted)?;
        Ok((db, notices))
    }

    /// An in-memory database with the full schema, for tests and fuzz targets.
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn open_in_memory() -> Result<Db> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrations::migrate(&mut conn)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            dir: None,
            _trim: None,
        })
    }

    /// The data directory (backups, the window lock); an error for an in-memory database.
    pub fn dir(&self) -> Result<&Path> {
        self.dir
            .as_deref()
            .ok_or_else(|| Error::not_found("a data directory (in-memory database)"))
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut guard = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }

    /// Gives back the connection's page cache (up to 2 MiB, kept while a window stays open and
    /// filled as conversations are read; issue 15). The next queries read those pages again, from
    /// the operating system's cache.
    pub fn release_memory(&self) -> Result<()> {
        self.with(|c| Ok(c.execute_batch("PRAGMA shrink_memory")?))
    }
}

/// For tests: a new conversation holding one user message per text (the triggers index them).
#[cfg(test)]
pub(crate) fn conversation_with(
    c: &Connection,
    texts: impl IntoIterator<Item = String>,
) -> Result<i64> {
    let conv = conversations::create(c, None)?;
    for text in texts {
        c.execute(
            "INSERT INTO messages(conversation_id, role, content, status, created_at)
             VALUES (?1, 'user', ?2, 'done', 0)",
            rusqlite::params![conv.id, text],
        )?;
    }
    Ok(conv.id)
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
