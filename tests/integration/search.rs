//! Search and long threads through the faces: `parley search` (text and JSON, exit codes) and the
//! window's commands (search, facets, pages of a thread, opening a message in a hidden branch).

use serde_json::{json, Value};

use parley_core::db::Db;

use crate::cli::parley;
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;
use crate::ipc::{app, invoke};

/// A conversation whose first question was edited: the original (with "zebra") is a hidden branch.
fn seed(dir: &std::path::Path) {
    let (db, _) = Db::open_dir(dir).unwrap();
    db.with(|c| {
        c.execute_batch(
            "INSERT INTO conversations(id, title, model, created_at, updated_at)
                 VALUES (1, 'Animals 动物', 'gpt-4o', 0, 0);
             INSERT INTO messages(id, conversation_id, parent_id, role, content, status, model, created_at, selected_at) VALUES
                 (1, 1, NULL, 'user', 'Tell me about the zebra', 'done', NULL, 1000, 1000),
                 (2, 1, 1, 'assistant', 'Zebras have stripes.', 'done', 'gpt-4o', 2000, NULL),
                 (3, 1, NULL, 'user', '说说熊猫的生活习性', 'done', NULL, 3000, 3000),
                 (4, 1, 3, 'assistant', '熊猫主要吃竹子。', 'done', 'gpt-4o', 4000, NULL);",
        )?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn parley_search_prints_hits_and_exits_1_when_there_are_none() {
    let dir = tempdir();
    seed(dir.path());
    let out = parley(dir.path())
        .args(["search", "zebra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("#1\tAnimals 动物\t"), "{text}");
    assert!(lines[0].contains("[Zebra]s have stripes."), "{text}");
    assert!(lines[1].contains("Tell me about the [zebra]"), "{text}");

    let out = parley(dir.path())
        .args(["search", "熊猫", "--limit", "1", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let hits: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["messageId"], 4);
    assert_eq!(hits[0]["conversationId"], 1);
    assert_eq!(hits[0]["snippet"][0], json!({"text": "熊猫", "hit": true}));

    // Query syntax is text: no error, just no hits.
    for q in ["\"NEAR(", "a* -b", "nothing like this", "-b"] {
        // A word that starts with `-` comes after `--`.
        let out = parley(dir.path())
            .args(["search", "--", q])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{q}");
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{q}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // An error is not "nothing found": exit 2, as grep.
    crate::common::peek(dir.path())
        .pragma_update(None, "user_version", 9999)
        .unwrap();
    let out = parley(dir.path())
        .args(["search", "zebra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer Parley"));
}

#[test]
fn the_window_searches_pages_and_opens_a_hidden_branch() {
    let dir = tempdir();
    seed(dir.path());
    let server = FakeOpenAi::start();
    let (_app, w) = app(dir.path(), &server);
    let hits = invoke(
        &w,
        "search_messages",
        json!({"query": "zebra", "filter": {"model": "gpt-4o"}, "limit": 10}),
    )
    .unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 2);
    let hits = invoke(
        &w,
        "search_messages",
        json!({"query": "zebra", "filter": {"rated": true}}),
    )
    .unwrap();
    assert_eq!(hits, json!([]));
    let facets = invoke(&w, "search_facets", json!({})).unwrap();
    assert_eq!(facets["models"], json!(["gpt-4o"]));

    // The shown branch is the newer one (pandas); the zebra question is hidden.
    let page = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "limit": 30}),
    )
    .unwrap();
    assert_eq!(page["total"], 2);
    assert_eq!(page["messages"][0]["content"], "说说熊猫的生活习性");
    let page = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "start": 1, "limit": 1}),
    )
    .unwrap();
    assert_eq!(
        (page["start"].clone(), page["messages"][0]["id"].clone()),
        (json!(1), json!(4))
    );

    // Opening the hit shows its branch and keeps it shown.
    let page = invoke(&w, "open_at_message", json!({"messageId": 2, "limit": 30})).unwrap();
    let ids: Vec<i64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2]);
    assert_eq!(page["messages"][0]["siblingIds"], json!([1, 3]));
    let shown = invoke(&w, "get_messages", json!({"conversationId": 1})).unwrap();
    assert_eq!(shown[0]["content"], "Tell me about the zebra");
    let one = invoke(&w, "get_conversation", json!({"id": 1})).unwrap();
    assert_eq!(one["title"], "Animals 动物");
}

/// One linear conversation of `n` messages (ids 1..=n, each the child of the one before).
fn seed_long(dir: &std::path::Path, n: i64) {
    let (db, _) = Db::open_dir(dir).unwrap();
    db.with(|c| {
        c.execute(
            "INSERT INTO conversations(id, title, model, created_at, updated_at) VALUES (1, 'Long', 'gpt-4o', 0, 0)",
            [],
        )?;
        let tx = c.transaction()?;
        for id in 1..=n {
            let role = if id % 2 == 1 { "user" } else { "assistant" };
            tx.execute(
                "INSERT INTO messages(id, conversation_id, parent_id, role, content, status, created_at)
                 VALUES (?1, 1, ?2, ?3, ?4, 'done', ?1)",
                rusqlite::params![id, (id > 1).then_some(id - 1), role, format!("message {id}")],
            )?;
        }
        tx.commit()?;
        Ok(())
    })
    .unwrap();
}

fn ids_of(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn a_page_of_a_long_conversation_carries_only_the_slice_asked_for() {
    let dir = tempdir();
    seed_long(dir.path(), 2_000);
    let server = FakeOpenAi::start();
    let (_app, w) = app(dir.path(), &server);
    // The open: the last page only, and where it sits.
    let end = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "limit": 30}),
    )
    .unwrap();
    assert_eq!(
        (end["total"].clone(), end["start"].clone()),
        (json!(2000), json!(1970))
    );
    assert_eq!(ids_of(&end), (1971..=2000).collect::<Vec<_>>());
    // Scrolling up: the page before a position, and nothing beyond it.
    let before = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "start": 500, "limit": 30}),
    )
    .unwrap();
    assert_eq!(ids_of(&before), (501..=530).collect::<Vec<_>>());
    // Past the end: what there is; a huge limit is cut to the most one page carries.
    let tail = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "start": 1990, "limit": 30}),
    )
    .unwrap();
    assert_eq!(ids_of(&tail), (1991..=2000).collect::<Vec<_>>());
    let huge = invoke(
        &w,
        "get_thread_page",
        json!({"conversationId": 1, "start": 0, "limit": 100000}),
    )
    .unwrap();
    assert_eq!(ids_of(&huge).len(), parley_core::chat::history::MAX_PAGE);
    // Around a message: it sits in the middle of its page.
    let around = invoke(
        &w,
        "open_at_message",
        json!({"messageId": 1000, "limit": 31}),
    )
    .unwrap();
    assert_eq!(ids_of(&around), (985..=1015).collect::<Vec<_>>());
}
