//! The WAL file is kept between runs (issue 15): what that saves, and why it stays safe.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Keeps the `-wal` file when the last connection closes (SQLITE_FCNTL_PERSIST_WAL). Closing
/// still checkpoints every frame into the database file and syncs it, so the data is in
/// `parley.db` when a process ends; only the file stays, its frames already copied. The next
/// process's first write then appends to it. Without this, SQLite deleted the file on close, and
/// the next first write made a new one and synced its header and the folder: two fsyncs, ~25 ms
/// of every `parley ask` before its request went out. No `journal_size_limit`: with one, SQLite
/// truncates the kept file to nothing on close and the next write pays the header sync again.
/// The file stays bounded by the auto-checkpoint (1,000 pages), after which SQLite starts it
/// over (one header sync, in the middle of some run).
pub(crate) fn persist(conn: &Connection) -> Result<()> {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: the handle is this live connection's (borrowed for the call); the op reads and
    // writes one int, which lives across the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::ffi::c_int).cast(),
        )
    };
    // An in-memory database has no file to keep (SQLITE_NOTFOUND): nothing to do.
    if rc != rusqlite::ffi::SQLITE_OK && rc != rusqlite::ffi::SQLITE_NOTFOUND {
        return Err(Error::Database {
            message: format!("could not keep the WAL file between runs (SQLite code {rc})"),
        });
    }
    Ok(())
}
