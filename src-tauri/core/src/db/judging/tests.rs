//! Unit tests of `db::judging`.

use super::*;
use crate::db::migrations::{JUDGE_MIGRATION, MIGRATIONS};

fn db() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    crate::db::migrations::migrate(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO conversations(id, created_at, updated_at) VALUES (1, 0, 0);
         INSERT INTO messages(id, conversation_id, role, content, status, created_at)
             VALUES (1, 1, 'user', 'q', 'done', 0);
         INSERT INTO messages(id, conversation_id, parent_id, role, content, status, model, created_at)
             VALUES (2, 1, 1, 'assistant', 'r1', 'done', 'm1', 0),
                    (3, 1, 1, 'assistant', 'r2', 'done', 'm2', 0);",
    )
    .unwrap();
    conn
}

#[test]
fn judge_migration_applies_on_a_database_without_migration_7() {
    // Migrations 1–6 only (as on main before the ratings migration), then the judge's.
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "foreign_keys", true).unwrap();
    for sql in MIGRATIONS.iter().take(6) {
        conn.execute_batch(sql).unwrap();
    }
    let tx = conn.transaction().unwrap();
    tx.execute_batch(JUDGE_MIGRATION).unwrap();
    tx.commit().unwrap();
    let seeded: Vec<(String, String, i64)> = conn
        .prepare("SELECT name, kind, version FROM rubrics ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        seeded,
        vec![
            ("default".to_string(), "single".to_string(), 1),
            ("default-pairwise".to_string(), "pairwise".to_string(), 1)
        ]
    );
    let body = rubric_by_name(&conn, "default").unwrap().body;
    for axis in ["Accuracy", "Relevance", "Fluency", "1 to 10"] {
        assert!(body.contains(axis), "{axis} missing from {body}");
    }
}

#[test]
fn saving_a_rubric_adds_a_version_and_keeps_the_old_one() {
    let mut conn = db();
    let v2 = save_rubric(&mut conn, " default ", JudgeKind::Single, "Be strict.").unwrap();
    assert_eq!((v2.name.as_str(), v2.version), ("default", 2));
    assert_eq!(rubric_by_name(&conn, "default").unwrap().body, "Be strict.");
    let versions = rubric_versions(&conn, "default").unwrap();
    assert_eq!(versions.len(), 2);
    assert!(versions[0].body.contains("Accuracy"));
    let list = list_rubrics(&conn).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].version, 2);
    let new = save_rubric(&mut conn, "mine", JudgeKind::Pairwise, "x").unwrap();
    assert_eq!(new.version, 1);
    // Bad input: nothing saved.
    for (name, kind, body) in [
        ("", JudgeKind::Single, "x"),
        ("mine", JudgeKind::Single, "x"),
        ("other", JudgeKind::Single, "  \n"),
    ] {
        assert_eq!(
            save_rubric(&mut conn, name, kind, body).unwrap_err().kind(),
            "invalid"
        );
    }
    assert_eq!(rubric_versions(&conn, "mine").unwrap().len(), 1);
    assert_eq!(
        rubric_by_name(&conn, "nope").unwrap_err().kind(),
        "not_found"
    );
}

#[test]
fn verdicts_are_stored_listed_and_go_with_their_reply() {
    let conn = db();
    let rubric = rubric_by_name(&conn, "default").unwrap().id;
    let single = insert_verdict(
        &conn,
        &NewVerdict {
            rubric_id: rubric,
            judge_model: "j".into(),
            message_id: 2,
            score: Some(7),
            reasoning: Some("fine".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(single.kind, JudgeKind::Single);
    assert_eq!(single.reply_model.as_deref(), Some("m1"));
    let pair_rubric = rubric_by_name(&conn, "default-pairwise").unwrap().id;
    let pair = insert_verdict(
        &conn,
        &NewVerdict {
            rubric_id: pair_rubric,
            judge_model: "j".into(),
            message_id: 2,
            other_message_id: Some(3),
            winner_ab: Some(Side::A),
            winner_ba: Some(Side::B),
            consistent: Some(false),
            winner: Some(Side::Inconsistent),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(pair.kind, JudgeKind::Pairwise);
    assert_eq!(pair.other_model.as_deref(), Some("m2"));
    assert_eq!(pair.consistent, Some(false));
    assert_eq!(verdicts_of(&conn, 2).unwrap().len(), 2);
    assert_eq!(verdicts_of(&conn, 3).unwrap().len(), 1);
    // The schema refuses an out-of-range score even if a caller forgot to check.
    let bad = insert_verdict(
        &conn,
        &NewVerdict {
            rubric_id: rubric,
            judge_model: "j".into(),
            message_id: 2,
            score: Some(11),
            ..Default::default()
        },
    );
    assert_eq!(bad.unwrap_err().kind(), "database");
    conn.execute("DELETE FROM messages WHERE id = 3", [])
        .unwrap();
    assert_eq!(verdicts_of(&conn, 2).unwrap().len(), 1);
}
