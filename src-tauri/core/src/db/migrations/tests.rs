//! Unit tests of `db::migrations`.

use super::*;

#[test]
fn migrates_a_new_database_to_the_latest_version() {
    let mut conn = Connection::open_in_memory().unwrap();
    assert_eq!(migrate(&mut conn).unwrap(), 0);
    assert_eq!(current_version(&conn).unwrap(), latest_version());
    // Idempotent: a second run changes nothing.
    assert_eq!(migrate(&mut conn).unwrap(), latest_version());
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('profiles','conversations','messages','settings')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 4);
}

#[test]
fn every_step_applies_on_top_of_the_previous_one() {
    // Replays the history one version at a time, as an upgrading user would see it.
    let mut conn = Connection::open_in_memory().unwrap();
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
    }
    assert_eq!(migrate(&mut conn).unwrap(), latest_version());
}

#[test]
fn migration_5_keeps_a_version_4_database() {
    let mut conn = Connection::open_in_memory().unwrap();
    for (i, sql) in MIGRATIONS.iter().take(4).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO profiles(id, name, base_url, default_model, key_origin, created_at)
             VALUES (1, 'default', 'http://127.0.0.1:8080/v1', 'smollm2', 'http://127.0.0.1:8080', 0),
                    (2, 'work', NULL, NULL, NULL, 0);
         INSERT INTO conversations(id, title, model, temperature, top_p, stop, seed, created_at, updated_at)
             VALUES (7, 'kept', 'm', 0.5, 0.9, '[\"END\"]', 42, 0, 0);
         INSERT INTO messages(id, conversation_id, role, content, status, created_at)
             VALUES (1, 7, 'user', 'hello there', 'done', 0);",
    )
    .unwrap();
    assert_eq!(migrate(&mut conn).unwrap(), 4);
    assert_eq!(current_version(&conn).unwrap(), latest_version());
    let (base, model, origin, kind): (String, String, String, String) = conn
        .query_row(
            "SELECT base_url, default_model, key_origin, kind FROM profiles WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (
            base.as_str(),
            model.as_str(),
            origin.as_str(),
            kind.as_str()
        ),
        (
            "http://127.0.0.1:8080/v1",
            "smollm2",
            "http://127.0.0.1:8080",
            "compatible"
        )
    );
    let kind: String = conn
        .query_row("SELECT kind FROM profiles WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kind, "openai");
    let (title, temp, stop, seed, profile): (String, f64, String, i64, Option<i64>) = conn
        .query_row(
            "SELECT title, params ->> '$.temperature', params ->> '$.stop', params ->> '$.seed',
                    profile_id FROM conversations WHERE id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(
        (title.as_str(), temp, stop.as_str(), seed, profile),
        ("kept", 0.5, "[\"END\"]", 42, None)
    );
    let content: String = conn
        .query_row("SELECT content FROM messages WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(content, "hello there");
    // The new columns are there, empty.
    let proxy: Option<String> = conn
        .query_row("SELECT proxy_mode FROM profiles WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(proxy, None);
}

#[test]
fn migration_11_moves_the_parameter_columns_into_one_json_object() {
    let mut conn = Connection::open_in_memory().unwrap();
    for (i, sql) in MIGRATIONS.iter().take(10).enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.pragma_update(None, "user_version", i as i64 + 1)
            .unwrap();
    }
    conn.execute_batch(
        "INSERT INTO profiles(id, name, temperature, max_tokens, stop, created_at)
             VALUES (1, 'p', 0.2, 500, '[\"END\"]', 0), (2, 'plain', NULL, NULL, NULL, 0);
         INSERT INTO conversations(id, title, top_p, frequency_penalty, n, stop, seed, created_at, updated_at)
             VALUES (1, 'c', 0.9, -0.5, 3, 'not json', -4, 0, 0);",
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let params = |sql: &str| -> String { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        params("SELECT params FROM profiles WHERE id = 1"),
        r#"{"temperature":0.2,"maxTokens":500,"stop":["END"]}"#
    );
    assert_eq!(params("SELECT params FROM profiles WHERE id = 2"), "{}");
    assert_eq!(
        params("SELECT params FROM conversations WHERE id = 1"),
        r#"{"topP":0.9,"frequencyPenalty":-0.5,"seed":-4,"n":3}"#
    );
}

#[test]
fn the_schema_migration_moves_tools_and_token_probabilities_into_the_parameters() {
    let mut conn = Connection::open_in_memory().unwrap();
    // Up to the version before that step (18), with the old tables filled.
    super::migrate_to(&mut conn, 17).unwrap();
    conn.execute_batch(
        "INSERT INTO conversations(id, title, params, created_at, updated_at)
             VALUES (1, 'a', '{\"topP\":0.5}', 0, 0), (2, 'b', '{}', 0, 0), (3, 'c', '{}', 0, 0);
         INSERT INTO conversation_tools VALUES (1, '[{\"name\":\"f\",\"description\":\"\",\"parameters\":{\"type\":\"object\"}}]');
         INSERT INTO conversation_logprobs VALUES (1, 3), (2, 0);",
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    let params = |id: i64| -> crate::params::Params {
        let raw: String = conn
            .query_row(
                "SELECT params FROM conversations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        crate::params::Params::from_stored(Some(&raw))
    };
    let one = params(1);
    assert_eq!(one.top_p, Some(0.5));
    assert_eq!(one.tools.unwrap()[0].name, "f");
    assert_eq!(one.logprobs, Some(crate::params::Logprobs(3)));
    assert_eq!(params(2).logprobs, Some(crate::params::Logprobs(0)));
    assert_eq!(params(3), crate::params::Params::default());
    let gone: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN ('conversation_tools', 'conversation_logprobs')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(gone, 0);
}

#[test]
fn refuses_a_database_from_a_newer_parley() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.pragma_update(None, "user_version", latest_version() + 1)
        .unwrap();
    let err = migrate(&mut conn).unwrap_err();
    assert_eq!(err.kind(), "database");
    assert!(err.to_string().contains("newer Parley"));
    assert_eq!(current_version(&conn).unwrap(), latest_version() + 1);
}

#[test]
fn a_failing_migration_leaves_the_version_unchanged() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    let tx = conn.transaction().unwrap();
    let bad = tx.execute_batch("CREATE TABLE x(a); CREATE TABLE x(a);");
    assert!(bad.is_err());
    drop(tx); // rolls back
    assert_eq!(current_version(&conn).unwrap(), latest_version());
    let x: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name='x'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(x, 0);
}

#[test]
fn full_text_index_follows_finished_messages_only() {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    conn.execute_batch(
        "INSERT INTO conversations(id, created_at, updated_at) VALUES (1, 0, 0);
         INSERT INTO messages(id, conversation_id, role, content, status, created_at)
             VALUES (1, 1, 'user', '你好世界 hello', 'done', 0),
                    (2, 1, 'assistant', 'partial streaming text', 'streaming', 0);",
    )
    .unwrap();
    let hits = |c: &Connection, q: &str| -> Vec<i64> {
        let mut st = c
            .prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid")
            .unwrap();
        st.query_map([q], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    assert_eq!(hits(&conn, "好世界"), vec![1]);
    assert!(hits(&conn, "streaming").is_empty());
    conn.execute(
        "UPDATE messages SET content = 'final answer text', status = 'done' WHERE id = 2",
        [],
    )
    .unwrap();
    assert_eq!(hits(&conn, "answer"), vec![2]);
    conn.execute(
        "UPDATE messages SET content = 'edited words' WHERE id = 2",
        [],
    )
    .unwrap();
    assert!(hits(&conn, "answer").is_empty());
    assert_eq!(hits(&conn, "edited"), vec![2]);
    conn.execute("DELETE FROM messages WHERE id = 1", [])
        .unwrap();
    assert!(hits(&conn, "hello").is_empty());
    // SQLite verifies the external-content index against the table and errors on any mismatch.
    conn.execute(
        "INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')",
        [],
    )
    .unwrap();
}

#[test]
fn the_search_index_merges_two_segments_at_a_time() {
    let automerge = |conn: &Connection| -> Option<i64> {
        conn.query_row(
            "SELECT v FROM messages_fts_config WHERE k = 'automerge'",
            [],
            |r| r.get(0),
        )
        .ok()
    };
    let mut conn = Connection::open_in_memory().unwrap();
    migrate_to(&mut conn, 27).unwrap();
    assert_eq!(automerge(&conn), None, "FTS5's default (4) before 28");
    migrate(&mut conn).unwrap();
    assert_eq!(automerge(&conn), Some(2));
}
