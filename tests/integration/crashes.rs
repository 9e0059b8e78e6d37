//! Crashes (issue 14): `parley` is killed with SIGKILL at random moments while it streams a reply,
//! imports a conversation export (ChatGPT's and Parley JSON), imports a prompt library and runs an
//! evaluation suite, all into one data folder; after every kill the folder is reopened the way
//! the app opens it. Every time: `PRAGMA integrity_check` is ok and every row seen committed just
//! before the kill is still there (a reply that was streaming keeps at least the text it had; a
//! suite run keeps its finished cells, and one left running is marked cancelled, never left
//! half-written). The window is not killed here: it writes through the same core, and SIGKILL of
//! the process is what matters.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde_json::json;

use crate::cli::parley;
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

/// How many kills (the issue asks for 100).
const KILLS: usize = 100;

/// What was committed: every message (id → status, text), conversation and prompt version.
#[derive(Default, Debug)]
struct Committed {
    messages: BTreeMap<i64, (String, String)>,
    conversations: BTreeSet<i64>,
    prompt_versions: BTreeSet<i64>,
    /// Suite cells: (run, prompt, provider, test) → output.
    cells: BTreeMap<(i64, i64, i64, i64), String>,
    /// Suite runs: id → (status, total).
    runs: BTreeMap<i64, (String, i64)>,
}

fn committed(dir: &Path) -> Committed {
    let path = dir.join(parley_core::db::DB_FILE);
    if !path.exists() {
        return Committed::default();
    }
    let conn = Connection::open(&path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    // One read transaction: one consistent snapshot of what is committed.
    conn.execute_batch("BEGIN").unwrap();
    let ids = |sql: &str| -> BTreeSet<i64> {
        match conn.prepare(sql) {
            Ok(mut st) => st
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect(),
            // Killed before the schema was there.
            Err(_) => BTreeSet::new(),
        }
    };
    let conversations = ids("SELECT id FROM conversations ORDER BY id");
    let prompt_versions = ids("SELECT id FROM prompt_versions ORDER BY id");
    // A streaming reply's text is its content plus the checkpoints appended since.
    let messages = conn
        .prepare(
            "SELECT id, status, content || coalesce((SELECT group_concat(text, '') FROM
               (SELECT text FROM reply_chunks c WHERE c.message_id = m.id ORDER BY seq)), '')
             FROM messages m ORDER BY id",
        )
        .map(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
        .unwrap_or_default();
    let cells = conn
        .prepare("SELECT run_id, prompt_idx, provider_idx, test_idx, output FROM eval_results")
        .map(|mut st| {
            st.query_map([], |r| {
                Ok(((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?), r.get(4)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
        })
        .unwrap_or_default();
    let runs = conn
        .prepare("SELECT id, status, total FROM eval_runs")
        .map(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        })
        .unwrap_or_default();
    conn.execute_batch("COMMIT").unwrap();
    Committed {
        messages,
        conversations,
        prompt_versions,
        cells,
        runs,
    }
}

/// Opens the folder as the app does (checks, recovery of interrupted replies), then checks it.
fn reopen_and_check(dir: &Path, before: &Committed, round: usize, what: &str) {
    let (db, notices) = parley_core::db::Db::open_dir(dir)
        .unwrap_or_else(|e| panic!("round {round} ({what}): reopening failed: {e}"));
    for n in &notices {
        assert!(
            !matches!(n, parley_core::db::OpenNotice::CorruptMovedAside { .. }),
            "round {round} ({what}): the database was damaged: {n}"
        );
    }
    drop(db);
    let conn = Connection::open(dir.join(parley_core::db::DB_FILE)).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "round {round} ({what})");
    let fk: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0, "round {round} ({what}): broken references");
    drop(conn);
    let after = committed(dir);
    let lost: Vec<_> = before
        .conversations
        .difference(&after.conversations)
        .collect();
    assert!(
        lost.is_empty(),
        "round {round} ({what}): conversations lost: {lost:?}"
    );
    let lost: Vec<_> = before
        .prompt_versions
        .difference(&after.prompt_versions)
        .collect();
    assert!(
        lost.is_empty(),
        "round {round} ({what}): prompt versions lost: {lost:?}"
    );
    for (cell, output) in &before.cells {
        assert_eq!(
            after.cells.get(cell),
            Some(output),
            "round {round} ({what}): suite cell {cell:?} was lost or changed"
        );
    }
    for (id, (status, total)) in &after.runs {
        assert_ne!(
            status, "running",
            "round {round} ({what}): run {id} still running after its process was killed"
        );
        let done = after.cells.keys().filter(|c| c.0 == *id).count() as i64;
        assert!(
            done <= *total,
            "round {round}: run {id} has {done}/{total} cells"
        );
        if status == "done" {
            assert_eq!(
                done, *total,
                "round {round}: run {id} done with cells missing"
            );
        }
    }
    for (id, (status, text)) in &before.messages {
        let (now_status, now_text) = after
            .messages
            .get(id)
            .unwrap_or_else(|| panic!("round {round} ({what}): message {id} was lost"));
        if status == "streaming" {
            assert!(
                now_text.starts_with(text.as_str()),
                "round {round} ({what}): message {id} lost text it had checkpointed"
            );
            assert_ne!(
                now_status, "streaming",
                "round {round}: still streaming after reopen"
            );
        } else {
            assert_eq!(
                (now_status, now_text),
                (status, text),
                "round {round} ({what}): message {id} changed"
            );
        }
    }
}

/// A ChatGPT export of `n` conversations of 20 messages, its titles marked with `round`.
fn chatgpt_export(round: usize, n: usize) -> String {
    let convs: Vec<_> = (0..n)
        .map(|c| {
            let mut mapping = serde_json::Map::new();
            for i in 0..20 {
                let children = if i < 19 { json!([format!("m{}", i + 1)]) } else { json!([]) };
                let parent = if i == 0 { json!(null) } else { json!(format!("m{}", i - 1)) };
                mapping.insert(format!("m{i}"), json!({"id": format!("m{i}"), "parent": parent, "children": children,
                    "message": {"author": {"role": if i % 2 == 0 { "user" } else { "assistant" }},
                    "create_time": 1_700_000_000.0 + i as f64,
                    "content": {"content_type": "text", "parts": [format!("round {round} conversation {c} message {i} {}", "lorem ipsum ".repeat(20))]}}}));
            }
            json!({"title": format!("crash {round}/{c}"), "create_time": 1_700_000_000.0 + c as f64,
                   "update_time": 1_700_000_000.0, "current_node": "m19", "mapping": mapping})
        })
        .collect();
    serde_json::Value::Array(convs).to_string()
}

/// A Parley JSON export of `n` conversations of 20 messages, its titles marked with `round`.
fn parley_export(round: usize, n: usize) -> String {
    let convs: Vec<_> = (0..n)
        .map(|c| {
            let messages: Vec<_> = (0..20)
                .map(|i| json!({"ref": i + 1, "parent_ref": if i == 0 { json!(null) } else { json!(i) },
                    "role": if i % 2 == 0 { "user" } else { "assistant" },
                    "content": format!("round {round} parley {c} message {i} {}", "dolor sit ".repeat(20)),
                    "status": "done", "created_at": 1_700_000_000_000i64 + i}))
                .collect();
            json!({"conversation": {"title": format!("parley crash {round}/{c}"), "system_prompt": "",
                   "model": "m", "created_at": 1_700_000_000_000i64 + c as i64, "updated_at": 1_700_000_000_000i64},
                   "folder": ["crash", format!("round {round}")], "tags": [{"name": "crash", "color": "#fff"}],
                   "messages": messages, "ratings": [], "rating_history": [], "battles": [], "verdicts": []})
        })
        .collect();
    json!({"format": "parley-export", "version": 1, "conversations": convs}).to_string()
}

/// A suite of `n` tests against the fake server's slow echo (so a run takes about a second).
fn suite_yaml(n: usize) -> String {
    let tests: String = (0..n)
        .map(|i| format!("  - vars: {{q: 'question {i}'}}\n    assert: [{{type: contains, value: 'question {i}'}}]\n"))
        .collect();
    format!("description: crash\nprompts: ['{{{{q}}}}']\nproviders: [openai:chat:suite-wait-10]\ntests:\n{tests}")
}

/// A prompt library CSV of `n` prompts, names marked with `round`.
fn prompts_csv(round: usize, n: usize) -> String {
    let mut s = String::from("act,prompt\n");
    for i in 0..n {
        s.push_str(&format!(
            "crash{round}x{i},\"Act as number {i} of round {round}.\"\n"
        ));
    }
    s
}

fn spawn(dir: &Path, server: &FakeOpenAi, round: usize, files: &Path) -> (Child, &'static str) {
    let mut cmd = parley(dir);
    cmd.env("OPENAI_BASE_URL", server.base_url())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let what = match round % 5 {
        0 => {
            cmd.args([
                "ask",
                "--model",
                "test-tokens-3000-paced-1",
                &format!("round {round}"),
            ]);
            "streaming"
        }
        1 => {
            let file = files.join(format!("export-{round}.json"));
            std::fs::write(&file, chatgpt_export(round, 30)).unwrap();
            cmd.arg("import").arg(file);
            "importing a ChatGPT export"
        }
        2 => {
            let file = files.join(format!("prompts-{round}.csv"));
            std::fs::write(&file, prompts_csv(round, 1000)).unwrap();
            cmd.args(["prompts", "import"]).arg(file);
            "importing prompts"
        }
        3 => {
            let file = files.join(format!("parley-{round}.json"));
            std::fs::write(&file, parley_export(round, 40)).unwrap();
            cmd.arg("import").arg(file);
            "importing a Parley export"
        }
        _ => {
            let file = files.join("promptfooconfig.yaml");
            if !file.exists() {
                std::fs::write(&file, suite_yaml(200)).unwrap();
            }
            cmd.args(["eval", "run", "--no-cache", "-j", "4"]).arg(file);
            "running a suite"
        }
    };
    (cmd.spawn().unwrap(), what)
}

#[test]
fn a_hundred_kills_while_streaming_importing_and_running_suites_leave_the_database_whole_and_lose_nothing(
) {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let files = tempdir();
    let started = Instant::now();
    let mut finished_first = 0;
    for round in 0..KILLS {
        let (mut child, what) = spawn(dir.path(), &server, round, files.path());
        // A random moment: from the very start (opening, migrating) to well into the work (a
        // suite run writes its cells every half second, so it gets longer).
        let most = if what == "running a suite" { 1000 } else { 500 };
        std::thread::sleep(Duration::from_millis(fastrand::u64(5..most)));
        let before = committed(dir.path());
        // SIGKILL: no destructor, no flush, no rollback.
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.success() {
            finished_first += 1;
        }
        reopen_and_check(dir.path(), &before, round, what);
    }
    let after = committed(dir.path());
    let cancelled = after.runs.values().filter(|r| r.0 == "cancelled").count();
    eprintln!(
        "crashes: {KILLS} kills in {:.1?} ({finished_first} finished before their kill); \
         {} messages, {} conversations, {} prompt versions, {} suite runs ({cancelled} marked \
         cancelled) with {} cells kept",
        started.elapsed(),
        after.messages.len(),
        after.conversations.len(),
        after.prompt_versions.len(),
        after.runs.len(),
        after.cells.len()
    );
    assert!(!after.messages.is_empty() && !after.conversations.is_empty());
    assert!(!after.runs.is_empty(), "no suite run was started");
}
