//! Unit tests of `db::messages`.

use super::*;
use crate::db::{conversations, Db};

fn origin(model: &str) -> ReplyOrigin {
    ReplyOrigin {
        model: model.into(),
        ..Default::default()
    }
}

fn contents(path: &[Message]) -> Vec<&str> {
    path.iter().map(|m| m.content.as_str()).collect()
}

#[test]
fn branches_keep_every_version_and_selection_switches_the_path() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u1 = insert_user(c, conv.id, None, "q1")?;
        let a1 = reply(c, &u1, "a1");
        let u2 = insert_user(c, conv.id, Some(a1.id), "q2")?;
        let a2 = reply(c, &u2, "a2");
        // Regenerate the first answer: a sibling, and the newest branch is shown.
        let a1b = reply(c, &u1, "a1 again");
        assert_eq!(contents(&active_path(c, conv.id)?), ["q1", "a1 again"]);
        // Edit the first question: a sibling root.
        let u1b = insert_user(c, conv.id, None, "q1 edited")?;
        assert_eq!(contents(&active_path(c, conv.id)?), ["q1 edited"]);
        let t = thread(c, conv.id)?;
        assert_eq!(t[0].sibling_ids, [u1.id, u1b.id]);
        // Back to the first question: its most recently made answer is shown.
        select(c, u1.id)?;
        assert_eq!(contents(&active_path(c, conv.id)?), ["q1", "a1 again"]);
        // Choosing the old answer brings back the turns that followed it.
        select(c, a1.id)?;
        assert_eq!(
            contents(&active_path(c, conv.id)?),
            ["q1", "a1", "q2", "a2"]
        );
        let t = thread(c, conv.id)?;
        assert_eq!(t[1].sibling_ids, [a1.id, a1b.id]);
        assert_eq!(t[3].sibling_ids, [a2.id]);
        // Selecting deep in a branch selects its ancestors too.
        select(c, a1b.id)?;
        select(c, a2.id)?;
        assert_eq!(
            contents(&active_path(c, conv.id)?),
            ["q1", "a1", "q2", "a2"]
        );
        // Nothing was ever deleted.
        let n: i64 = c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
        assert_eq!(n, 6);
        Ok(())
    })
    .unwrap();
}

#[test]
fn the_last_reply_of_a_group_brings_its_group() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u = insert_user(c, conv.id, None, "q")?;
        let ids: Vec<i64> = (0..3)
            .map(|i| {
                insert_reply_placeholder(
                    c,
                    &u,
                    &ReplyOrigin {
                        model: "m".into(),
                        group_id: Some("g1".into()),
                        choice_index: Some(i),
                        ..Default::default()
                    },
                )
            })
            .collect::<Result<_>>()?;
        let t = thread(c, conv.id)?;
        // Until one is chosen, the first of the group is the active reply.
        assert_eq!(t.last().unwrap().message.id, ids[0]);
        assert_eq!(
            t.last()
                .unwrap()
                .group
                .iter()
                .map(|m| m.id)
                .collect::<Vec<_>>(),
            ids
        );
        assert!(t[0].group.is_empty());
        // Continue with choice 2: it becomes the active reply; the others stay.
        select(c, ids[2])?;
        let t = thread(c, conv.id)?;
        assert_eq!(t.last().unwrap().message.id, ids[2]);
        assert_eq!(t.last().unwrap().sibling_ids, ids);
        Ok(())
    })
    .unwrap();
}

fn reply(conn: &mut Connection, user: &Message, text: &str) -> Message {
    let id = insert_reply_placeholder(conn, user, &origin("m")).unwrap();
    finish(
        conn,
        id,
        &Outcome {
            content: text.into(),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn a_linear_chat_reads_back_in_order() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u1 = insert_user(c, conv.id, None, "hi")?;
        let a1 = reply(c, &u1, "hello");
        let u2 = insert_user(c, conv.id, active_leaf(c, conv.id)?, "how are you")?;
        assert_eq!(u2.parent_id, Some(a1.id));
        let a2 = reply(c, &u2, "fine");
        let path = active_path(c, conv.id)?;
        assert_eq!(
            path.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
            ["hi", "hello", "how are you", "fine"]
        );
        assert_eq!(path_to(c, a2.id)?.len(), 4);
        assert_eq!(path_to(c, u2.id)?.last().unwrap().id, u2.id);
        assert_eq!(conversations::get(c, conv.id)?.title, "hi");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_retry_adds_a_sibling_and_keeps_the_old_reply() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u = insert_user(c, conv.id, None, "q")?;
        let failed = insert_reply_placeholder(c, &u, &origin("m"))?;
        finish(
            c,
            failed,
            &Outcome {
                status: Some(Status::Error),
                error_kind: Some("server".into()),
                ..Default::default()
            },
        )?;
        let second = reply(c, &u, "answer");
        let path = active_path(c, conv.id)?;
        assert_eq!(path.last().unwrap().id, second.id);
        assert_eq!(get(c, failed)?.status, Status::Error);
        Ok(())
    })
    .unwrap();
}

#[test]
fn checkpoints_then_crash_leave_an_interrupted_partial_reply() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u = insert_user(c, conv.id, None, "q")?;
        let id = insert_reply_placeholder(c, &u, &origin("m"))?;
        checkpoint(c, id, "par")?;
        checkpoint(c, id, "")?;
        checkpoint(c, id, "tial")?;
        // Only the new text is written each time.
        let pieces: Vec<String> = c
            .prepare("SELECT text FROM reply_chunks WHERE message_id = ?1 ORDER BY seq")?
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        assert_eq!(pieces, ["par", "tial"]);
        // Still streaming in this (live) process: left alone.
        assert_eq!(mark_interrupted(c)?, 0);
        // As if written by a process that has exited.
        c.execute(
            "UPDATE messages SET writer = '999999999:1' WHERE id = ?1",
            [id],
        )?;
        assert_eq!(mark_interrupted(c)?, 1);
        let m = get(c, id)?;
        assert_eq!(
            (m.status, m.content.as_str()),
            (Status::Interrupted, "partial")
        );
        // A finished reply is never touched by later checkpoints or recovery.
        checkpoint(c, id, "late")?;
        assert_eq!(get(c, id)?.content, "partial");
        assert_eq!(mark_interrupted(c)?, 0);
        let left: i64 = c.query_row("SELECT count(*) FROM reply_chunks", [], |r| r.get(0))?;
        assert_eq!(left, 0, "the pieces are folded in");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_final_write_that_fails_keeps_the_checkpointed_pieces() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u = insert_user(c, conv.id, None, "q")?;
        let id = insert_reply_placeholder(c, &u, &origin("m"))?;
        checkpoint(c, id, "kept ")?;
        checkpoint(c, id, "text")?;
        // The whole text's write fails (as on a full disk) after the pieces' delete ran.
        c.execute_batch(
            "CREATE TEMP TRIGGER full_disk BEFORE UPDATE OF content ON messages
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )?;
        let done = Outcome {
            content: "kept text".into(),
            ..Default::default()
        };
        assert!(finish(c, id, &done).is_err());
        let left: i64 = c.query_row("SELECT count(*) FROM reply_chunks", [], |r| r.get(0))?;
        assert_eq!(left, 2, "the pieces stay for the recovery");
        assert_eq!(get(c, id)?.status, Status::Streaming);
        c.execute_batch("DROP TRIGGER full_disk")?;
        assert_eq!(finish(c, id, &done)?.content, "kept text");
        Ok(())
    })
    .unwrap();
}

#[test]
fn deleting_a_conversation_removes_its_messages() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = conversations::create(c, None)?;
        let u = insert_user(c, conv.id, None, "q")?;
        reply(c, &u, "a");
        conversations::soft_delete(c, conv.id)?;
        c.execute("UPDATE conversations SET deleted_at = 0", [])?;
        conversations::purge_deleted(c)?;
        let n: i64 = c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
        assert_eq!(n, 0);
        Ok(())
    })
    .unwrap();
}
