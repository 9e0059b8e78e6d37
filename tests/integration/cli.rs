//! The `parley` binary, headless: `ask`, `--continue`, stdin, errors, `--help` without a display,
//! and `kill -9` in the middle of a stream.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use parley_core::db::messages::{self, Role, Status};
use parley_core::db::{conversations, Db, OpenNotice};

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

pub fn parley(data_dir: &Path) -> Command {
    let mut cmd = Command::new(crate::bins::parley());
    cmd.env("PARLEY_DATA_DIR", data_dir)
        // Headless must not need a display.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        // Another test of this process turns tracing on (faults.rs); `parley` here prints none.
        .env_remove("PARLEY_TRACE");
    cmd
}

/// Fails the test with the command's stderr when it did not exit 0.
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` with `input` on its stdin (its output inherited); its exit status.
pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> std::process::ExitStatus {
    use std::io::Write;
    let mut child = cmd.stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait().unwrap()
}

/// `parley ask --model MODEL PROMPT` against `server`, its stdout piped, left running.
fn spawn_ask(dir: &Path, server: &FakeOpenAi, model: &str, prompt: &str) -> std::process::Child {
    parley(dir)
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--model", model, prompt])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub(crate) fn ask(dir: &Path, server: &FakeOpenAi, args: &[&str]) -> Output {
    parley(dir)
        .env("OPENAI_BASE_URL", server.base_url())
        .env("OPENAI_API_KEY", "sk-cli-test")
        .arg("ask")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn help_works_without_a_display() {
    let dir = tempdir();
    let out = parley(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ask") && text.contains("key"), "{text}");
    let out = parley(dir.path()).args(["ask", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--model",
        "--base-url",
        "--system",
        "--temperature",
        "--max-tokens",
        "--continue",
    ] {
        assert!(text.contains(flag), "missing {flag} in: {text}");
    }
}

#[test]
fn ask_streams_only_the_reply_to_stdout_and_saves_it() {
    let server = FakeOpenAi::start_with_key("sk-cli-test");
    let dir = tempdir();
    let out = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-model",
            "--system",
            "Be nice.",
            "--temperature",
            "0.5",
            "--top-p",
            "0.8",
            "--frequency-penalty",
            "-1",
            "--presence-penalty",
            "1.5",
            "--stop",
            "END",
            "--stop",
            "###",
            "--seed",
            "-123",
            "hi there",
        ],
    );
    assert_succeeded(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Echo: hi there");
    let body = &server.requests()[0].body;
    assert_eq!(body["messages"][0]["content"], "Be nice.");
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["top_p"], 0.8);
    assert_eq!(body["frequency_penalty"], -1.0);
    assert_eq!(body["presence_penalty"], 1.5);
    assert_eq!(body["stop"], serde_json::json!(["END", "###"]));
    assert_eq!(body["seed"], -123);

    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let conv = db.with(|c| conversations::latest(c)).unwrap().unwrap();
    let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
    assert_eq!(path.len(), 2);
    assert_eq!(path[1].content, "Echo: hi there");
    assert_eq!(path[1].status, Status::Done);
    assert_eq!(conv.settings.system_prompt, "Be nice.");
}

#[test]
fn continue_sends_the_history_and_stdin_gives_the_prompt() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    assert!(
        ask(dir.path(), &server, &["--model", "test-model", "first"])
            .status
            .success()
    );
    let mut child = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--continue"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all("second 第二".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Echo: second 第二");
    let msgs = server.requests()[1].body["messages"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    assert_eq!(db.with(|c| conversations::list(c)).unwrap().len(), 1);
}

#[test]
fn errors_go_to_stderr_with_a_failing_exit_code_and_the_message_is_kept() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let out = ask(
        dir.path(),
        &server,
        &["--model", "missing-model", "keep me"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("missing-model") && err.contains("was saved"),
        "{err}"
    );
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let conv = db.with(|c| conversations::latest(c)).unwrap().unwrap();
    let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
    assert_eq!(path[0].content, "keep me");

    let out = parley(dir.path())
        .args(["ask", "--base-url", "not a url", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a URL"));
}

#[test]
fn kill_9_mid_stream_loses_nothing_committed() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let mut child = spawn_ask(dir.path(), &server, "test-slow-20", "survive this");
    // Wait until the reply is streaming and at least one checkpoint interval has passed.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    let started = Instant::now();
    std::thread::sleep(parley_core::chat::CHECKPOINT_EVERY * 2);
    // SIGKILL: no destructor, no cleanup.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the stream should still have been running"
    );

    let (db, notices) = Db::open_dir(dir.path()).unwrap();
    assert!(
        notices.contains(&OpenNotice::Interrupted { replies: 1 }),
        "{notices:?}"
    );
    let check: String = db
        .with(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(check, "ok");
    let conv = db.with(|c| conversations::latest(c)).unwrap().unwrap();
    let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
    assert_eq!(
        (path[0].role, path[0].content.as_str()),
        (Role::User, "survive this")
    );
    assert_eq!(path[1].status, Status::Interrupted);
    assert!(
        path[1].content.starts_with("Echo: survive this w0"),
        "partial reply kept: {:?}",
        path[1].content
    );
}

#[test]
fn without_a_keyring_keys_fail_clearly_and_the_environment_key_still_works() {
    let server = FakeOpenAi::start_with_key("sk-cli-test");
    let dir = tempdir();
    let no_bus = "unix:path=/nonexistent/parley-test-bus";
    let out = parley(dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .args(["key", "status"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keyring is not available") && err.contains("never stores keys anywhere else"),
        "{err}"
    );

    let out = parley(dir.path())
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .env("OPENAI_API_KEY", "sk-cli-test")
        .args([
            "ask",
            "--base-url",
            &server.base_url(),
            "--model",
            "test-model",
            "env key",
        ])
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Echo: env key");
}

#[test]
fn bad_flags_or_an_empty_prompt_leave_no_empty_conversation() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    for args in [
        &["--temperature", "7", "hi"][..],
        &["   "][..],
        &["--base-url", "ftp://x", "hi"][..],
    ] {
        let out = ask(dir.path(), &server, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty());
    }
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    assert!(db.with(|c| conversations::list(c)).unwrap().is_empty());
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_second_parley_starting_mid_stream_leaves_the_live_reply_alone() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let mut child = spawn_ask(dir.path(), &server, "test-slow-10", "still going");
    let mut first = [0u8; 8];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    // Another Parley (the window, say) opens the same file while the reply streams.
    let (db, notices) = Db::open_dir(dir.path()).unwrap();
    assert!(
        !notices
            .iter()
            .any(|n| matches!(n, OpenNotice::Interrupted { .. })),
        "{notices:?}"
    );
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let conv = db.with(|c| conversations::latest(c)).unwrap().unwrap();
    let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
    assert_eq!(
        path[1].status,
        Status::Done,
        "the live reply finished normally"
    );
    assert!(path[1].content.ends_with("w199"));
}

#[test]
fn an_upgrade_backup_is_listed_and_restored_from_the_command_line() {
    let dir = tempdir();
    {
        // A database as an older Parley (schema 1) left it.
        let conn = rusqlite::Connection::open(dir.path().join("parley.db")).unwrap();
        conn.execute_batch(parley_core::db::migrations::MIGRATIONS[0])
            .unwrap();
        conn.execute(
            "INSERT INTO conversations(title, created_at, updated_at) VALUES ('from v1', 1, 1)",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    {
        // Opening upgrades it (backing it up first); then new work happens.
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| conversations::create(c, None).map(|_| ()))
            .unwrap();
    }
    let out = parley(dir.path()).arg("backups").output().unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    let name = listing.split('\t').next().unwrap().to_string();
    assert!(
        name.starts_with("parley-v1-") && name.ends_with(".db"),
        "{listing}"
    );

    let out = parley(dir.path())
        .args(["restore", &name])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let titles: Vec<String> = db
        .with(|c| conversations::list(c))
        .unwrap()
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["from v1"]);
    // The replaced file was moved aside, not overwritten.
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("parley.db.before-restore-")
        });
    assert!(aside);
    let out = parley(dir.path())
        .args(["restore", "../parley.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
