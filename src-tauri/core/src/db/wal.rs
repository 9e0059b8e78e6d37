//! The WAL file is kept between runs (issue 15): what that saves, and why it stays safe.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Keeps the `-wal` file when the last connection closes (SQLITE_FCNTL_PERSIST_WAL). Closing
/// still checkpoints every frame into the database file and syncs it, so the data is in
/// `parley.db` when a process ends; only the file stays, its frames already copied. The next
/// process's first write then appends to it. Without this, SQLite deleted the file on close, and
/// the next first write made a new one and synced its header and the folder: two fsyncs, ~25 ms
/// of every `parley ask` before its request went out. No `journal_size_limit`: with one, SQLite
/// truncates the kept file to nothing on close and the next write pays the header sync again.
/// Each run appends its frames (~30 for an `ask`) and the next one reads them all to rebuild the
/// WAL index, so the kept file is bounded by [`KEEP_FRAMES`] (see [`TrimOnClose`]).
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

/// Frames the kept WAL may hold when the database closes (~1 MB): more, and closing empties the
/// file, so the next run's first write pays the header and folder syncs once (about one run in
/// eight of `parley ask`), and no start reads more than this to rebuild the WAL index.
pub(crate) const KEEP_FRAMES: i64 = 256;

/// Runs [`trim`] when the last handle on the database goes, before SQLite's own close.
pub(crate) struct TrimOnClose(pub(crate) Arc<Mutex<Connection>>);

impl Drop for TrimOnClose {
    fn drop(&mut self) {
        let conn = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Best effort: SQLite's close checkpoints anyway; only the bound would be missed.
        let _ = trim(&conn);
    }
}

/// Checkpoints, and empties the WAL file when it holds more than [`KEEP_FRAMES`] frames.
/// Returns whether it emptied it.
pub(crate) fn trim(conn: &Connection) -> Result<bool> {
    let frames: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    if frames <= KEEP_FRAMES {
        return Ok(false);
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversations, Db};

    fn wal_len(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("parley.db-wal")).unwrap().len()
    }

    #[test]
    fn the_wal_is_kept_on_close_and_emptied_once_it_outgrows_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| conversations::create(c, None).map(|_| ()))
            .unwrap();
        drop(db);
        let kept = wal_len(dir.path());
        assert!(kept > 0, "a small WAL is kept");
        // Many small transactions, each a few frames: past the bound, closing empties it.
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        for _ in 0..KEEP_FRAMES {
            db.with(|c| conversations::create(c, None).map(|_| ()))
                .unwrap();
        }
        drop(db);
        assert_eq!(wal_len(dir.path()), 0);
        // Nothing was lost on the way.
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let n = db.with(|c| conversations::list(c)).unwrap().len() as i64;
        assert_eq!(n, KEEP_FRAMES + 1);
    }
}
