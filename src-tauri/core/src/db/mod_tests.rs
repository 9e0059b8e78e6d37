//! The database's own tests: opening, checking at start, moving a damaged file aside, WAL, backups
//! before migrating, memory release.

use super::*;

/// Bytes of page cache the connection holds (`SQLITE_DBSTATUS_CACHE_USED`).
fn cache_used(db: &Db) -> i64 {
    db.with(|c| {
        let (mut current, mut highest) = (0, 0);
        // SAFETY: the handle is this live connection's, held under the lock for the call;
        // SQLite writes the two ints, which live across the call.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_db_status(
                c.handle(),
                rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
                &mut current,
                &mut highest,
                0,
            )
        };
        assert_eq!(rc, rusqlite::ffi::SQLITE_OK);
        Ok(i64::from(current))
    })
    .unwrap()
}

#[test]
fn a_memory_release_gives_the_page_cache_back() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let text = "a message of some length ".repeat(40);
    db.with(|c| {
        c.execute_batch("CREATE TABLE t(x TEXT)")?;
        let tx = c.transaction()?;
        for _ in 0..2_000 {
            tx.execute("INSERT INTO t VALUES (?1)", [&text])?;
        }
        Ok(tx.commit()?)
    })
    .unwrap();
    let read = |db: &Db| {
        db.with(|c| Ok(c.query_row("SELECT sum(length(x)) FROM t", [], |r| r.get::<_, i64>(0))?))
            .unwrap()
    };
    assert_eq!(read(&db), 2_000 * text.len() as i64);
    let before = cache_used(&db);
    assert!(before > 1_000_000, "{before} bytes cached");
    db.release_memory().unwrap();
    let after = cache_used(&db);
    assert!(after < before / 10, "{before} → {after} bytes");
    // Nothing is lost: the next read finds every row again.
    assert_eq!(read(&db), 2_000 * text.len() as i64);
}

#[test]
fn corrupt_file_is_moved_aside_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let garbage = b"this is not a database, it is a note the user cares about".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let (db, notices) = Db::open_dir(dir.path()).unwrap();
    let moved = match &notices[0] {
        OpenNotice::CorruptMovedAside { moved_to, .. } => moved_to.clone(),
        other => panic!("unexpected notice {other:?}"),
    };
    assert_eq!(std::fs::read(&moved).unwrap(), garbage);
    let n: i64 = db
        .with(|c| Ok(c.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(n, 0);
}

/// The start-up check still reads every page: a damaged page inside a sound file (the
/// messages table's root) is found and the file moved aside, as a file that is not a
/// database is.
#[test]
fn a_damaged_page_inside_the_file_is_found_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let (root, page_size) = {
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| {
            let text = "a message long enough to need many pages ".repeat(20);
            conversation_with(c, std::iter::repeat_n(text, 200))?;
            let root: i64 = c.query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name = 'messages'",
                [],
                |r| r.get(0),
            )?;
            let size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            Ok((root, size))
        })
        .unwrap()
    };
    // Closing copied every page into the file; the kept WAL would otherwise shadow it.
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", path.display()));
    }
    let mut bytes = std::fs::read(&path).unwrap();
    let at = ((root - 1) * page_size) as usize;
    assert_eq!(
        bytes[at], 0x05,
        "the root of a table of many pages is an interior page"
    );
    bytes[at] = 0x00;
    std::fs::write(&path, &bytes).unwrap();
    let (_db, notices) = Db::open_dir(dir.path()).unwrap();
    let moved = match &notices[..] {
        [OpenNotice::CorruptMovedAside { moved_to, .. }] => moved_to.clone(),
        other => panic!("unexpected notices {other:?}"),
    };
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        bytes,
        "moved, not rewritten"
    );
}

#[test]
fn reopening_keeps_data_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (db, notices) = Db::open_dir(dir.path()).unwrap();
        assert!(notices.is_empty());
        db.with(|c| conversations::create(c, None).map(|_| ()))
            .unwrap();
    }
    let (db, notices) = Db::open_dir(dir.path()).unwrap();
    assert!(notices.is_empty());
    let (n, mode): (i64, String) = db
        .with(|c| {
            let n = c.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))?;
            let mode = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            Ok((n, mode))
        })
        .unwrap();
    assert_eq!((n, mode.as_str()), (1, "wal"));
}

#[test]
fn an_older_schema_is_backed_up_before_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        // A file as Parley with schema 1 left it, with a conversation in it.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(migrations::MIGRATIONS[0]).unwrap();
        conn.execute(
            "INSERT INTO conversations(title, created_at, updated_at) VALUES ('old', 1, 1)",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let (db, notices) = Db::open_dir(dir.path()).unwrap();
    let backup = notices
        .iter()
        .find_map(|n| match n {
            OpenNotice::BackedUp {
                path,
                from_version: 1,
            } => Some(path.clone()),
            _ => None,
        })
        .expect("a backup notice");
    let conn = Connection::open(&backup).unwrap();
    let (title, v): (String, i64) = conn
        .query_row(
            "SELECT title, (SELECT user_version FROM pragma_user_version) FROM conversations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((title.as_str(), v), ("old", 1));
    let latest: i64 = db.with(|c| migrations::current_version(c)).unwrap();
    assert_eq!(latest, migrations::latest_version());
}

#[test]
fn unknown_text_in_a_stored_enum_column_is_an_error_not_another_value() {
    let db = Db::open_in_memory().unwrap();
    let id = db
        .with(|c| {
            let conv = conversations::create(c, None)?;
            let user = messages::insert_user(c, conv.id, None, "hi")?;
            // As if another program (or a newer Parley) had written a role this one does not
            // know; the CHECK constraint is switched off to get it into the file.
            c.pragma_update(None, "ignore_check_constraints", true)?;
            c.execute(
                "UPDATE messages SET role = 'robot' WHERE id = ?1",
                [user.id],
            )?;
            Ok(user.id)
        })
        .unwrap();
    let err = db.with(|c| messages::get(c, id)).unwrap_err();
    assert_eq!(err.kind(), "database");
    let text = err.to_string();
    assert!(
        text.contains("messages.role") && text.contains("\"robot\""),
        "{text}"
    );
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE future(x)").unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let err = Db::open_dir(dir.path()).err().expect("must refuse");
    assert!(
        !dir.path().join("parley.db-wal").exists(),
        "nothing, not even the WAL switch, is written to a newer file"
    );
    assert!(err.to_string().contains("newer Parley"), "{err}");
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 999);
}

/// How many times SQLite prepared each of the connection's statements again, by their SQL.
fn reprepared(c: &Connection) -> Vec<(String, i32)> {
    let mut out = Vec::new();
    // SAFETY: the handle is this live connection's, used on this thread only; each statement
    // pointer comes from SQLite's own list of the connection's statements and is only read.
    unsafe {
        let mut st = rusqlite::ffi::sqlite3_next_stmt(c.handle(), std::ptr::null_mut());
        while !st.is_null() {
            let sql = std::ffi::CStr::from_ptr(rusqlite::ffi::sqlite3_sql(st));
            let count = rusqlite::ffi::sqlite3_stmt_status(
                st,
                rusqlite::ffi::SQLITE_STMTSTATUS_REPREPARE,
                0,
            );
            out.push((sql.to_string_lossy().into_owned(), count));
            st = rusqlite::ffi::sqlite3_next_stmt(c.handle(), st);
        }
    }
    out
}

/// Searching word after word (as the user types) runs the same prepared statements: their plans
/// do not depend on the words (configure's QPSG; without it each new word prepared the search's
/// statement again).
#[test]
fn a_new_search_word_does_not_prepare_the_search_again() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    db.with(|c| {
        conversation_with(c, ["carson and the pacers, shuffled".to_string()])?;
        for word in [
            "carson",
            "pacers",
            "shuffled",
            "zebrafish",
            "car",
            "pacer",
            "ca",
        ] {
            let hits = search::search(c, word, &Default::default(), 50)?;
            assert_eq!(hits.len(), usize::from(word != "zebrafish"), "{word}");
        }
        let again: Vec<_> = reprepared(c)
            .into_iter()
            .filter(|(sql, n)| sql.contains("FROM messages") && *n > 0)
            .collect();
        assert!(again.is_empty(), "prepared again: {again:?}");
        Ok(())
    })
    .unwrap();
}
