//! Backups of the database file: before every migration, and once a day while the window is open.
//! Restoring never overwrites: the current file is moved aside first.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::{move_aside_as, now_ms, DB_FILE};
use crate::error::{Error, Result};

/// Daily backups kept (migration backups are kept until removed by hand).
pub(crate) const KEEP_DAILY: usize = 5;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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
    super::private::dir(&dir)?;
    let name = format!("parley-{kind}-{}.db", now_ms());
    let partial = dir.join(format!("{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    // An empty 0600 file first: VACUUM INTO fills an empty file and keeps its mode.
    super::private::create_new(&partial)?;
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
    super::wal::persist(&conn)?;
    daily(&conn, data_dir)
}

/// The file the window holds an advisory lock on while it has the database open.
pub const LOCK_FILE: &str = "parley.lock";

/// Held by the window for as long as it runs: `parley restore` refuses while it is held.
pub struct WindowLock(#[allow(dead_code)] std::fs::File);

fn open_lock(data_dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(data_dir)?;
    Ok(std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join(LOCK_FILE))?)
}

/// Takes the window's lock (the OS drops it when the process ends, even on a crash). `None` when
/// another window already holds it.
#[allow(clippy::incompatible_msrv)] // File::try_lock: Rust 1.89; the toolchain here is newer.
pub fn hold_window_lock(data_dir: &Path) -> Result<Option<WindowLock>> {
    let file = open_lock(data_dir)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(WindowLock(file))),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Beside the lock while `parley restore` swaps the files: a window that starts then waits for the
/// lock instead of opening a file about to be moved aside ([`wait_out_restore`]).
const RESTORING_MARK: &str = "parley.restoring";

/// `parley restore`: refuses while the window has the database open, instead of restoring under it,
/// and holds the window's lock until the files are swapped.
pub fn restore(data_dir: &Path, name: &str) -> Result<PathBuf> {
    let Some(lock) = hold_window_lock(data_dir)? else {
        return Err(Error::invalid(
            "The Parley window has this database open: close it first, or restore from \
             Settings → Backups in the window. Nothing was changed.",
        ));
    };
    let mark = data_dir.join(RESTORING_MARK);
    std::fs::write(&mark, std::process::id().to_string())?;
    let result = restore_files(data_dir, name);
    // The lock first: a window waiting on the mark finds it free.
    drop(lock);
    let _ = std::fs::remove_file(&mark);
    result
}

/// A window that found the lock held: when it is `parley restore` swapping the files (the mark
/// names a process that still runs), waits for it to finish and takes the lock; when it is another
/// window, `None` at once. A mark left by a restore that died is stale: its process is gone.
pub fn wait_out_restore(
    data_dir: &Path,
    at_most: std::time::Duration,
) -> Result<Option<WindowLock>> {
    let since = std::time::Instant::now();
    loop {
        if let Some(lock) = hold_window_lock(data_dir)? {
            return Ok(Some(lock));
        }
        if !restoring(data_dir) || since.elapsed() >= at_most {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Whether a `parley restore` that still runs left its mark (its process id) in `data_dir`.
fn restoring(data_dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(data_dir.join(RESTORING_MARK)) else {
        return false;
    };
    match text.trim().parse::<u32>() {
        #[cfg(target_os = "linux")]
        Ok(pid) => Path::new(&format!("/proc/{pid}")).exists(),
        #[cfg(not(target_os = "linux"))]
        Ok(_) => true,
        Err(_) => false,
    }
}

/// The window's restore: closes its connection, swaps the files (the current one moved aside),
/// and opens the restored database in place, so the window goes on without a restart. If the swap
/// fails the current database is opened again. Returns where the replaced file went.
pub fn restore_live(db: &super::Db, data_dir: &Path, name: &str) -> Result<PathBuf> {
    let mut guard = db.conn.lock().unwrap_or_else(|p| p.into_inner());
    // Close the file: a placeholder connection stands in for the moment of the swap.
    let old = std::mem::replace(&mut *guard, rusqlite::Connection::open_in_memory()?);
    if let Err((_, e)) = old.close() {
        return Err(e.into());
    }
    let result = restore_files(data_dir, name);
    let (reopened, _) = match (super::Db::open_dir(data_dir), &result) {
        (Ok(opened), _) => opened,
        // The restored file does not open: the one it replaced goes back (the restored copy is
        // dropped: the backup itself stays in its folder), and the window goes on with it.
        (Err(e), Ok(moved)) => {
            put_back(data_dir, moved)?;
            let (db, _) = super::Db::open_dir(data_dir)?;
            let super::Db { conn, _trim, .. } = db;
            drop(_trim);
            *guard = unshare(conn)?;
            return Err(e);
        }
        (Err(e), Err(_)) => return Err(e),
    };
    // Its WAL bound lets go of its share first (`db` keeps its own, on the same mutex).
    let super::Db { conn, _trim, .. } = reopened;
    drop(_trim);
    *guard = unshare(conn)?;
    result
}

fn unshare(conn: std::sync::Arc<std::sync::Mutex<Connection>>) -> Result<Connection> {
    Ok(std::sync::Arc::try_unwrap(conn)
        .map_err(|_| Error::Database {
            message: "the reopened database is shared".into(),
        })?
        .into_inner()
        .unwrap_or_else(|p| p.into_inner()))
}

/// Undoes a swap: the restored copy (and its side files) removed, `moved` back in its place.
fn put_back(data_dir: &Path, moved: &Path) -> Result<()> {
    let current = data_dir.join(DB_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", current.display()));
    }
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", moved.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{suffix}", current.display()))?;
        }
    }
    Ok(())
}

/// Puts backup `name` in place of the database. The current file (with its -wal/-shm) is moved
/// aside, never overwritten; returns where it went. The backup must pass SQLite's integrity check.
fn restore_files(data_dir: &Path, name: &str) -> Result<PathBuf> {
    let backup = list(data_dir)?
        .into_iter()
        .find(|b| b.name == name)
        .ok_or_else(|| {
            Error::not_found(format!(
                "no backup named \"{name}\" in {}",
                dir_of(data_dir).display()
            ))
        })?;
    let conn =
        Connection::open_with_flags(&backup.path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(Error::Database {
            message: format!("backup {name} is damaged ({check}); nothing was changed"),
        });
    }
    // A backup a newer Parley made (kept after a downgrade) would not open here.
    let version = super::migrations::current_version(&conn)?;
    drop(conn);
    if version > super::migrations::latest_version() {
        return Err(super::migrations::newer_than_known(version));
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
    fn restore_refuses_while_the_window_holds_the_database_and_the_window_restores_live() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, "kept"))
        })
        .unwrap();
        let name = db.with(|c| write(c, dir.path(), "daily")).unwrap();
        let name = name.file_name().unwrap().to_string_lossy().to_string();
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, "newer"))
        })
        .unwrap();
        let lock = hold_window_lock(dir.path())
            .unwrap()
            .expect("the first window gets the lock");
        assert!(
            hold_window_lock(dir.path()).unwrap().is_none(),
            "a second window does not"
        );
        let err = restore(dir.path(), &name).unwrap_err();
        assert!(err.to_string().contains("close it first"), "{err}");
        assert_eq!(titles(&db), ["newer", "kept"], "nothing changed");
        // The window itself restores, and goes on with the restored database at once.
        let moved = restore_live(&db, dir.path(), &name).unwrap();
        assert_eq!(titles(&db), ["kept"]);
        assert!(moved.exists());
        db.with(|c| conversations::create(c, None).map(|_| ()))
            .unwrap();
        drop(lock);
        assert!(
            hold_window_lock(dir.path()).unwrap().is_some(),
            "the lock is free again"
        );
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

    fn backup_of(db: &Db, dir: &Path, title: &str) -> String {
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, title))
        })
        .unwrap();
        let path = db.with(|c| write(c, dir, "manual")).unwrap();
        path.file_name().unwrap().to_string_lossy().to_string()
    }

    #[test]
    fn a_backup_from_a_newer_parley_is_refused_before_anything_moves() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let name = backup_of(&db, dir.path(), "mine");
        let newer = crate::db::migrations::latest_version() + 1;
        Connection::open(dir_of(dir.path()).join(&name))
            .unwrap()
            .pragma_update(None, "user_version", newer)
            .unwrap();
        let err = restore_live(&db, dir.path(), &name).unwrap_err();
        assert!(err.to_string().contains("newer Parley"), "{err}");
        assert_eq!(
            titles(&db),
            ["mine"],
            "the window goes on with its own file"
        );
        drop(db);
        assert!(restore(dir.path(), &name).is_err());
        let moved: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
            .collect();
        assert!(moved.is_empty(), "nothing moved aside");
    }

    #[test]
    fn a_swap_is_undone_when_the_restored_file_will_not_do() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let name = backup_of(&db, dir.path(), "old");
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, "new"))
        })
        .unwrap();
        drop(db);
        let moved = restore_files(dir.path(), &name).unwrap();
        put_back(dir.path(), &moved).unwrap();
        assert!(!moved.exists());
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        assert_eq!(titles(&db), ["new", "old"]);
    }

    #[test]
    fn a_window_waits_out_a_restore_and_not_another_window() {
        let dir = tempfile::tempdir().unwrap();
        let short = std::time::Duration::from_secs(30);
        // Another window: no wait.
        let other = hold_window_lock(dir.path()).unwrap().unwrap();
        let t = std::time::Instant::now();
        assert!(wait_out_restore(dir.path(), short).unwrap().is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // A restore under way (its lock and its mark, naming a process that runs): the window
        // waits for it, then gets the lock.
        let mark = dir.path().join(RESTORING_MARK);
        std::fs::write(&mark, std::process::id().to_string()).unwrap();
        let path = dir.path().to_path_buf();
        let restoring = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(other);
            let _ = std::fs::remove_file(path.join(RESTORING_MARK));
        });
        let lock = wait_out_restore(dir.path(), short).unwrap();
        assert!(lock.is_some(), "the lock, once the restore let go of it");
        restoring.join().unwrap();
        // A mark a restore left when it died is stale: the lock is free, or (another window
        // holding it) no wait, since its process is gone.
        drop(lock);
        std::fs::write(&mark, u32::MAX.to_string()).unwrap();
        let other = wait_out_restore(dir.path(), short).unwrap();
        assert!(other.is_some());
        let t = std::time::Instant::now();
        assert!(wait_out_restore(dir.path(), short).unwrap().is_none());
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
    }
}
