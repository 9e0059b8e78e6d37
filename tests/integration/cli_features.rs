//! The `parley` subcommands beyond a plain ask: the endpoint, n choices and the stats line, a
//! blind arena round in the terminal, and saved prompts with variables.

use std::process::Stdio;

use parley_core::db::Db;

use crate::cli::{ask, assert_succeeded, parley};
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

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

/// Ctrl+C at the vote quits with 130, the round kept unvoted (the handler swallowed it and the
/// prompt waited on).
#[test]
fn ctrl_c_at_the_arena_vote_quits_with_130() {
    use std::io::Read;
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let mut child = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["arena", "--pool", "gpt-red,gpt-blue", "Name a fruit"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin = child.stdin.take();
    let mut stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("Your vote") {
        let n = stderr.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "ended before the vote: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("Ctrl+C at the vote did nothing");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains("kept unvoted"), "{rest}");
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
    // --var without --prompt fills nothing: refused (it sent `{{text}}` as typed).
    let before = server.requests().len();
    let out = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-model",
            "--var",
            "text=hola",
            "say {{text}}",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--prompt"));
    assert_eq!(server.requests().len(), before);
    let out = parley(dir.path())
        .args(["prompts", "export"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let lib: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(lib["format"], "parley-prompts");
    assert_eq!(lib["prompts"].as_array().unwrap().len(), 2);
}

#[test]
fn a_saved_prompt_is_renamed_and_keeps_its_versions_and_a_taken_name_is_refused() {
    let dir = tempdir();
    let csv = dir.path().join("prompts.csv");
    std::fs::write(
        &csv,
        "act,prompt\nPoet,\"A poem about {{topic}}\"\nCritic,Be harsh\n",
    )
    .unwrap();
    assert_succeeded(
        &parley(dir.path())
            .args(["prompts", "import"])
            .arg(&csv)
            .output()
            .unwrap(),
    );
    let out = parley(dir.path())
        .args(["prompts", "rename", "poet", "verse"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("prompt poet is now verse"));
    let out = parley(dir.path())
        .args(["prompts", "show", "verse"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("A poem about {{topic}}"));
    let gone = parley(dir.path())
        .args(["prompts", "show", "poet"])
        .output()
        .unwrap();
    assert!(!gone.status.success());
    // Another prompt's name: refused, both stay as they were.
    let taken = parley(dir.path())
        .args(["prompts", "rename", "verse", "CRITIC"])
        .output()
        .unwrap();
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("exists already"));
    let list = parley(dir.path())
        .args(["prompts", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("verse\t") && listed.contains("critic\t"),
        "{listed}"
    );
}
