//! Backups of the database file: before every migration, and once a day while the window is open.
//! Restoring never overwrites: the current file is moved aside first.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{move_aside_as, now_ms, DB_FILE};
use crate::error::{Error, Result};

/// Daily backups kept (migration backups are kept until removed by hand).
pub(crate) const KEEP_DAILY: usize = 5;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// Milliseconds since the epoch, from the name.
    pub taken_at: i64,
}

pub(crate) fn dir_of(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// `parley-<kind>-<ms>.db` → ms.
fn taken_at(name: &str) -> Option<i64> {
    let stem = name.strip_prefix("parley-")?.strip_suffix(".db")?;
    stem.rsplit('-').next()?.parse().ok()
}

/// Every backup, newest first.
pub fn list(data_dir: &Path) -> Result<Vec<Backup>> {
    let dir = dir_of(data_dir);
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(taken_at) = taken_at(&name) {
            out.push(Backup {
                bytes: entry.metadata()?.len(),
                path: entry.path(),
                name,
                taken_at,
            });
        }
    }
    out.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then(b.name.cmp(&a.name)));
    Ok(out)
}

/// A consistent copy of the open database (`VACUUM INTO` a temp name, renamed when complete, so a
/// process killed meanwhile never leaves a half backup that looks whole).
pub fn write(conn: &Connection, data_dir: &Path, kind: &str) -> Result<PathBuf> {
    let dir = dir_of(data_dir);
    std::fs::create_dir_all(&dir)?;
    let name = format!("parley-{kind}-{}.db", now_ms());
    let partial = dir.join(format!("{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    conn.execute("VACUUM INTO ?1", [partial.to_string_lossy()])?;
    let done = dir.join(name);
    std::fs::rename(&partial, &done)?;
    Ok(done)
}

/// Writes today's backup if the newest daily one is a day old (or missing), then keeps the newest
/// [`KEEP_DAILY`]. Returns the new backup, if one was written.
pub fn daily(conn: &Connection, data_dir: &Path) -> Result<Option<PathBuf>> {
    let dailies: Vec<Backup> = list(data_dir)?
        .into_iter()
        .filter(|b| b.name.starts_with("parley-daily-"))
        .collect();
    if dailies
        .first()
        // A backup from "the future" (the clock was wrong) does not count as today's.
        .is_some_and(|b| (0..DAY_MS).contains(&(now_ms() - b.taken_at)))
    {
        return Ok(None);
    }
    let path = write(conn, data_dir, "daily")?;
    for old in list(data_dir)?
        .into_iter()
        .filter(|b| b.name.starts_with("parley-daily-"))
        .skip(KEEP_DAILY)
    {
        std::fs::remove_file(old.path)?;
    }
    Ok(Some(path))
}

/// [`daily`] on its own connection, for a background thread while the app runs.
pub(crate) fn daily_for(data_dir: &Path) -> Result<Option<PathBuf>> {
    let conn = Connection::open(data_dir.join(DB_FILE))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    daily(&conn, data_dir)
}

/// Puts backup `name` in place of the database. The current file (with its -wal/-shm) is moved
/// aside, never overwritten; returns where it went. The backup must pass SQLite's integrity check.
pub fn restore(data_dir: &Path, name: &str) -> Result<PathBuf> {
    let backup = list(data_dir)?
        .into_iter()
        .find(|b| b.name == name)
        .ok_or_else(|| {
            Error::not_found(format!(
                "no backup named \"{name}\" in {}",
                dir_of(data_dir).display()
            ))
        })?;
    let check: String =
        Connection::open_with_flags(&backup.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Error::Database {
            message: format!("backup {name} is damaged ({check}); nothing was changed"),
        });
    }
    // Copy first, then swap: a failed copy leaves the current database where it was.
    let current = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    std::fs::copy(&backup.path, &incoming)?;
    let moved = move_aside_as(&current, "before-restore")?;
    std::fs::rename(&incoming, &current)?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversations, Db};

    fn titles(db: &Db) -> Vec<String> {
        db.with(|c| conversations::list(c))
            .unwrap()
            .into_iter()
            .map(|c| c.title)
            .collect()
    }

    #[test]
    fn backup_then_restore_brings_the_old_state_back_and_keeps_the_current_file() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, "before"))
        })
        .unwrap();
        let path = db.with(|c| write(c, dir.path(), "manual")).unwrap();
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, "after"))
        })
        .unwrap();
        drop(db);

        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert_eq!(list(dir.path()).unwrap()[0].name, name);
        let moved = restore(dir.path(), &name).unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        assert_eq!(titles(&db), ["before"]);
        // The file that was replaced is still there, whole.
        let conn = Connection::open(&moved).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn restore_refuses_unknown_names_and_damaged_backups() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        assert_eq!(
            restore(dir.path(), "../parley.db").unwrap_err().kind(),
            "not_found"
        );
        std::fs::create_dir_all(dir_of(dir.path())).unwrap();
        let bad = dir_of(dir.path()).join("parley-manual-1.db");
        std::fs::write(&bad, b"not a database at all, not even close").unwrap();
        assert!(restore(dir.path(), "parley-manual-1.db").is_err());
        // Nothing was moved.
        assert!(dir.path().join(DB_FILE).exists());
        drop(db);
    }

    #[test]
    fn one_daily_backup_a_day_and_only_the_newest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        assert!(db.with(|c| daily(c, dir.path())).unwrap().is_some());
        assert!(
            db.with(|c| daily(c, dir.path())).unwrap().is_none(),
            "not twice a day"
        );
        // Old dailies beyond KEEP_DAILY are pruned.
        for day in 1..=7 {
            let old =
                dir_of(dir.path()).join(format!("parley-daily-{}.db", now_ms() - day * 2 * DAY_MS));
            std::fs::copy(&list(dir.path()).unwrap()[0].path, old).unwrap();
        }
        let newest = list(dir.path()).unwrap()[0].path.clone();
        std::fs::remove_file(newest).unwrap();
        assert!(db.with(|c| daily(c, dir.path())).unwrap().is_some());
        let dailies = list(dir.path()).unwrap();
        assert_eq!(dailies.len(), KEEP_DAILY);
        assert!(dailies.iter().all(|b| !b.name.ends_with(".partial")));
    }
}
