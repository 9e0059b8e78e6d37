//! The judge as the window uses it (branch judge), through IPC against the local test server: a
//! verdict wrapped in prose or a fence is read and stored, two verdicts in one answer are not; the
//! verdicts of a page of replies and of the ratings view; a pair stored; a run stopped stores
//! nothing; the model asked for is what is stored, the server's claimed name beside it.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::tempdir;
use crate::fake_openai::fake_judge::RENAMED_JUDGE;
use crate::fake_openai::FakeOpenAi;
use crate::ipc::{app, invoke};
use crate::judge::{seed, LONG, QUESTION, SHORT};
use tauri::test::MockRuntime;
use tauri::WebviewWindow;

/// The window over QUESTION answered by `replies` (seeded in the database), with the server and
/// the folder it needs; dropped window first.
struct Judged {
    _app: tauri::App<MockRuntime>,
    w: WebviewWindow<MockRuntime>,
    ids: Vec<i64>,
    _dir: tempfile::TempDir,
    _server: FakeOpenAi,
}

fn judged(replies: &[(&str, &str)]) -> Judged {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (app, w) = app(dir.path(), &server);
    let ids = seed(dir.path(), QUESTION, replies).1;
    Judged {
        _app: app,
        w,
        ids,
        _dir: dir,
        _server: server,
    }
}

fn long_score() -> i64 {
    1 + (LONG.chars().count() / 20).min(9) as i64
}

#[test]
fn a_verdict_wrapped_in_prose_or_a_fence_is_stored_and_listed_for_its_reply() {
    let Judged { w, ids, .. } = &judged(&[("m-short", SHORT), ("m-long", LONG)]);
    for model in ["test-judge-prose", "test-judge-fenced"] {
        let v = invoke(
            w,
            "judge_reply",
            json!({"messageId": ids[1], "rubricId": null, "judge": {"model": model}}),
        )
        .unwrap();
        assert_eq!(v["score"], long_score(), "{model}: {v}");
        assert_eq!(v["error"], Value::Null, "{model}");
        assert!(v["raw"].as_str().unwrap().contains("verdict"), "{model}");
    }
    // Two verdicts in one answer: stored as not understood, no score guessed.
    let v = invoke(
        w,
        "judge_reply",
        json!({"messageId": ids[1], "rubricId": null, "judge": {"model": "test-judge-two"}}),
    )
    .unwrap();
    assert_eq!(v["score"], Value::Null);
    assert!(
        v["error"].as_str().unwrap().contains("not understood"),
        "{v}"
    );

    // The page's verdicts in one call: the three about the long reply, newest first.
    let page = invoke(w, "verdicts_of_messages", json!({"messageIds": ids})).unwrap();
    let page = page.as_array().unwrap();
    assert_eq!(page.len(), 3);
    assert_eq!(page[0]["judgeModel"], "test-judge-two");
    assert_eq!(page[2]["judgeModel"], "test-judge-prose");
    let none = invoke(w, "verdicts_of_messages", json!({"messageIds": [ids[0]]})).unwrap();
    assert_eq!(none, json!([]));
    let too_many: Vec<i64> = (0..1_001).collect();
    let err = invoke(w, "verdicts_of_messages", json!({"messageIds": too_many})).unwrap_err();
    assert_eq!(err["kind"], "invalid");
}

#[test]
fn a_pair_judged_from_a_group_is_stored_and_the_ratings_view_lists_it_with_its_filters() {
    let Judged { w, ids, .. } = &judged(&[("m-short", SHORT), ("m-long", LONG)]);
    let pair = invoke(
        w,
        "judge_pair",
        json!({"aId": ids[0], "bId": ids[1], "rubricId": null, "judge": {"model": "test-judge-prose"}}),
    )
    .unwrap();
    // The one definition of who won: b (the long reply), the same in both orders.
    assert_eq!(
        (pair["winner"].as_str(), pair["consistent"].as_bool()),
        (Some("b"), Some(true))
    );
    assert_eq!(pair["kind"], "pairwise");
    invoke(
        w,
        "judge_reply",
        json!({"messageId": ids[0], "rubricId": null, "judge": {"model": "test-judge"}}),
    )
    .unwrap();

    let all = invoke(w, "list_all_verdicts", json!({"filter": {}})).unwrap();
    let kinds: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["single", "pairwise"]);
    let pairs = invoke(
        w,
        "list_all_verdicts",
        json!({"filter": {"kind": "pairwise"}}),
    )
    .unwrap();
    assert_eq!(pairs.as_array().unwrap().len(), 1);
    let later = invoke(
        w,
        "list_all_verdicts",
        json!({"filter": {"since": i64::MAX / 2}}),
    )
    .unwrap();
    assert_eq!(later, json!([]));
    // The tag filter: verdicts about a reply rated with that tag.
    invoke(
        w,
        "rate_reply",
        json!({"messageId": ids[1], "rating": {"thumb": 1, "tags": ["geo"]}}),
    )
    .unwrap();
    let tagged = invoke(w, "list_all_verdicts", json!({"filter": {"tag": "geo"}})).unwrap();
    let tagged = tagged.as_array().unwrap();
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0]["id"], pair["id"]);
}

#[test]
fn the_model_asked_for_is_stored_with_the_servers_claimed_name_beside_it() {
    let Judged { w, ids, .. } = &judged(&[("m-long", LONG)]);
    let v = invoke(
        w,
        "judge_reply",
        json!({"messageId": ids[0], "rubricId": null, "judge": {"model": "test-judge-renamed"}}),
    )
    .unwrap();
    assert_eq!(v["judgeModel"], "test-judge-renamed");
    assert_eq!(v["servedModel"], RENAMED_JUDGE);
    let same = invoke(
        w,
        "judge_reply",
        json!({"messageId": ids[0], "rubricId": null, "judge": {"model": "test-judge"}}),
    )
    .unwrap();
    assert_eq!(same["servedModel"], Value::Null);
}

#[test]
fn a_running_judge_is_stopped_by_its_run_id_and_stores_nothing() {
    let t = judged(&[("m-long", LONG)]);
    let (w, ids) = (&t.w, &t.ids);
    let (tx, rx) = mpsc::channel();
    let judged = w.clone();
    let id = ids[0];
    std::thread::spawn(move || {
        let r = invoke(
            &judged,
            "judge_reply",
            json!({"messageId": id, "rubricId": null,
                   "judge": {"model": "test-hang", "runId": "judge-run-1"}}),
        );
        tx.send(r).ok();
    });
    // Stop it as the panel's Stop does, once it is registered.
    let mut stopped = false;
    for _ in 0..200 {
        if invoke(w, "cancel_stream", json!({"streamId": "judge-run-1"})).unwrap() == json!(true) {
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(stopped, "the judge run was registered under its id");
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the judge run ended");
    assert_eq!(result.unwrap_err()["kind"], "cancelled");
    let stored = invoke(w, "verdicts_of_messages", json!({"messageIds": [id]})).unwrap();
    assert_eq!(stored, json!([]));
    drop(t);
}
