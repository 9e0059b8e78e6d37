//! Giving back the space of deleted rows: `VACUUM` rewrites the file without its free pages, then
//! a WAL checkpoint folds the rewrite into the file and truncates the WAL. Settings → "Compact".

use std::path::Path;

use rusqlite::Connection;

use crate::error::Result;

/// The database's size on disk before and after compacting (main file plus its WAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compacted {
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// The file and its WAL, in bytes (0 for what does not exist).
pub fn bytes_on_disk(db_file: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = db_file.with_file_name(format!(
        "{}-wal",
        db_file.file_name().unwrap_or_default().to_string_lossy()
    ));
    size(db_file) + size(&wal)
}

/// Checkpoints, vacuums and checkpoints again on the one connection (callers hold it, so no
/// write of a streaming reply interleaves). Needs free disk space about the file's size; without
/// it SQLite fails and the file stays as it was.
pub fn vacuum(conn: &Connection, db_file: &Path) -> Result<Compacted> {
    let checkpoint = |c: &Connection| -> Result<()> {
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    };
    checkpoint(conn)?;
    let bytes_before = bytes_on_disk(db_file);
    conn.execute_batch("VACUUM")?;
    checkpoint(conn)?;
    Ok(Compacted {
        bytes_before,
        bytes_after: bytes_on_disk(db_file),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversations, Db, DB_FILE};

    #[test]
    fn compacting_gives_back_the_space_of_deleted_rows_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let path = dir.path().join(DB_FILE);
        let filler = "x".repeat(600);
        let kept = db
            .with(|c| {
                let kept = conversations::create(c, None)?;
                c.execute(
                    "INSERT INTO messages(conversation_id, role, content, status, created_at)
                     VALUES (?1, 'user', 'keep me', 'done', 0)",
                    [kept.id],
                )?;
                let gone = conversations::create(c, None)?;
                let tx = c.transaction()?;
                for _ in 0..2_000 {
                    tx.execute(
                        "INSERT INTO messages(conversation_id, role, content, status, created_at)
                         VALUES (?1, 'user', ?2, 'done', 0)",
                        rusqlite::params![gone.id, filler],
                    )?;
                }
                tx.commit()?;
                c.execute("DELETE FROM messages WHERE conversation_id = ?1", [gone.id])?;
                Ok(kept)
            })
            .unwrap();
        let done = db.with(|c| vacuum(c, &path)).unwrap();
        assert!(
            done.bytes_after * 2 < done.bytes_before,
            "the free pages went back: {done:?}"
        );
        assert_eq!(done.bytes_after, bytes_on_disk(&path));
        let text: String = db
            .with(|c| {
                Ok(c.query_row(
                    "SELECT content FROM messages WHERE conversation_id = ?1",
                    [kept.id],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(text, "keep me");
    }
}
