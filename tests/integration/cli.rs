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
        .env_remove("OPENAI_BASE_URL");
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

fn ask(dir: &Path, server: &FakeOpenAi, args: &[&str]) -> Output {
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

#[test]
fn ask_takes_the_endpoint_n_choices_and_prints_stats_to_stderr() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    // The legacy completions endpoint: prompt in, text out, only the text on stdout.
    let out = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-model",
            "--endpoint",
            "completions",
            "Roses are",
        ],
    );
    assert_succeeded(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Echo: Roses are");
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "Roses are");

    // n = 2: each choice under its own header; --stats: one line per choice on stderr.
    let out = ask(
        dir.path(),
        &server,
        &["--model", "gpt-4o-mini", "--n", "2", "--stats", "two ways"],
    );
    assert_succeeded(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "=== choice 1/2 ===\nChoice 1: Echo: two ways\n\n=== choice 2/2 ===\nChoice 2: Echo: two ways\n"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stats: Vec<&str> = stderr.lines().filter(|l| l.contains("TTFT")).collect();
    assert_eq!(stats.len(), 2, "{stderr}");
    assert!(stats[0].starts_with("parley: gpt-4o-mini · "), "{stderr}");
    assert!(stats[0].contains("tokens (counted here)"), "{stderr}");
    assert!(stats[0].contains(" · $0.0000"), "{stderr}");
    assert_eq!(server.requests().pop().unwrap().body["n"], 2);

    // One choice with --stats: the server's usage, not marked counted; stdout stays the reply.
    let out = ask(
        dir.path(),
        &server,
        &["--model", "gpt-4o-mini", "--stats", "hi"],
    );
    assert_succeeded(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Echo: hi");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(" tokens · TTFT "), "{stderr}");
    assert!(!stderr.contains("counted"), "{stderr}");

    // Bad values are refused before anything is saved.
    for bad in [&["--n", "9", "x"][..], &["--endpoint", "edits", "x"][..]] {
        let out = ask(dir.path(), &server, bad);
        assert!(!out.status.success());
    }
}

#[test]
fn arena_runs_a_blind_round_in_the_terminal_and_reveals_after_the_vote() {
    use std::io::Write;
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let run = |vote: &str| {
        let mut child = parley(dir.path())
            .env("OPENAI_BASE_URL", server.base_url())
            .args(["arena", "--pool", "gpt-red,gpt-blue", "Name a fruit"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(vote.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("b\n");
    assert_succeeded(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (before, reveal) = stdout.split_once("A was ").expect("the reveal");
    // Both replies, and no model name before the vote.
    assert_eq!(before.matches("Echo: Name a fruit").count(), 2, "{stdout}");
    assert!(before.contains("=== A ===") && before.contains("=== B ==="));
    assert!(
        !before.contains("gpt-"),
        "a name leaked before the vote: {stdout}"
    );
    assert!(
        reveal.contains("gpt-red") && reveal.contains("gpt-blue"),
        "{stdout}"
    );
    let db = Db::open_dir(dir.path()).unwrap().0;
    let battles = db
        .with(|c| parley_core::eval::arena::voted(c, &Default::default()))
        .unwrap();
    assert_eq!(battles.len(), 1);
    assert_eq!(battles[0].winner, Some(parley_core::eval::arena::Winner::B));
    assert!(reveal.starts_with(&battles[0].model_a), "{reveal}");

    // A vote that is not one of a, b, tie, bad: an error, and the round stays unvoted.
    let out = run("maybe\n");
    assert!(!out.status.success());
    let battles = db
        .with(|c| parley_core::eval::arena::voted(c, &Default::default()))
        .unwrap();
    assert_eq!(battles.len(), 1);
    drop(db);

    // The leaderboard: the winner first, one battle each; --json has the same numbers.
    let winner = if battles[0].winner == Some(parley_core::eval::arena::Winner::A) {
        &battles[0].model_a
    } else {
        &battles[0].model_b
    };
    let out = parley(dir.path()).arg("leaderboard").output().unwrap();
    assert_succeeded(&out);
    let table = String::from_utf8_lossy(&out.stdout);
    let first = table.lines().nth(1).unwrap();
    assert!(first.contains(winner.as_str()), "{table}");
    assert!(table.contains("1 battle;"), "{table}");
    let out = parley(dir.path())
        .args(["leaderboard", "--json"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let board: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(board["rows"][0]["model"], winner.as_str());
    assert_eq!(board["rows"][0]["battles"], 1);
    // With one battle every resample is the same: the interval is the point (to the fit's tolerance).
    let (low, rating) = (
        board["rows"][0]["ciLow"].as_f64().unwrap(),
        board["rows"][0]["rating"].as_f64().unwrap(),
    );
    assert!((low - rating).abs() < 1e-6 && rating > 1000.0, "{board}");
}

#[test]
fn saved_prompts_import_list_export_and_ask_with_variables() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let csv = dir.path().join("prompts.csv");
    std::fs::write(
        &csv,
        "act,prompt\n\"English Translator\",\"Translate {{text}} into {{lang:choice(English, French)=English}}\"\nPoet,\"A poem about {{topic}}, {{date}}\"\nPoet,again\n",
    )
    .unwrap();
    let out = parley(dir.path())
        .args(["prompts", "import"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("imported 2 prompt(s); 1 duplicate(s)"),
        "{stderr}"
    );
    let out = parley(dir.path())
        .args(["prompts", "list", "poem"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.starts_with("poet\tv1\t0 uses\tPoet\t{{topic}}"),
        "{listed}"
    );

    // A missing variable: a clear error, nothing sent, no conversation.
    let out = ask(
        dir.path(),
        &server,
        &["--model", "test-model", "--prompt", "english-translator"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Fill in text first"));
    assert_eq!(server.request_count(), 0);
    let out = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-model",
            "--prompt",
            "english-translator",
            "--var",
            "text=hola",
        ],
    );
    assert_succeeded(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Echo: Translate hola into English"
    );
    let db = Db::open_dir(dir.path()).unwrap().0;
    let (recorded, uses): (Option<i64>, i64) = db
        .with(|c| {
            Ok(c.query_row(
                "SELECT m.prompt_version_id, p.use_count FROM messages m, prompts p
                 WHERE m.role = 'user' AND p.name = 'english-translator'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .unwrap();
    assert!(recorded.is_some(), "the message records the prompt version");
    assert_eq!(uses, 1);
    drop(db);
    let out = parley(dir.path())
        .args(["prompts", "export"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let lib: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lib["format"], "parley-prompts");
    assert_eq!(lib["prompts"].as_array().unwrap().len(), 2);
}
