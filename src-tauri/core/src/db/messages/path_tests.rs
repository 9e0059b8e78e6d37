//! The kept active path always equals a fresh walk of the tree, whatever changes the tree.

use super::*;
use crate::db::messages::{insert_user, select, thread, thread_window, Tree};
use crate::db::{conversations, Db};

fn walked(c: &Connection, conv: i64) -> Vec<i64> {
    Tree::load(c, conv).unwrap().active_path()
}

fn is_kept(c: &Connection, conv: i64) -> bool {
    c.query_row(
        "SELECT count(*) FROM active_paths WHERE conversation_id = ?1",
        [conv],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

/// A conversation of `n` messages in one line; returns its id and the message ids.
fn chain(c: &mut Connection, n: usize) -> (i64, Vec<i64>) {
    let conv = conversations::create(c, None).unwrap().id;
    let mut ids = Vec::new();
    for i in 0..n {
        let m = insert_user(c, conv, ids.last().copied(), &format!("m{i}")).unwrap();
        ids.push(m.id);
    }
    (conv, ids)
}

#[test]
fn a_long_path_is_kept_once_read_and_grows_with_each_new_message() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let (conv, mut ids) = chain(c, KEEP_FROM + 10);
        assert!(!is_kept(c, conv));
        assert_eq!(active_ids(c, conv)?, ids);
        assert!(is_kept(c, conv));
        let m = insert_user(c, conv, ids.last().copied(), "one more")?;
        ids.push(m.id);
        // Extended by the trigger, not walked again.
        assert!(is_kept(c, conv));
        assert_eq!(active_ids(c, conv)?, ids);
        assert_eq!(walked(c, conv), ids);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_short_path_is_walked_each_time_and_not_kept() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let (conv, ids) = chain(c, 5);
        assert_eq!(active_ids(c, conv)?, ids);
        assert!(!is_kept(c, conv));
        Ok(())
    })
    .unwrap();
}

#[test]
fn branching_choosing_and_deleting_never_leave_a_stale_kept_path() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let (conv, ids) = chain(c, KEEP_FROM + 20);
        let mut next = crate::testing::xorshift(7);
        let mut all = ids.clone();
        for step in 0..60 {
            // Read first, so there is a kept path for the change to act on.
            assert_eq!(active_ids(c, conv)?, walked(c, conv), "before step {step}");
            match step % 4 {
                // A new branch somewhere in the middle (an edit or a regenerate).
                0 => {
                    let parent = all[next(all.len())];
                    all.push(insert_user(c, conv, Some(parent), "branch")?.id);
                }
                // Back to an older version.
                1 => {
                    select(c, all[next(all.len())])?;
                }
                // A new message at the end of the path.
                2 => {
                    let leaf = *active_ids(c, conv)?.last().unwrap();
                    all.push(insert_user(c, conv, Some(leaf), "next")?.id);
                }
                // A new first message (an edit of the root).
                _ => {
                    all.push(insert_user(c, conv, None, "new root")?.id);
                    select(c, ids[0])?;
                }
            }
            assert_eq!(active_ids(c, conv)?, walked(c, conv), "after step {step}");
        }
        // Deleting a message (and its subtree) drops the kept path too.
        active_ids(c, conv)?;
        c.execute("DELETE FROM messages WHERE id = ?1", [ids[100]])?;
        assert_eq!(active_ids(c, conv)?, walked(c, conv));
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_page_shows_the_same_siblings_as_the_whole_thread() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let (conv, ids) = chain(c, KEEP_FROM + 10);
        insert_user(c, conv, Some(ids[KEEP_FROM + 5]), "other version")?;
        insert_user(c, conv, None, "other root")?;
        select(c, ids[KEEP_FROM + 9])?;
        let whole = thread(c, conv)?;
        for start in [0, KEEP_FROM - 5, KEEP_FROM + 1] {
            let (total, page) = thread_window(c, conv, start, 30)?;
            assert_eq!(total, whole.len());
            for (i, e) in page.iter().enumerate() {
                assert_eq!(e.message.id, whole[start + i].message.id);
                assert_eq!(e.sibling_ids, whole[start + i].sibling_ids);
            }
        }
        Ok(())
    })
    .unwrap();
}
