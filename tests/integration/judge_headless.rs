//! The LLM judge headless and through IPC: `parley judge` / `parley rubrics`, and the judge
//! commands of the window.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::cli::{assert_succeeded, parley};
use crate::common::{service, tempdir};
use crate::fake_openai::FakeOpenAi;
use crate::judge::{seed, LONG, QUESTION, SHORT};

fn seeded_dir(server: &FakeOpenAi) -> (tempfile::TempDir, i64, Vec<i64>) {
    let dir = tempdir();
    // Opening the service creates the schema the rows go into.
    drop(service(dir.path(), server, None));
    let (conv, ids) = seed(
        dir.path(),
        QUESTION,
        &[("m-short", SHORT), ("m-long", LONG)],
    );
    (dir, conv, ids)
}

fn run(dir: &Path, server: &FakeOpenAi, args: &[&str]) -> std::process::Output {
    parley(dir)
        .env("OPENAI_BASE_URL", server.base_url())
        .env("OPENAI_API_KEY", "sk-cli-test")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn parley_judge_prints_verdicts() {
    let server = FakeOpenAi::start();
    let (dir, conv, ids) = seeded_dir(&server);
    let (a, b) = (ids[0].to_string(), ids[1].to_string());
    let out = run(
        dir.path(),
        &server,
        &["judge", &a, &b, "--judge-model", "test-judge"],
    );
    assert_succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(&format!("{a}\tm-short\tscore 1/10")),
        "{text}"
    );
    let long = 1 + (LONG.chars().count() / 20).min(9);
    assert!(
        lines[1].starts_with(&format!("{b}\tm-long\tscore {long}/10")),
        "{text}"
    );

    // --json: the stored verdicts, parseable.
    let out = run(
        dir.path(),
        &server,
        &[
            "judge",
            "--conversation",
            &conv.to_string(),
            "--judge-model",
            "test-judge",
            "--json",
        ],
    );
    assert_succeeded(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[1]["messageId"], ids[1]);
    assert_eq!(arr[1]["score"], long);
    assert_eq!(arr[1]["kind"], "single");

    // --pairwise among siblings: both orders, consistency shown.
    let out = run(
        dir.path(),
        &server,
        &[
            "judge",
            &a,
            &b,
            "--pairwise",
            "--judge-model",
            "test-judge-biased",
        ],
    );
    assert_succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(&format!(
            "{a} vs {b}\tm-short vs m-long\tinconsistent\tinconsistent"
        )),
        "{text}"
    );
    let out = run(
        dir.path(),
        &server,
        &[
            "judge",
            &a,
            &b,
            "--pairwise",
            "--judge-model",
            "test-judge",
            "--json",
        ],
    );
    assert_succeeded(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["winner"], "b");
    assert_eq!(json[0]["consistent"], true);

    // A verdict that was not understood: printed as an error, exit code 1.
    let out = run(
        dir.path(),
        &server,
        &["judge", &a, "--judge-model", "test-judge-garbage"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("\terror\t") && text.contains("not understood"),
        "{text}"
    );
    // A message that is not a reply: a clear error, nothing judged.
    let question = (ids[0] - 1).to_string();
    let out = run(
        dir.path(),
        &server,
        &["judge", &question, "--judge-model", "test-judge"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a model's reply"));
}

#[test]
fn parley_rubrics_add_list_show() {
    let server = FakeOpenAi::start();
    let (dir, _, ids) = seeded_dir(&server);
    let out = run(dir.path(), &server, &["rubrics", "list"]);
    assert_succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("default\t1\tsingle") && text.contains("default-pairwise\t1\tpairwise"),
        "{text}"
    );

    let file = dir.path().join("strict.txt");
    std::fs::write(&file, "Be very strict.").unwrap();
    let f = file.to_str().unwrap();
    for version in ["1", "2"] {
        let out = run(
            dir.path(),
            &server,
            &["rubrics", "add", "strict", "--kind", "single", "--file", f],
        );
        assert_succeeded(&out);
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("version {version}")));
    }
    let out = run(dir.path(), &server, &["rubrics", "show", "strict"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "Be very strict."
    );
    // The wrong kind for a name, or a missing file: refused with a clear message.
    let out = run(
        dir.path(),
        &server,
        &[
            "rubrics", "add", "strict", "--kind", "pairwise", "--file", f,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("single rubric"));
    let out = run(
        dir.path(),
        &server,
        &[
            "rubrics",
            "add",
            "x",
            "--kind",
            "single",
            "--file",
            "/nonexistent/r.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // Judging with it records its version.
    let a = ids[0].to_string();
    let out = run(
        dir.path(),
        &server,
        &[
            "judge",
            &a,
            "--rubric",
            "strict",
            "--judge-model",
            "test-judge",
            "--json",
        ],
    );
    assert_succeeded(&out);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            json[0]["rubricName"].as_str(),
            json[0]["rubricVersion"].as_i64()
        ),
        (Some("strict"), Some(2))
    );
    assert!(
        server.requests().last().unwrap().body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Be very strict.")
    );
}

#[test]
fn the_judge_commands_work_through_ipc() {
    use crate::ipc::{app, invoke};
    use serde_json::json;
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app_handle, w) = app(dir.path(), &server);
    let ids = seed(
        dir.path(),
        QUESTION,
        &[("m-short", SHORT), ("m-long", LONG)],
    )
    .1;
    let rubrics = invoke(&w, "list_rubrics", json!({})).unwrap();
    assert_eq!(rubrics.as_array().unwrap().len(), 2);
    let saved = invoke(
        &w,
        "save_rubric",
        json!({"name": "mine", "kind": "pairwise", "body": "Prefer the shorter one."}),
    )
    .unwrap();
    assert_eq!(
        (saved["version"].as_i64(), saved["kind"].as_str()),
        (Some(1), Some("pairwise"))
    );
    let err = invoke(
        &w,
        "save_rubric",
        json!({"name": "mine", "kind": "single", "body": "x"}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let v = invoke(
        &w,
        "judge_reply",
        json!({"messageId": ids[1], "rubricId": null, "judge": {"model": "test-judge"}}),
    )
    .unwrap();
    assert_eq!(v["score"], 1 + (LONG.chars().count() / 20).min(9));
    let v = invoke(
        &w,
        "judge_pair",
        json!({"aId": ids[0], "bId": ids[1], "rubricId": saved["id"], "judge": {"model": "test-judge"}}),
    )
    .unwrap();
    assert_eq!(
        (v["winner"].as_str(), v["consistent"].as_bool()),
        (Some("b"), Some(true))
    );
    assert_eq!(v["rubricName"], "mine");
    let list = invoke(&w, "list_verdicts", json!({"messageId": ids[1]})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let err = invoke(&w, "list_verdicts", json!({"messageId": 9999})).unwrap_err();
    assert_eq!(err["kind"], "not_found");
}
