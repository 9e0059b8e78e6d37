//! A full disk, a read-only data folder and a database another program holds locked (issue 14):
//! each refuses the write with a clear message (kind `database`), keeps everything saved before,
//! leaves the file whole (`integrity_check` ok), and Parley works again once the cause is gone.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use parley_core::chat::{ChatService, EnvFallback, SendRequest};
use parley_core::db::{conversations, Db, DB_FILE};
use parley_core::secrets::MemoryStore;
use parley_core::transfer::import_file;
use rusqlite::Connection;

use crate::common::{tempdir, Events};
use crate::fake_openai::FakeOpenAi;

/// A data folder holding one conversation titled "saved before".
fn seeded(dir: &Path) -> Db {
    let (db, _) = Db::open_dir(dir).unwrap();
    db.with(|c| {
        let id = conversations::create(c, None)?.id;
        conversations::rename(c, id, "saved before")?;
        Ok(())
    })
    .unwrap();
    db
}

fn titles(dir: &Path) -> Vec<String> {
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    let mut st = conn
        .prepare("SELECT title FROM conversations ORDER BY id")
        .unwrap();
    let v = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    v
}

fn integrity(dir: &Path) -> String {
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

/// A ChatGPT export of `n` conversations (a few KB each).
fn export(dir: &Path, n: usize) -> std::path::PathBuf {
    let convs: Vec<_> = (0..n)
        .map(|i| serde_json::json!({"title": format!("imported {i}"), "create_time": 1_700_000_000.0 + i as f64,
            "current_node": "a", "mapping": {"a": {"id": "a", "parent": null, "children": [],
            "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["words ".repeat(500)]}}}}}))
        .collect();
    let path = dir.join("conversations.json");
    std::fs::write(&path, serde_json::Value::Array(convs).to_string()).unwrap();
    path
}

fn set_max_pages(db: &Db, extra: i64) {
    db.with(|c| {
        let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let max = if extra < 0 {
            1_073_741_823
        } else {
            pages + extra
        };
        c.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
            r.get::<_, i64>(0)
        })?;
        Ok(())
    })
    .unwrap();
}

/// The disk filling up is simulated with SQLite's page limit on Parley's own connection: the
/// same SQLITE_FULL a full disk gives.
#[tokio::test]
async fn a_full_disk_refuses_the_write_with_a_clear_message_and_keeps_what_was_saved() {
    let dir = tempdir();
    let files = tempdir();
    let db = seeded(dir.path());
    set_max_pages(&db, 3);
    let err = db
        .with(|c| import_file(c, &export(files.path(), 400), &mut |_| true))
        .unwrap_err();
    assert_eq!(err.kind(), "database", "{err}");
    assert!(err.to_string().contains("disk is full"), "{err}");
    // A message sent while the disk is full: a clear error, and no half-written reply.
    let server = FakeOpenAi::start();
    let env = EnvFallback {
        api_key: None,
        base_url: Some(server.base_url()),
    };
    let client = parley_core::openai::Client::new(Default::default()).unwrap();
    let svc = ChatService::new(db.clone(), Arc::new(MemoryStore::default()), client, env);
    let conv = db.with(|c| Ok(conversations::create(c, None)?.id));
    if let Ok(conv) = conv {
        let sent = svc
            .send(
                SendRequest {
                    conversation_id: conv,
                    content: "x".repeat(200_000),
                    ..Default::default()
                },
                Events::default().sink(),
            )
            .await;
        let err = sent.expect_err("a 200 KB message does not fit in a full disk");
        assert!(err.to_string().contains("disk is full"), "{err}");
    }
    set_max_pages(&db, -1);
    drop(svc);
    drop(db);
    assert_eq!(integrity(dir.path()), "ok");
    let kept = titles(dir.path());
    assert_eq!(kept[0], "saved before");
    assert!(!kept.iter().any(|t| t.starts_with("imported")), "{kept:?}");
    // Space again: the same import goes through.
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let summary = db
        .with(|c| import_file(c, &export(files.path(), 400), &mut |_| true))
        .unwrap();
    assert_eq!(summary.conversations, 400);
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `parley import` with the data folder read-only. Root ignores file modes, so as root the folder
/// is bind-mounted read-only in a private mount namespace (unshare -m); otherwise modes do it.
#[test]
fn a_read_only_data_folder_gives_a_clear_message_and_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let files = tempdir();
    drop(seeded(dir.path()));
    let file = export(files.path(), 20);
    let before = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    let parley = crate::bins::parley();
    let out = if running_as_root() {
        // The same environment as every CLI test.
        let cmd = crate::cli::parley(dir.path());
        let mut un = Command::new("unshare");
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => un.env(k, v),
                None => un.env_remove(k),
            };
        }
        un.args([
            "-m",
            "sh",
            "-c",
            "mount --bind -o ro \"$1\" \"$1\" && exec \"$2\" import \"$3\"",
            "sh",
        ])
        .arg(dir.path())
        .arg(&parley)
        .arg(&file)
        .output()
        .unwrap()
    } else {
        let mode = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        mode(&dir.path().join(DB_FILE), 0o400);
        mode(dir.path(), 0o500);
        let out = crate::cli::parley(dir.path())
            .arg("import")
            .arg(&file)
            .output()
            .unwrap();
        mode(dir.path(), 0o700);
        mode(&dir.path().join(DB_FILE), 0o600);
        out
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("read-only") || stderr.contains("cannot be opened"),
        "a clear message: {stderr}"
    );
    eprintln!("read-only folder: {}", stderr.trim());
    assert_eq!(
        std::fs::read(dir.path().join(DB_FILE)).unwrap(),
        before,
        "the file is unchanged"
    );
    assert_eq!(integrity(dir.path()), "ok");
    assert_eq!(titles(dir.path()), ["saved before"]);
}

/// Another program holds an exclusive lock on the database: the write waits (busy timeout), then
/// says the database is locked; opening never mistakes it for damage; nothing is lost.
#[test]
fn a_database_locked_by_another_program_gives_a_clear_message_and_loses_nothing() {
    let dir = tempdir();
    let db = seeded(dir.path());
    let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
    other.busy_timeout(Duration::from_secs(1)).unwrap();
    other
        .execute_batch("BEGIN EXCLUSIVE; UPDATE conversations SET title = 'held' WHERE id < 0;")
        .unwrap();
    let err = db.with(|c| conversations::create(c, None)).unwrap_err();
    assert_eq!(err.kind(), "database");
    assert!(
        err.to_string().contains("locked by another program"),
        "{err}"
    );
    eprintln!("locked database: {err}");
    // A second Parley opening the folder meanwhile: a clear error or a working handle, never a
    // "damaged" file moved aside.
    match Db::open_dir(dir.path()) {
        Ok((_, notices)) => assert!(
            !notices
                .iter()
                .any(|n| matches!(n, parley_core::db::OpenNotice::CorruptMovedAside { .. })),
            "{notices:?}"
        ),
        Err(e) => assert!(e.to_string().contains("locked"), "{e}"),
    }
    assert!(!std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains("corrupt")));
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    db.with(|c| conversations::create(c, None)).unwrap();
    drop(db);
    assert_eq!(integrity(dir.path()), "ok");
    assert_eq!(titles(dir.path())[0], "saved before");
}
