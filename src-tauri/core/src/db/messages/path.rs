//! The active path of a long conversation, kept in `active_paths` (root first) so a page of it is
//! read without walking the whole branch tree. Triggers on `messages` (migration "active paths")
//! extend the kept path when a message is added under its last message and drop it on any other
//! change to the tree; a dropped or missing path is walked once (tree.rs) and kept again.

use rusqlite::{Connection, OptionalExtension};

use super::tree::Tree;
use crate::error::Result;

/// Paths at least this long are kept; shorter ones are walked each time (it costs nothing).
pub const KEEP_FROM: usize = 200;

/// Ids along the active path, oldest first.
pub fn active_ids(conn: &Connection, conversation_id: i64) -> Result<Vec<i64>> {
    if let Some(ids) = kept(conn, conversation_id)? {
        return Ok(ids);
    }
    let ids = Tree::load(conn, conversation_id)?.active_path();
    if ids.len() >= KEEP_FROM {
        keep(conn, conversation_id, &ids);
    }
    Ok(ids)
}

fn kept(conn: &Connection, conversation_id: i64) -> Result<Option<Vec<i64>>> {
    let row: Option<(String, i64, i64)> = conn
        .prepare_cached("SELECT ids, leaf, length FROM active_paths WHERE conversation_id = ?1")?
        .query_row([conversation_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((text, leaf, length)) = row else {
        return Ok(None);
    };
    let ids: Option<Vec<i64>> = text.split(',').map(|s| s.parse().ok()).collect();
    // Anything that does not add up (a hand-edited file) is walked again instead of trusted.
    Ok(ids.filter(|ids| ids.len() as i64 == length && ids.last() == Some(&leaf)))
}

/// Keeps the path; a failure only means it is walked again next time (a read-only file, a lock).
fn keep(conn: &Connection, conversation_id: i64, ids: &[i64]) {
    let Some(&leaf) = ids.last() else { return };
    let text = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let _ = conn.execute(
        "INSERT OR REPLACE INTO active_paths(conversation_id, leaf, length, ids) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![conversation_id, leaf, ids.len() as i64, text],
    );
}

/// Each message's siblings (itself included, oldest first) for a few messages: one indexed
/// look-up per distinct parent instead of reading the tree.
pub(super) fn siblings_of(
    conn: &Connection,
    conversation_id: i64,
    parents: &[Option<i64>],
) -> Result<std::collections::HashMap<Option<i64>, Vec<i64>>> {
    let mut out = std::collections::HashMap::new();
    let mut children =
        conn.prepare_cached("SELECT id FROM messages WHERE parent_id = ?1 ORDER BY id")?;
    let mut roots = conn.prepare_cached(
        "SELECT id FROM messages WHERE conversation_id = ?1 AND parent_id IS NULL ORDER BY id",
    )?;
    for &parent in parents {
        if out.contains_key(&parent) {
            continue;
        }
        let ids = match parent {
            Some(p) => children
                .query_map([p], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?,
            None => roots
                .query_map([conversation_id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?,
        };
        out.insert(parent, ids);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
