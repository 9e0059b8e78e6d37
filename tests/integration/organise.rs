//! Organising through IPC (bulk move / tag / delete and their Undo, the list carrying folder, tags
//! and pin), a backup restored from the window, and the headless export / import / conversations
//! / restore with their exit codes.

use serde_json::{json, Value};

use crate::cli::parley;
use crate::common::{peek, tempdir};
use crate::fake_openai::FakeOpenAi;
use crate::ipc::{app, invoke};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn bulk_move_tag_archive_and_delete_through_ipc_each_undo() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let a = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    let b = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    let work = invoke(
        &w,
        "create_folder",
        json!({"name": "Work", "parentId": null}),
    )
    .unwrap();
    let sub = invoke(
        &w,
        "create_folder",
        json!({"name": "Acme", "parentId": work["id"]}),
    )
    .unwrap();
    assert_eq!(sub["parentId"], work["id"]);
    let tag = invoke(
        &w,
        "create_tag",
        json!({"name": "urgent", "color": "#e11d48"}),
    )
    .unwrap();

    let before = invoke(
        &w,
        "organise_conversations",
        json!({"ids": [a, b], "change": {"op": "move", "folderId": sub["id"]}}),
    )
    .unwrap();
    let list = invoke(&w, "list_conversations", json!({})).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["folderId"] == sub["id"]));
    invoke(&w, "undo_organise", json!({"states": before})).unwrap();
    let list = invoke(&w, "list_conversations", json!({})).unwrap();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["folderId"].is_null()));

    invoke(
        &w,
        "organise_conversations",
        json!({"ids": [a], "change": {"op": "addTag", "tagId": tag["id"]}}),
    )
    .unwrap();
    invoke(
        &w,
        "organise_conversations",
        json!({"ids": [a], "change": {"op": "pin", "pinned": true}}),
    )
    .unwrap();
    let list = invoke(&w, "list_conversations", json!({})).unwrap();
    assert_eq!(ids(&list), [a, b], "pinned first");
    assert_eq!(
        (list[0]["tags"].clone(), list[0]["pinned"].clone()),
        (json!([tag["id"]]), json!(true))
    );

    invoke(
        &w,
        "organise_conversations",
        json!({"ids": [b], "change": {"op": "archive", "archived": true}}),
    )
    .unwrap();
    assert_eq!(
        ids(&invoke(&w, "list_conversations", json!({})).unwrap()),
        [a]
    );
    assert_eq!(
        ids(&invoke(&w, "list_archived_conversations", json!({})).unwrap()),
        [b]
    );

    invoke(&w, "delete_conversations", json!({"ids": [a, b]})).unwrap();
    assert_eq!(
        ids(&invoke(&w, "list_conversations", json!({})).unwrap()),
        Vec::<i64>::new()
    );
    invoke(&w, "restore_conversations", json!({"ids": [a, b]})).unwrap();
    assert_eq!(
        ids(&invoke(&w, "list_conversations", json!({})).unwrap()),
        [a]
    );

    // A bad colour or a folder inside itself is a typed error.
    let err = invoke(&w, "create_tag", json!({"name": "x", "color": "red"})).unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let err = invoke(
        &w,
        "move_folder",
        json!({"id": work["id"], "parentId": sub["id"]}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    invoke(&w, "delete_folder", json!({"id": work["id"]})).unwrap();
    assert_eq!(invoke(&w, "list_folders", json!({})).unwrap(), json!([]));
}

#[test]
fn a_backup_is_restored_from_the_window_and_shown_at_once() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let id = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    invoke(
        &w,
        "rename_conversation",
        json!({"id": id, "title": "kept"}),
    )
    .unwrap();
    let taken = parley_core::db::backup::daily(&peek(dir.path()), dir.path())
        .unwrap()
        .unwrap();
    let newer = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    invoke(
        &w,
        "rename_conversation",
        json!({"id": newer, "title": "newer"}),
    )
    .unwrap();

    let backups = invoke(&w, "list_backups", json!({})).unwrap();
    let name = backups[0]["name"].as_str().unwrap().to_string();
    assert_eq!(name, taken.file_name().unwrap().to_string_lossy());
    let moved = invoke(&w, "restore_backup", json!({"name": name})).unwrap();
    let list = invoke(&w, "list_conversations", json!({})).unwrap();
    let titles: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["kept"]);
    assert!(
        std::path::Path::new(moved.as_str().unwrap()).exists(),
        "the replaced file is kept"
    );
    // The window goes on writing to the restored database.
    invoke(&w, "create_conversation", json!({})).unwrap();
    let err = invoke(&w, "restore_backup", json!({"name": "../parley.db"})).unwrap_err();
    assert_eq!(err["kind"], "not_found");
}

/// A small ChatGPT `conversations.json`: a fork, Chinese text and an image part.
pub fn chatgpt_file(n: usize) -> String {
    let convs: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "title": format!("对话 {i}"), "create_time": 1_700_000_000.0 + i as f64, "update_time": 1_700_000_100.0,
                "current_node": "a2",
                "mapping": {
                    "r": {"id": "r", "message": null, "parent": null, "children": ["u"]},
                    "u": {"id": "u", "parent": "r", "children": ["a1", "a2"], "message": {"author": {"role": "user"},
                          "content": {"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer"}, "这是什么？"]}}},
                    "a1": {"id": "a1", "parent": "u", "children": [], "message": {"author": {"role": "assistant"},
                          "content": {"content_type": "text", "parts": ["A cat."]}}},
                    "a2": {"id": "a2", "parent": "u", "children": [], "message": {"author": {"role": "assistant"},
                          "content": {"content_type": "text", "parts": ["一只猫。"]}, "metadata": {"model_slug": "gpt-4o"}}}
                }
            })
        })
        .collect();
    Value::Array(convs).to_string()
}

fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = parley(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn headless_import_export_and_list_exit_zero_or_one_and_a_bad_file_changes_nothing() {
    let dir = tempdir();
    let files = tempdir();
    let good = files.path().join("conversations.json");
    std::fs::write(&good, chatgpt_file(3)).unwrap();
    let (code, out, err) = run(dir.path(), &["import", good.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("Imported 3 conversation(s), 9 message(s) from a ChatGPT export")
            && out.contains("3 part(s)"),
        "{out}"
    );
    let (code, out, _) = run(dir.path(), &["import", good.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("Imported 0") && out.contains("3 already here"),
        "{out}"
    );

    let cut = files.path().join("cut.json");
    let text = chatgpt_file(5);
    std::fs::write(&cut, &text[..text.len() - 40]).unwrap();
    let (code, _, err) = run(dir.path(), &["import", cut.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("cut off") && err.contains("line 1"), "{err}");

    let (code, out, _) = run(dir.path(), &["conversations", "list", "--json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        3,
        "the cut file added nothing"
    );
    let (code, out, _) = run(dir.path(), &["conversations", "list"]);
    assert_eq!((code, out.lines().count()), (0, 3));

    let md = files.path().join("out.md");
    let (code, _, err) = run(
        dir.path(),
        &["export", "1", "--format", "md", "-o", md.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("# 对话 0") && text.contains("_Branch 2 of 2 after message 1, shown_"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&md).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (code, out, _) = run(dir.path(), &["export", "--all"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("{\"format\":\"parley-export\""), "{out}");
    let other = tempdir();
    let json = files.path().join("all.json");
    std::fs::write(&json, &out).unwrap();
    assert_eq!(run(other.path(), &["import", json.to_str().unwrap()]).0, 0);
    assert_eq!(
        run(other.path(), &["export", "--all"]).1,
        out,
        "export → import → export is identical"
    );

    assert_eq!(run(dir.path(), &["export", "999"]).0, 1);
    assert_eq!(run(dir.path(), &["export"]).0, 2, "a usage error");
    assert_eq!(
        run(dir.path(), &["export", "--all", "--format", "pdf"]).0,
        2
    );
}

#[test]
fn restore_refuses_while_a_window_holds_the_database() {
    let dir = tempdir();
    let (db, _) = parley_core::db::Db::open_dir(dir.path()).unwrap();
    let backup = db
        .with(|c| parley_core::db::backup::write(c, dir.path(), "daily"))
        .unwrap();
    drop(db);
    let name = backup.file_name().unwrap().to_str().unwrap().to_string();
    let lock = parley_core::db::backup::hold_window_lock(dir.path())
        .unwrap()
        .unwrap();
    let (code, _, err) = run(dir.path(), &["restore", &name]);
    assert_eq!(code, 1);
    assert!(err.contains("close it first"), "{err}");
    drop(lock);
    let (code, _, err) = run(dir.path(), &["restore", &name]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn compacting_from_the_window_shrinks_the_file_after_a_delete_and_keeps_what_is_left() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let kept = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    invoke(
        &w,
        "rename_conversation",
        json!({"id": kept, "title": "kept"}),
    )
    .unwrap();
    let gone = invoke(&w, "create_conversation", json!({})).unwrap()["id"]
        .as_i64()
        .unwrap();
    {
        let mut c = peek(dir.path());
        let tx = c.transaction().unwrap();
        for _ in 0..1_000 {
            tx.execute(
                "INSERT INTO messages(conversation_id, role, content, status, created_at)
                 VALUES (?1, 'user', ?2, 'done', 0)",
                rusqlite::params![gone, "y".repeat(600)],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        // Gone for good (the bin is not what is measured here).
        c.execute("DELETE FROM messages WHERE conversation_id = ?1", [gone])
            .unwrap();
        c.execute("DELETE FROM conversations WHERE id = ?1", [gone])
            .unwrap();
    }
    let done = invoke(&w, "compact_database", json!({})).unwrap();
    let (before, after) = (
        done["bytesBefore"].as_u64().unwrap(),
        done["bytesAfter"].as_u64().unwrap(),
    );
    // 1,000 messages of 600 characters were deleted: at least half of their bytes come back.
    assert!(before > after + 300_000, "{done}");
    let list = invoke(&w, "list_conversations", json!({})).unwrap();
    assert_eq!(ids(&list), [kept]);
}
