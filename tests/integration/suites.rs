//! Evaluation suites end to end: the runner against the fake server (concurrency limit per
//! provider, retries, cache, cancel) and `parley eval` (exit codes, JSON, JUnit XML, compare).

use std::path::Path;
use std::process::Output;

use parley_core::eval::suite::config;
use parley_core::eval::suite::runner::{Progress, RunOptions};
use tokio_util::sync::CancellationToken;

use crate::cli::parley;
use crate::common::{service, tempdir};
use crate::fake_openai::FakeOpenAi;

fn opts(j: usize, cache: bool) -> RunOptions {
    RunOptions {
        concurrency: j,
        use_cache: cache,
        filter: None,
        config_path: None,
    }
}

fn suite(yaml: &str) -> parley_core::eval::suite::Suite {
    config::parse_str(yaml, Path::new(".")).unwrap().suite
}

fn tests_yaml(n: usize) -> String {
    (0..n)
        .map(|i| format!("  - vars: {{q: 'question {i}'}}\n    assert: [{{type: contains, value: 'question {i}'}}]\n"))
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn each_provider_has_at_most_j_requests_in_flight() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let s = suite(&format!(
        "prompts: ['{{{{q}}}}']\nproviders: [openai:chat:suite-wait-40, openai:chat:suite-wait-41]\ntests:\n{}",
        tests_yaml(12)
    ));
    let done = rt()
        .block_on(svc.run_suite(&s, &opts(3, false), &CancellationToken::new(), &mut |_| {}))
        .unwrap();
    assert_eq!((done.progress.done, done.progress.passed), (24, 24));
    for model in ["suite-wait-40", "suite-wait-41"] {
        let most = server.suites().max_in_flight(model);
        assert!((1..=3).contains(&most), "{model}: {most} in flight at once");
    }
}

#[test]
fn a_server_error_is_retried_and_the_cell_still_passes() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let s = suite(&format!(
        "prompts: ['{{{{q}}}}']\nproviders: [openai:chat:suite-500-first]\ntests:\n{}",
        tests_yaml(3)
    ));
    let done = rt()
        .block_on(svc.run_suite(&s, &opts(2, false), &CancellationToken::new(), &mut |_| {}))
        .unwrap();
    assert_eq!((done.progress.passed, done.progress.errors), (3, 0));
    assert_eq!(server.request_count(), 6, "each prompt sent twice");
}

#[test]
fn a_second_run_is_answered_from_the_cache_unless_the_cache_is_off() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let s = suite(&format!(
        "prompts: ['{{{{q}}}}', 'Say {{{{q}}}}']\nproviders: [openai:chat:suite-wait-0]\ntests:\n{}",
        tests_yaml(4)
    ));
    let rt = rt();
    let go = |cache: bool| {
        rt.block_on(svc.run_suite(&s, &opts(4, cache), &CancellationToken::new(), &mut |_| {}))
            .unwrap()
    };
    assert_eq!(go(true).progress.cached, 0);
    assert_eq!(server.request_count(), 8);
    let again = go(true);
    assert_eq!((again.progress.cached, again.progress.passed), (8, 8));
    assert_eq!(server.request_count(), 8, "nothing sent again");
    assert_eq!(go(false).progress.cached, 0);
    assert_eq!(server.request_count(), 16);
}

#[test]
fn cancel_stops_at_once_and_keeps_every_finished_cell() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let s = suite(&format!(
        "prompts: ['{{{{q}}}}']\nproviders: [openai:chat:suite-wait-20]\ntests:\n{}",
        tests_yaml(50)
    ));
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let mut on_progress = move |p: &Progress| {
        if p.done == 3 {
            stop.cancel();
        }
    };
    let done = rt()
        .block_on(svc.run_suite(&s, &opts(2, false), &cancel, &mut on_progress))
        .unwrap();
    assert!(done.cancelled);
    assert_eq!(done.progress.done, 3);
    let (run, rows) = svc.suite_run(done.run_id).unwrap();
    assert_eq!((run.status.as_str(), rows.len()), ("cancelled", 3));
    assert!(
        server.request_count() < 10,
        "{} sent",
        server.request_count()
    );
}

fn eval(dir: &Path, server: &FakeOpenAi, args: &[&str]) -> Output {
    parley(dir)
        .env("OPENAI_BASE_URL", server.base_url())
        .arg("eval")
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn eval_run_exits_0_or_100_writes_json_and_junit_and_compares_runs() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let suite_dir = tempdir();
    std::fs::write(
        suite_dir.path().join("tests.csv"),
        "city,__expected,__description\nParis,contains: Paris,paris\nRome,icontains: rome,rome\n",
    )
    .unwrap();
    let cfg = suite_dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "description: capitals\nprompts: ['Tell me about {{city}}']\nproviders:\n  - openai:chat:suite-wait-0\n  - id: openai:completion:suite-wait-1\n    label: legacy\ntests: file://tests.csv\n",
    )
    .unwrap();
    let xml = suite_dir.path().join("r.xml");
    let out = eval(
        dir.path(),
        &server,
        &["run", cfg.to_str().unwrap(), "-o", xml.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Run 1 · capitals · done · 4/4 cells"),
        "{stdout}"
    );
    assert!(stdout.contains("\tlegacy\t2/2\t100%"), "{stdout}");
    assert!(
        text(&out.stderr).contains("tests.csv"),
        "the files read are shown"
    );
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(
        junit.contains(
            "<testsuites name=\"parley eval run 1\" tests=\"4\" failures=\"0\" errors=\"0\""
        ),
        "{junit}"
    );
    assert_eq!(junit.matches("<testcase name=\"paris\"").count(), 2);

    // The same suite expecting something else: exit 100, a failure per cell, and compare says so.
    std::fs::write(
        suite_dir.path().join("tests.csv"),
        "city,__expected,__description\nParis,contains: Paris,paris\nRome,contains: Milan,rome\n",
    )
    .unwrap();
    let json = suite_dir.path().join("r.json");
    let out = eval(
        dir.path(),
        &server,
        &["run", cfg.to_str().unwrap(), "-o", json.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 4);
    assert_eq!(v["summaries"][0]["passed"], 1);
    assert_eq!(v["results"][1]["cached"], true);
    let out = eval(dir.path(), &server, &["compare", "1", "2"]);
    assert_eq!(out.status.code(), Some(0));
    let c = text(&out.stdout);
    assert!(c.starts_with("Run 1 → run 2: 0 fixed, 2 broken"), "{c}");
    assert!(c.contains("BROKEN\trome\t"), "{c}");

    let out = eval(dir.path(), &server, &["list"]);
    assert!(
        text(&out.stdout).contains("2\tdone\t4/4\t2\tcapitals"),
        "{}",
        text(&out.stdout)
    );
    let out = eval(dir.path(), &server, &["show", "2"]);
    assert!(
        text(&out.stdout).contains("rome\tTell me about {{city}}\tlegacy\tFAIL"),
        "{}",
        text(&out.stdout)
    );
    let out = eval(dir.path(), &server, &["show", "2", "--json"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["runId"],
        2
    );

    // --filter-pattern runs only the matching tests.
    let out = eval(
        dir.path(),
        &server,
        &["run", cfg.to_str().unwrap(), "--filter-pattern", "^par"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2/2 cells"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_config_error_exits_1_and_names_the_key_and_line() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("bad.yaml");
    std::fs::write(
        &cfg,
        "prompts: [hi]\nproviders: [openai:chat:suite-wait-0]\nscenarios: []\n",
    )
    .unwrap();
    let out = eval(dir.path(), &server, &["run", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("unsupported key `scenarios`") && e.contains("line 3"),
        "{e}"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn batch_uploads_jsonl_polls_and_maps_every_line_back_into_the_run() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:suite-wait-0, openai:chat:suite-batch-error]\ntests:\n  - vars: {q: one}\n    assert: [{type: contains, value: one}]\n  - vars: {q: two}\n    assert: [{type: equals, value: 'Echo: two'}]\n",
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "10")
        .args([
            "eval",
            "run",
            cfg.to_str().unwrap(),
            "--batch",
            "-o",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    // The second provider's lines come back in the error file: those cells fail.
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let passed: Vec<bool> = results
        .iter()
        .map(|r| r["pass"].as_bool().unwrap())
        .collect();
    assert_eq!(passed.iter().filter(|p| **p).count(), 2);
    assert!(results.iter().any(|r| r["error"] == "no such model"), "{v}");
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        paths.iter().filter(|p| *p == "POST /v1/files").count(),
        2,
        "{paths:?}"
    );
    assert_eq!(
        paths.iter().filter(|p| *p == "POST /v1/batches").count(),
        2,
        "{paths:?}"
    );
    assert!(paths.iter().any(|p| p.ends_with("/content")), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p == "POST /v1/chat/completions"),
        "{paths:?}"
    );
    // The batch ids are stored with the run; resuming a finished run stores nothing twice.
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "10")
        .args(["eval", "resume", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("4/4 cells"),
        "{}",
        text(&out.stdout)
    );
}
