//! Suites for CI, end to end through `parley`: saved prompts as suite prompts (and their
//! version's pass rate in `parley prompts show --versions`), and the JUnit file validated with
//! `xmllint` against the schema CI tools read (tests/fixtures/junit.xsd).

use std::path::Path;
use std::process::{Command, Output};

use parley_core::prompts::library::Draft;

use crate::cli::parley;
use crate::common::{service, tempdir};
use crate::fake_openai::FakeOpenAi;

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
fn a_saved_prompt_runs_as_a_suite_prompt_and_its_version_shows_its_pass_rate() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    {
        let s = service(dir.path(), &server, None);
        let d = |body: &str, system: &str| Draft {
            title: "Summary".into(),
            body: body.into(),
            system_prompt: system.into(),
            ..Default::default()
        };
        s.save_prompt("summarise", d("Summarise {{text}}.", ""), "")
            .unwrap();
        s.save_prompt(
            "summarise",
            d("Shorten {{text}} to {{n:number=3}} words.", "Be brief."),
            "",
        )
        .unwrap();
    }
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "prompts:\n  - parley://summarise@1\n  - id: parley://summarise\n    label: newest\nproviders: [openai:chat:suite-wait-0]\ntests:\n  - vars: {text: cats}\n    assert: [{type: contains, value: 'Summarise cats'}]\n",
    )
    .unwrap();
    let out = eval(dir.path(), &server, &["run", cfg.to_str().unwrap()]);
    // v1 passes; the newest version (another text) fails: exit 100.
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let sent: Vec<serde_json::Value> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .map(|r| r.body["messages"].clone())
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().any(|m| m[0]["role"] == "system"
            && m[0]["content"] == "Be brief."
            && m[1]["content"] == "Shorten cats to 3 words."),
        "{sent:?}"
    );
    assert!(
        sent.iter()
            .any(|m| m.as_array().unwrap().len() == 1 && m[0]["content"] == "Summarise cats."),
        "{sent:?}"
    );
    let show = parley(dir.path())
        .args(["prompts", "show", "summarise", "--versions"])
        .output()
        .unwrap();
    let show = text(&show.stdout);
    assert!(
        show.contains("=== summarise v2 — Summary  · suite 0% (0/1 in run 1; 1 run)"),
        "{show}"
    );
    assert!(
        show.contains("=== summarise v1 — Summary  · suite 100% (1/1 in run 1; 1 run)"),
        "{show}"
    );
    let scores = service(dir.path(), &server, None)
        .prompt_scores("summarise")
        .unwrap();
    assert_eq!(
        (
            scores[1].version,
            scores[1].suite_passed,
            scores[1].suite_runs
        ),
        (1, 1, 1)
    );
}

#[test]
fn an_unknown_saved_prompt_version_exits_1_naming_the_line_and_sends_nothing() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "description: x\nprompts:\n  - 'Hi {{q}}'\n  - parley://nothing@2\nproviders: [openai:chat:suite-wait-0]\ntests: [{vars: {q: a}}]\n",
    )
    .unwrap();
    let out = eval(dir.path(), &server, &["run", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let e = text(&out.stderr);
    assert!(
        e.contains("line 4") && e.contains("no saved prompt named nothing"),
        "{e}"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_suite_given_by_a_path_relative_to_the_folder_it_runs_in_loads() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let evals = dir.path().join("evals");
    std::fs::create_dir(&evals).unwrap();
    std::fs::write(evals.join("vars.csv"), "q\ncats\n").unwrap();
    std::fs::write(
        evals.join("promptfooconfig.yaml"),
        "prompts: ['Say {{q}}']\nproviders: [openai:chat:suite-wait-0]\ntests: file://vars.csv\n",
    )
    .unwrap();
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .current_dir(dir.path())
        .args(["eval", "run", "evals/promptfooconfig.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(server.request_count(), 1);
}

/// `xmllint --schema`: required in CI (`.ci/install-deps --test` installs libxml2-utils); a
/// machine without it fails this test rather than skipping it.
fn xmllint(schema: &Path, file: &Path) -> Output {
    Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema)
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("xmllint is needed to check the JUnit file ({e}): run .ci/install-deps --test")
        })
}

#[test]
fn the_junit_file_is_valid_against_the_junit_schema_ci_tools_read() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    // A pass, a failure whose output holds markup and a control character, and a request error.
    std::fs::write(
        &cfg,
        "description: 'CI <suite> & \"quotes\"'\nprompts: ['{{q}}']\nproviders: [openai:chat:suite-wait-0, openai:chat:no-such-model]\ntests:\n  - description: passes\n    vars: {q: one}\n    assert: [{type: contains, value: one}]\n  - description: \"fails <b>&amp;</b>\"\n    vars: {q: \"<b>two</b> & \\x01 'x'\"}\n    assert: [{type: equals, value: two}, {type: not-contains, value: two}]\n",
    )
    .unwrap();
    let xml = dir.path().join("results.xml");
    let out = eval(
        dir.path(),
        &server,
        &["run", cfg.to_str().unwrap(), "-o", xml.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let junit = std::fs::read_to_string(&xml).unwrap();
    assert!(
        junit.contains("<failure ") && junit.contains("<error "),
        "{junit}"
    );
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    let check = xmllint(&schema, &xml);
    assert!(check.status.success(), "{}\n{junit}", text(&check.stderr));
    // The schema is not a rubber stamp: a file missing a required attribute fails it.
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, junit.replacen("<testcase name=", "<testcase nom=", 1)).unwrap();
    assert!(!xmllint(&schema, &bad).status.success());
}

#[test]
fn a_batch_run_killed_while_waiting_is_finished_by_resume_at_the_batch_discount() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:gpt-4o-mini]\ntests:\n  - vars: {q: one}\n    assert: [{type: contains, value: one}]\n  - vars: {q: two}\n    assert: [{type: contains, value: two}]\n",
    )
    .unwrap();
    // A first poll, then a wait of ten minutes: the process is killed in it, as a closed app.
    let mut child = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "600000")
        .args(["eval", "run", cfg.to_str().unwrap(), "--batch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let polled = |server: &FakeOpenAi| {
        server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.starts_with("/v1/batches/"))
    };
    let started = std::time::Instant::now();
    while !polled(&server) && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(polled(&server), "the batch was never polled");
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed run is marked cancelled at the next start, its batch kept for `eval resume`.
    let out = eval(dir.path(), &server, &["list"]);
    assert!(
        text(&out.stdout).contains("1\tcancelled\t0/2"),
        "{}",
        text(&out.stdout)
    );

    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "10")
        .args(["eval", "resume", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = eval(dir.path(), &server, &["show", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "done");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // "Echo: one": 2 prompt and 2 completion tokens at gpt-4o-mini's $0.15 / $0.60 per million,
    // halved (the Batch API's price).
    for r in results {
        assert_eq!(r["pass"], true, "{r}");
        let cost = r["costUsd"].as_f64().unwrap();
        assert!(
            (cost - 0.5 * (2.0 * 0.15 + 2.0 * 0.60) / 1e6).abs() < 1e-12,
            "{cost}"
        );
        assert!(r["latencyMs"].is_null());
    }
    // Nothing was uploaded or created twice.
    let count = |what: &str| {
        server
            .requests()
            .iter()
            .filter(|r| format!("{} {}", r.method, r.path) == what)
            .count()
    };
    assert_eq!((count("POST /v1/files"), count("POST /v1/batches")), (1, 1));
}

/// A batched run's `llm-rubric` is graded by the provider `options.provider` names, as in a
/// streamed run (not by the provider that answered); Ctrl+C while it grades exits 130 with no
/// half-graded cell stored, and `eval resume` grades the rest.
#[test]
fn a_batched_run_grades_with_the_named_judge_and_ctrl_c_while_grading_exits_130() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:suite-wait-0, openai:chat:test-judge-slow]\n\
         defaultTest:\n  options: {provider: openai:chat:test-judge-slow}\n\
         tests:\n  - vars: {q: one}\n    assert: [{type: llm-rubric, value: 'says one'}]\n",
    )
    .unwrap();
    let child = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "10")
        .args(["eval", "run", cfg.to_str().unwrap(), "--batch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let graders = |server: &FakeOpenAi| -> Vec<String> {
        (server.requests().iter())
            .filter(|r| r.method == "POST" && r.path == "/v1/chat/completions")
            .map(|r| r.body["model"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let started = std::time::Instant::now();
    while graders(&server).is_empty() && started.elapsed() < std::time::Duration::from_secs(120) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(
        graders(&server),
        ["test-judge-slow"],
        "the named judge grades"
    );
    let int = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(int.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let show = |dir: &Path| {
        let out = eval(dir, &server, &["show", "1", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(show(dir.path())["results"].as_array().unwrap().len(), 0);
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .env("PARLEY_BATCH_POLL_MS", "10")
        .args(["eval", "resume", "1"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 100)),
        "{}",
        text(&out.stderr)
    );
    let v = show(dir.path());
    assert_eq!(v["results"].as_array().unwrap().len(), 2, "{v}");
    assert!(graders(&server).iter().all(|m| m == "test-judge-slow"));
}

/// `-o` naming a file it cannot write is refused before anything is sent (it was refused after
/// the whole run, its results unwritten).
#[test]
fn an_output_file_it_cannot_write_is_refused_before_any_request() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let cfg = dir.path().join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:test-model]\ntests:\n  - vars: {q: one}\n",
    )
    .unwrap();
    let out = dir.path().join("results.txt");
    let run = eval(
        dir.path(),
        &server,
        &["run", cfg.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    assert_eq!(run.status.code(), Some(1));
    assert!(
        text(&run.stderr).contains("-o writes .json"),
        "{}",
        text(&run.stderr)
    );
    assert!(server.requests().is_empty());
    assert!(!out.exists());
}
