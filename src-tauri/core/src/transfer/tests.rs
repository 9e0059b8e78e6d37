//! Tests of export and import: the lossless round trip, a realistic ChatGPT export, atomic failure,
//! duplicates, cancel, and Markdown that marks every branch.

use super::*;
use crate::db::{conversations, messages, organise, Db};
use rusqlite::params;

fn count(c: &Connection, table: &str) -> i64 {
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn msg(c: &Connection, conv: i64, parent: Option<i64>, role: &str, text: &str, at: i64) -> i64 {
    c.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, prompt_tokens,
             completion_tokens, ttft_ms, total_ms, created_at)
         VALUES (?1, ?2, ?3, ?4, 'done', CASE WHEN ?3 = 'assistant' THEN 'gpt-4o' END, 12, 34, 150, 900, ?5)",
        params![conv, parent, role, text, at],
    )
    .unwrap();
    c.last_insert_rowid()
}

/// A conversation with a fork, settings, a folder, tags, a rating with history, a battle and a verdict.
fn rich(c: &mut Connection) -> i64 {
    let conv = conversations::create(
        c,
        Some(conversations::ConversationSettings {
            system_prompt: "Be brief.".into(),
            model: Some("gpt-4o".into()),
            params: crate::params::Params {
                temperature: Some(0.5),
                stop: Some(vec!["END".into()]),
                ..Default::default()
            },
            ..Default::default()
        }),
    )
    .unwrap();
    conversations::rename(c, conv.id, "Trip to 北京").unwrap();
    let u = msg(
        c,
        conv.id,
        None,
        "user",
        "Where should I go in 北京?",
        1_000,
    );
    let a1 = msg(
        c,
        conv.id,
        Some(u),
        "assistant",
        "The Forbidden City.",
        2_000,
    );
    let a2 = msg(c, conv.id, Some(u), "assistant", "故宫 and 长城.", 3_000);
    msg(c, conv.id, Some(a2), "user", "Thanks!", 4_000);
    c.execute("UPDATE messages SET selected_at = 5000 WHERE id = ?1", [a1])
        .unwrap();
    c.execute(
        "INSERT INTO ratings(message_id, thumb, score, reasons, comment, tags, reference, updated_at)
         VALUES (?1, 1, 5, '[\"accurate\"]', 'good', '[]', '', 6000)",
        [a1],
    )
    .unwrap();
    c.execute(
        "INSERT INTO rating_history(message_id, thumb, score, reasons, comment, tags, reference, rated_at)
         VALUES (?1, -1, 2, '[]', 'was bad', '[]', '', 5500)",
        [a1],
    )
    .unwrap();
    c.execute(
        "INSERT INTO battles(source, conversation_id, reply_a, reply_b, model_a, model_b, winner, created_at, voted_at)
         VALUES ('choice', ?1, ?2, ?3, 'gpt-4o', 'gpt-4o', 'a', 7000, 7100)",
        params![conv.id, a1, a2],
    )
    .unwrap();
    c.execute(
        "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, score, reasoning, created_at)
         VALUES ('single', 1, 'judge-model', ?1, 8, 'solid', 8000)",
        [a2],
    )
    .unwrap();
    let f = organise::create_folder(c, "Travel", None).unwrap();
    let f2 = organise::create_folder(c, "Asia", Some(f.id)).unwrap();
    let t = organise::ensure_tag(c, "plans", Some("#3366ff")).unwrap();
    for change in [
        organise::Change::Move {
            folder_id: Some(f2.id),
        },
        organise::Change::AddTag { tag_id: t.id },
        organise::Change::Pin { pinned: true },
    ] {
        organise::apply(c, &[conv.id], &change).unwrap();
    }
    conv.id
}

fn export_all(db: &Db, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    db.with(|c| export(c, &Selection::All, format, &mut out))
        .unwrap();
    out
}

fn import_bytes(db: &Db, bytes: &[u8]) -> Result<ImportSummary> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.json");
    std::fs::write(&path, bytes).unwrap();
    db.with(|c| import_file(c, &path, &mut |_| true))
}

#[test]
fn export_then_import_then_export_gives_the_same_file() {
    let a = Db::open_in_memory().unwrap();
    a.with(|c| {
        rich(c);
        let plain = conversations::create(c, None)?;
        msg(c, plain.id, None, "user", "hello", 9_000);
        Ok(())
    })
    .unwrap();
    let first = export_all(&a, Format::Json);
    let b = Db::open_in_memory().unwrap();
    let summary = import_bytes(&b, &first).unwrap();
    assert_eq!(
        (
            summary.format.as_str(),
            summary.conversations,
            summary.messages
        ),
        ("parley", 2, 5)
    );
    let second = export_all(&b, Format::Json);
    assert_eq!(
        String::from_utf8(first).unwrap(),
        String::from_utf8(second).unwrap()
    );
    // The imported tree shows the same branch, and the index finds the text.
    b.with(|c| {
        let id: i64 = c.query_row(
            "SELECT id FROM conversations WHERE title = 'Trip to 北京'",
            [],
            |r| r.get(0),
        )?;
        let path: Vec<String> = messages::active_path(c, id)?
            .into_iter()
            .map(|m| m.content)
            .collect();
        assert_eq!(path, ["Where should I go in 北京?", "The Forbidden City."]);
        let hits: i64 = c.query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1",
            ["\"故宫 and\""],
            |r| r.get(0),
        )?;
        assert_eq!(hits, 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_second_import_reports_duplicates_instead_of_doubling_them() {
    let a = Db::open_in_memory().unwrap();
    a.with(|c| Ok(rich(c))).unwrap();
    let file = export_all(&a, Format::Json);
    let s = import_bytes(&a, &file).unwrap();
    assert_eq!((s.conversations, s.duplicates), (0, 1));
    let b = Db::open_in_memory().unwrap();
    import_bytes(&b, CHATGPT.as_bytes()).unwrap();
    let again = import_bytes(&b, CHATGPT.as_bytes()).unwrap();
    assert_eq!((again.conversations, again.duplicates), (0, 2));
    assert_eq!(b.with(|c| Ok(count(c, "conversations"))).unwrap(), 2);
}

#[test]
fn an_import_keeps_the_colour_of_a_tag_already_here() {
    let a = Db::open_in_memory().unwrap();
    a.with(|c| Ok(rich(c))).unwrap();
    let file = export_all(&a, Format::Json);
    let b = Db::open_in_memory().unwrap();
    let mine = b
        .with(|c| organise::ensure_tag(c, "Plans", Some("#aa0000")))
        .unwrap();
    import_bytes(&b, &file).unwrap();
    let tags = b.with(|c| organise::list_tags(c)).unwrap();
    assert_eq!(tags.len(), 1, "the same tag (any case), not a second one");
    assert_eq!((tags[0].id, tags[0].color.as_str()), (mine.id, "#aa0000"));
    // A tag new here comes with its colour.
    let c = Db::open_in_memory().unwrap();
    import_bytes(&c, &file).unwrap();
    assert_eq!(
        c.with(|c| organise::list_tags(c)).unwrap()[0].color,
        "#3366ff"
    );
}

#[test]
fn a_truncated_or_wrong_file_changes_nothing_and_says_where() {
    let a = Db::open_in_memory().unwrap();
    a.with(|c| Ok(rich(c))).unwrap();
    let mut file = export_all(&a, Format::Json);
    // Two good conversations, then the file is cut off inside a third.
    let b = Db::open_in_memory().unwrap();
    b.with(|c| Ok(rich(c))).unwrap();
    let before = b
        .with(|c| {
            Ok((
                count(c, "conversations"),
                count(c, "messages"),
                count(c, "folders"),
            ))
        })
        .unwrap();
    let text = String::from_utf8(file.clone()).unwrap();
    let doubled = text.replacen(
        "\"conversations\":[\n",
        &format!(
            "\"conversations\":[\n{},\n",
            text.lines()
                .nth(1)
                .unwrap()
                .trim_end_matches(',')
                .replace("Trip to 北京", "Other")
        ),
        1,
    );
    file = doubled.into_bytes();
    file.truncate(file.len() - 200);
    let err = import_bytes(&b, &file).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert!(
        err.to_string().contains("cut off") && err.to_string().contains("line"),
        "{err}"
    );
    let after = b
        .with(|c| {
            Ok((
                count(c, "conversations"),
                count(c, "messages"),
                count(c, "folders"),
            ))
        })
        .unwrap();
    assert_eq!(before, after, "nothing changed");

    let bad_role = String::from_utf8(export_all(&a, Format::Json))
        .unwrap()
        .replace("\"role\":\"user\"", "\"role\":\"wizard\"");
    let err = import_bytes(&b, bad_role.as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("conversation 1") && err.to_string().contains("message 1"),
        "{err}"
    );
    let err = import_bytes(&b, b"hello").unwrap_err();
    assert!(err.to_string().contains("neither"), "{err}");
    let err = import_bytes(&b, br#"{"conversations": []}"#).unwrap_err();
    assert!(err.to_string().contains("not a Parley export"), "{err}");
    assert_eq!(
        before,
        b.with(|c| Ok((
            count(c, "conversations"),
            count(c, "messages"),
            count(c, "folders")
        )))
        .unwrap()
    );
}

#[test]
fn cancelling_an_import_keeps_nothing() {
    let b = Db::open_in_memory().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conversations.json");
    std::fs::write(&path, CHATGPT).unwrap();
    let mut seen = Vec::new();
    let err = b
        .with(|c| {
            import_file(c, &path, &mut |p| {
                seen.push(p);
                false
            })
        })
        .unwrap_err();
    assert_eq!(err.kind(), "cancelled");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].total_bytes, CHATGPT.len() as u64);
    assert_eq!(b.with(|c| Ok(count(c, "conversations"))).unwrap(), 0);
}

/// A ChatGPT export as its `conversations.json` looks: an empty system root, a user message with an
/// image, an edited user message (two branches), a tool call, a hidden context message, Chinese.
pub const CHATGPT: &str = r#"[
 {"title": "旅行计划", "create_time": 1700000000.123, "update_time": 1700000500.5, "current_node": "a2",
  "conversation_id": "c1", "id": "c1",
  "mapping": {
   "root": {"id": "root", "message": null, "parent": null, "children": ["sys"]},
   "sys": {"id": "sys", "message": {"id": "sys", "author": {"role": "system"}, "create_time": null,
           "content": {"content_type": "text", "parts": [""]}, "metadata": {"is_visually_hidden_from_conversation": true}},
           "parent": "root", "children": ["u1", "u2"]},
   "u1": {"id": "u1", "message": {"id": "u1", "author": {"role": "user"}, "create_time": 1700000010.0,
          "content": {"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, "这张照片是在哪里拍的？"]},
          "metadata": {}}, "parent": "sys", "children": ["a1"]},
   "a1": {"id": "a1", "message": {"id": "a1", "author": {"role": "assistant"}, "create_time": 1700000020.0,
          "content": {"content_type": "text", "parts": ["看起来像是北京的故宫。"]}, "metadata": {"model_slug": "gpt-4o"}},
          "parent": "u1", "children": []},
   "u2": {"id": "u2", "message": {"id": "u2", "author": {"role": "user"}, "create_time": 1700000100.0,
          "content": {"content_type": "text", "parts": ["Plan three days in Beijing"]}, "metadata": {}},
          "parent": "sys", "children": ["t1"]},
   "t1": {"id": "t1", "message": {"id": "t1", "author": {"role": "tool", "name": "browser"}, "create_time": 1700000101.0,
          "content": {"content_type": "tether_browsing_display", "result": "..."}, "metadata": {}},
          "parent": "u2", "children": ["a2"]},
   "a2": {"id": "a2", "message": {"id": "a2", "author": {"role": "assistant"}, "create_time": 1700000110.0,
          "content": {"content_type": "text", "parts": ["Day 1: 天安门 and the Forbidden City."]}, "metadata": {"model_slug": "gpt-4o-mini"}},
          "parent": "t1", "children": []}
  }},
 {"title": "Hello", "create_time": 1700001000, "update_time": 1700001000, "current_node": "b",
  "mapping": {
   "a": {"id": "a", "message": {"author": {"role": "user"}, "content": {"content_type": "text", "parts": ["hi"]}}, "parent": null, "children": ["b"]},
   "b": {"id": "b", "message": {"author": {"role": "assistant"}, "content": {"content_type": "code", "text": "print(1)"}}, "parent": "a", "children": []}
  }}
]"#;

#[test]
fn a_chatgpt_export_keeps_branches_roles_times_and_chinese_and_counts_what_it_leaves_out() {
    let db = Db::open_in_memory().unwrap();
    let s = import_bytes(&db, CHATGPT.as_bytes()).unwrap();
    assert_eq!(s.format, "chatgpt");
    assert_eq!((s.conversations, s.messages), (2, 6));
    // The image part, and the browsing output of the tool message.
    assert_eq!((s.skipped_parts, s.skipped_messages), (2, 1));
    db.with(|c| {
        let (id, created, updated): (i64, i64, i64) = c.query_row(
            "SELECT id, created_at, updated_at FROM conversations WHERE title = '旅行计划'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!((created, updated), (1_700_000_000_123, 1_700_000_500_500));
        // current_node is the branch shown; the tool message's child hangs on the user message.
        let path = messages::active_path(c, id)?;
        let shown: Vec<(&str, &str)> = path
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("user", "Plan three days in Beijing"),
                ("assistant", "Day 1: 天安门 and the Forbidden City.")
            ]
        );
        assert_eq!(path[1].model.as_deref(), Some("gpt-4o-mini"));
        assert_eq!(path[0].created_at, 1_700_000_100_000);
        let roots: i64 = c.query_row(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND parent_id IS NULL",
            [id],
            |r| r.get(0),
        )?;
        assert_eq!(
            roots, 2,
            "both edits of the first message are kept as branches"
        );
        let other: String = c.query_row(
            "SELECT content FROM messages WHERE content LIKE '%照片%'",
            [],
            |r| r.get(0),
        )?;
        assert_eq!(other, "这张照片是在哪里拍的？");
        Ok(())
    })
    .unwrap();
}

#[test]
fn markdown_marks_every_branch_and_keeps_settings_folder_and_tags() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| Ok(rich(c))).unwrap();
    let md = String::from_utf8(export_all(&db, Format::Markdown)).unwrap();
    assert!(md.starts_with("# Trip to 北京\n"), "{md}");
    assert!(
        md.contains("folder Travel / Asia") && md.contains("tags plans") && md.contains("pinned"),
        "{md}"
    );
    assert!(md.contains("> Be brief."), "{md}");
    assert!(
        md.contains("_Branch 1 of 2 after message 1, shown_"),
        "{md}"
    );
    assert!(md.contains("_Branch 2 of 2 after message 1_"), "{md}");
    // The shown branch comes first.
    assert!(md.find("The Forbidden City.").unwrap() < md.find("故宫 and 长城.").unwrap());
}

#[test]
fn a_selection_a_folder_or_everything_can_be_exported_to_a_private_file() {
    let db = Db::open_in_memory().unwrap();
    let (id, other) = db
        .with(|c| {
            let id = rich(c);
            Ok((id, conversations::create(c, None)?.id))
        })
        .unwrap();
    db.with(|c| {
        let folder = organise::list_folders(c)?
            .into_iter()
            .find(|f| f.name == "Travel")
            .unwrap();
        assert_eq!(resolve(c, &Selection::Folder(folder.id))?, [id]);
        assert_eq!(
            resolve(c, &Selection::Ids(vec![other, id, other]))?,
            [id, other]
        );
        assert_eq!(resolve(c, &Selection::All)?, [id, other]);
        assert_eq!(
            resolve(c, &Selection::Ids(vec![999])).unwrap_err().kind(),
            "not_found"
        );
        Ok(())
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(default_file_name("all", Format::Json));
    assert!(path.to_string_lossy().ends_with(".json"));
    db.with(|c| {
        write_private(&path, |out| {
            export(c, &Selection::All, Format::Json, out).map(|_| ())
        })
    })
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(!dir
        .path()
        .join(format!(
            "{}.partial",
            path.file_name().unwrap().to_string_lossy()
        ))
        .exists());
}
