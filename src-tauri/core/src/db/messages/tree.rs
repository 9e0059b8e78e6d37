//! The branch tree of one conversation, read once (ids, parents, selection stamps; no text): which
//! child is active at each step, and each message's siblings.

use rusqlite::Connection;

use crate::error::Result;

/// The tree of a conversation: each message's children, oldest first, and the roots.
pub(super) struct Tree {
    roots: Vec<i64>,
    children: std::collections::HashMap<i64, Vec<i64>>,
    /// When each message was last chosen (or created): the newest child is the active one.
    chosen: std::collections::HashMap<i64, i64>,
}

impl Tree {
    pub(super) fn load(conn: &Connection, conversation_id: i64) -> Result<Tree> {
        let mut st = conn.prepare_cached(
            "SELECT id, parent_id, coalesce(selected_at, created_at) FROM messages
             WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = st
            .query_map([conversation_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut tree = Tree {
            roots: Vec::new(),
            children: std::collections::HashMap::with_capacity(rows.len()),
            chosen: std::collections::HashMap::with_capacity(rows.len()),
        };
        for (id, parent, chosen) in rows {
            tree.chosen.insert(id, chosen);
            match parent {
                Some(p) => tree.children.entry(p).or_default().push(id),
                None => tree.roots.push(id),
            }
        }
        Ok(tree)
    }

    /// The active one among siblings: newest chosen; among equals (a group) the first made.
    fn pick(&self, ids: &[i64]) -> Option<i64> {
        ids.iter()
            .copied()
            .max_by_key(|id| (self.chosen[id], std::cmp::Reverse(*id)))
    }

    pub(super) fn active_path(&self) -> Vec<i64> {
        let mut path = Vec::new();
        let mut cursor = self.pick(&self.roots);
        while let Some(id) = cursor {
            path.push(id);
            cursor = self.children.get(&id).and_then(|c| self.pick(c));
        }
        path
    }

    pub(super) fn siblings(&self, parent: Option<i64>) -> &[i64] {
        match parent {
            Some(p) => self.children.get(&p).map(Vec::as_slice).unwrap_or_default(),
            None => &self.roots,
        }
    }
}
