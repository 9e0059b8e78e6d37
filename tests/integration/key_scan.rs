//! Keys (issue 14): one recognisable key through chat, a server that echoes it (in an error page
//! and mid-stream), the judge, the arena, with tracing on, then read back through every IPC command
//! and printed by `parley` with PARLEY_TRACE set, and through suite runs (an `llm-rubric` judge
//! included) and the Batch API: the key is in no reply, no event, no output line, no eval table
//! (runs, cells, cache), no results file and no file of the data or temp folder. (faults.rs scans
//! the data folder, exports and events of the service; e2e hostile.rs the webview's storage.)

use std::sync::{Arc, Mutex};

use parley_core::chat::arena::{ArenaEntry, ArenaRequest};
use parley_core::chat::{EnvFallback, JudgeTarget, SendRequest};
use parley_core::secrets::{ApiKey, MemoryStore};
use parley_desktop::commands::consent::CONFIRM_ENV;
use parley_desktop::commands::state::AppState;
use parley_desktop::gui::build_app;
use serde_json::{json, Value};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::test::mock_builder;
use tauri::Manager;

use crate::common::{new_conversation, tempdir, Events};
use crate::fake_openai::FakeOpenAi;
use crate::ipc::invoke;

const KEY: &str = "sk-SCANIPC-4e8d2b6f1a3c5e7d9b0f2a4c6e8d1b3f";
const NEEDLE: &str = "4e8d2b6f1a3c5e7d";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(NEEDLE), "the key is in {what}: {text}");
}

fn scan_dir(dir: &std::path::Path) -> usize {
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                let hit = bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE.as_bytes());
                assert!(!hit, "the key is in {}", path.display());
            }
        }
    }
    files
}

/// The commands the webview may call, from the list build.rs gives Tauri.
fn commands() -> Vec<String> {
    let build = include_str!("../../src-tauri/build.rs");
    let start = build
        .find("COMMANDS: &[&str] = &[")
        .expect("the command list in build.rs");
    let list = &build[start..start + build[start..].find("];").unwrap()];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_recognisable_key_is_in_no_ipc_reply_event_trace_line_or_file() {
    let server = FakeOpenAi::start_with_key(KEY);
    let dir = tempdir();
    if std::env::var_os(CONFIRM_ENV).is_none() {
        std::env::set_var(CONFIRM_ENV, "yes");
    }
    let env = EnvFallback {
        api_key: Some(ApiKey::new(KEY).unwrap()),
        base_url: Some(server.base_url()),
    };
    let (svc, _) =
        parley_core::open_service(dir.path(), Arc::new(MemoryStore::default()), env).unwrap();
    let app = build_app(mock_builder(), AppState::new(Ok(svc), vec![]))
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .unwrap();
    let w = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let state = app.state::<AppState>();
    let svc = state.service().unwrap();

    // Chat, through the IPC command with its event channel, for each way a server can echo a key.
    let captured: Arc<Mutex<Vec<Value>>> = Arc::default();
    let mut replies = Vec::new();
    let mut conv = 0;
    for model in [
        "test-model",
        "test-echo-key",
        "test-echo-key-midstream",
        "test-429-once",
    ] {
        conv = new_conversation(&svc, model);
        let sink = captured.clone();
        let channel = Channel::new(move |body: InvokeResponseBody| {
            sink.lock()
                .unwrap()
                .push(body.deserialize::<Value>().unwrap());
            Ok(())
        });
        let request = SendRequest {
            conversation_id: conv,
            content: format!("scan {model}"),
            ..Default::default()
        };
        let reply =
            parley_desktop::commands::chat::send_message(state.clone(), request, channel).await;
        assert_clean("a send_message reply", &format!("{reply:?}"));
        if let Ok(r) = reply {
            replies.extend(r.into_iter().map(|m| m.id));
        }
    }
    assert_clean(
        "the chat events",
        &format!("{:?}", captured.lock().unwrap()),
    );
    // The judge, with a judge that works and one that echoes the key.
    for model in ["test-judge", "test-echo-key"] {
        let target = JudgeTarget {
            profile_id: None,
            model: Some(model.into()),
            ..Default::default()
        };
        let verdict = svc.judge_single(replies[0], None, &target).await;
        assert_clean("a verdict", &format!("{verdict:?}"));
    }
    // The arena, one round with a side whose server echoes the key.
    let events = Events::default();
    let round = svc
        .arena_round(
            ArenaRequest {
                content: "scan arena".into(),
                pool: ["test-model", "test-echo-key"]
                    .map(|m| ArenaEntry {
                        model: m.into(),
                        profile_id: None,
                    })
                    .to_vec(),
                ..Default::default()
            },
            events.sink(),
        )
        .await;
    assert_clean("an arena round", &format!("{round:?}{:?}", events.all()));
    if let Ok(round) = &round {
        let reveal = invoke(
            &w,
            "arena_vote",
            json!({"battleId": round.battle_id, "winner": "a"}),
        );
        assert_clean("the arena reveal", &format!("{reveal:?}"));
    }

    // Every command, with arguments that fit most of them; its answer or its error is scanned.
    let reply = replies[0];
    let args = json!({
        "id": conv, "conversationId": conv, "messageId": reply, "messageIds": [reply], "ids": [conv],
        "profileId": null, "query": "scan", "q": "scan", "name": "default", "title": "scan",
        "limit": 50, "before": null, "after": null, "archived": false, "format": "json",
        "selection": {"all": true}, "kind": "single", "battleId": 1, "winner": "a", "model": "test-model",
        "aId": reply, "bId": reply, "top": null, "tools": [], "reasons": [], "version": 1,
        "from": 1, "to": 1, "favourite": false, "values": {}, "text": "", "settings": {}, "profile": {},
        "url": "https://example.com/", "origin": "http://127.0.0.1", "filter": {}, "facets": {},
    });
    let skip = [
        "open_link",
        "restore_backup",
        "find_local_servers",
        "send_message",
        "retry_message",
        "arena_round",
        "judge_reply",
        "judge_pair",
        "import_conversations",
        "import_prompts",
        "set_api_key",
        "clear_api_key",
        "delete_profile",
        "set_app_proxy",
        "export_conversations",
        "export_ratings",
        "export_prompts",
        // They ask where with the system's file dialog (nothing to answer it here).
        "import_suite",
        "export_suite",
    ];
    let (mut answered, mut refused) = (0, 0);
    for cmd in commands() {
        if skip.contains(&cmd.as_str()) {
            continue;
        }
        for a in [json!({}), args.clone()] {
            let out = invoke(&w, &cmd, a);
            match &out {
                Ok(_) => answered += 1,
                Err(_) => refused += 1,
            }
            assert_clean(&format!("the reply to {cmd}"), &format!("{out:?}"));
        }
    }
    eprintln!("key scan: {answered} IPC answers and {refused} IPC errors scanned");
    assert!(answered >= 30, "{answered} commands answered");
    drop(w);
    drop(app);
    let files = scan_dir(dir.path());
    assert!(files >= 1);
}

/// `parley` with PARLEY_TRACE on, a key in the environment and servers that echo it: no line of
/// its output (answer, errors, trace marks) shows the key, nor does any file it wrote.
#[test]
fn parley_with_tracing_on_prints_no_key() {
    let server = FakeOpenAi::start_with_key(KEY);
    let dir = tempdir();
    let mut seen = String::new();
    for model in [
        "test-model",
        "test-echo-key",
        "test-echo-key-midstream",
        "test-tools",
    ] {
        let out = crate::cli::parley(dir.path())
            .env("PARLEY_TRACE", "1")
            .env("OPENAI_BASE_URL", server.base_url())
            .env("OPENAI_API_KEY", KEY)
            .args(["ask", "--stats", "--model", model, "scan with tracing"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean(&format!("parley ask --model {model}"), &text);
        seen.push_str(&text);
    }
    for args in [
        &["conversations", "list"][..],
        &["search", "scan"],
        &["backups"],
    ] {
        let out = crate::cli::parley(dir.path())
            .env("PARLEY_TRACE", "1")
            .env("OPENAI_API_KEY", KEY)
            .args(args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_clean(&format!("parley {args:?}"), &text);
        seen.push_str(&text);
    }
    assert!(seen.contains("[trace]"), "tracing was on: {seen}");
    scan_dir(dir.path());
}

/// A process's stdout and stderr together.
fn text_of(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Suites and the Batch API: `parley eval run` (with tracing on) against providers that answer,
/// judge (`llm-rubric`) and echo the key back, then with `--batch` (/v1/files, /v1/batches); its
/// output files, `eval list|show|compare`, the eval tables (runs, cells, assertion reasons, the
/// cache), the data folder and any file it wrote to its temp folder (batch JSONL) hold no key.
#[test]
fn a_key_through_suite_runs_judges_and_the_batch_api_is_in_no_table_cache_file_or_log() {
    let server = FakeOpenAi::start_with_key(KEY);
    let dir = tempdir();
    let suite_dir = tempdir();
    let tmp = tempdir();
    let cfg = suite_dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "description: key scan\n\
         prompts: ['Say {{q}}']\n\
         providers: [openai:chat:suite-wait-0, openai:chat:test-judge, openai:chat:test-echo-key]\n\
         defaultTest:\n  options: {provider: openai:chat:test-judge}\n\
         tests:\n\
         \x20 - vars: {q: one}\n    assert: [{type: contains, value: one}, {type: llm-rubric, value: 'says {{q}}'}]\n\
         \x20 - vars: {q: two}\n    assert: [{type: llm-rubric, value: 'says {{q}}'}]\n    options: {provider: openai:chat:test-echo-key}\n",
    )
    .unwrap();
    let batch_cfg = suite_dir.path().join("batch.yaml");
    std::fs::write(
        &batch_cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:suite-wait-0, openai:chat:suite-batch-error]\n\
         tests:\n  - vars: {q: one}\n    assert: [{type: contains, value: one}]\n",
    )
    .unwrap();
    let json_out = suite_dir.path().join("r.json");
    let xml_out = suite_dir.path().join("r.xml");
    let run = |args: &[&str]| {
        let out = crate::cli::parley(dir.path())
            .env("PARLEY_TRACE", "1")
            .env("OPENAI_BASE_URL", server.base_url())
            .env("OPENAI_API_KEY", KEY)
            .env("PARLEY_BATCH_POLL_MS", "10")
            .env("TMPDIR", tmp.path())
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let text = text_of(&out);
        assert_clean(&format!("parley {args:?}"), &text);
        (out.status.code(), text)
    };
    let cfg_s = cfg.to_str().unwrap();
    let (code, text) = run(&["eval", "run", cfg_s, "-o", json_out.to_str().unwrap()]);
    assert_eq!(
        code,
        Some(100),
        "some cells fail (the echoing server): {text}"
    );
    run(&["eval", "run", cfg_s, "-o", xml_out.to_str().unwrap()]);
    let (code, text) = run(&["eval", "run", batch_cfg.to_str().unwrap(), "--batch"]);
    assert_eq!(code, Some(100), "{text}");
    let mut printed = String::new();
    for args in [
        &["eval", "list"][..],
        &["eval", "show", "1", "--json"],
        &["eval", "show", "3"],
        &["eval", "compare", "1", "2"],
        &["eval", "resume", "3"],
    ] {
        printed.push_str(&run(args).1);
    }
    assert!(printed.contains("[trace]"), "tracing was on: {printed}");
    // The server did get the key, with every suite and batch request.
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    for p in ["/v1/chat/completions", "/v1/files", "/v1/batches"] {
        assert!(paths.iter().any(|x| x == p), "{p} was called: {paths:?}");
    }
    // The key reached the echoing server's answers, then every table that could keep it.
    let conn = rusqlite::Connection::open(dir.path().join(parley_core::db::DB_FILE)).unwrap();
    let (mut cells, mut echoed) = (0, 0);
    for sql in [
        "SELECT description || coalesce(error, '') || grid || coalesce(batch_id, '') FROM eval_runs",
        "SELECT output || coalesce(error, '') || assertions FROM eval_results",
        "SELECT key || response FROM eval_cache",
    ] {
        let mut st = conn.prepare(sql).unwrap();
        for text in st.query_map([], |r| r.get::<_, String>(0)).unwrap() {
            let text = text.unwrap();
            assert_clean(sql, &text);
            cells += 1;
            if text.contains("502") || text.contains("Bad Gateway") || text.contains("API key") {
                echoed += 1;
            }
        }
    }
    drop(conn);
    assert!(cells >= 10, "{cells} rows scanned");
    assert!(
        echoed >= 1,
        "the echoing server's answer was stored (redacted)"
    );
    for f in [&json_out, &xml_out] {
        assert_clean(
            &f.display().to_string(),
            &std::fs::read_to_string(f).unwrap(),
        );
    }
    let files = scan_dir(dir.path()) + scan_dir(suite_dir.path()) + scan_dir(tmp.path());
    eprintln!("key scan (suites): {cells} eval rows and {files} files scanned");
}
