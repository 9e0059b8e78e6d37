//! Organising conversations: nestable folders, coloured tags (many per conversation), pin and
//! archive, the list the window shows (with all of that), and bulk changes that can be undone.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::conversations::{self, Conversation};
use super::now_ms;
use crate::error::{Error, Result};

pub const MAX_NAME_CHARS: usize = 100;
/// Folders nest at most this deep (a path longer than this is a mistake, not an organisation).
pub const MAX_DEPTH: usize = 16;
/// One bulk change touches at most this many conversations.
pub const MAX_BULK: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    pub position: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub color: String,
}

/// A conversation as the window's list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedConversation {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub folder_id: Option<i64>,
    pub pinned: bool,
    pub archived: bool,
    /// Tag ids, in name order.
    pub tags: Vec<i64>,
    /// Made by a blind arena round (the sidebar marks it and can hide it).
    pub arena: bool,
}

/// How one conversation was organised: what a bulk change returns so it can be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgState {
    pub id: i64,
    pub folder_id: Option<i64>,
    pub pinned: bool,
    pub archived: bool,
    pub tags: Vec<i64>,
}

/// One bulk change, applied to every listed conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Change {
    Move { folder_id: Option<i64> },
    AddTag { tag_id: i64 },
    RemoveTag { tag_id: i64 },
    Pin { pinned: bool },
    Archive { archived: bool },
}

fn clean_name(name: &str, what: &str) -> Result<String> {
    let name: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        return Err(Error::invalid(format!("A {what} needs a name.")));
    }
    Ok(name)
}

/// `#rgb` or `#rrggbb`; anything else is refused (it reaches a style attribute).
pub fn clean_color(color: &str) -> Result<String> {
    let c = color.trim();
    let hex = c.strip_prefix('#').unwrap_or("");
    if (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|ch| ch.is_ascii_hexdigit()) {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(Error::invalid(format!(
            "A tag colour is written #rrggbb (got {color:?})."
        )))
    }
}

// ----- folders -----

pub fn list_folders(conn: &Connection) -> Result<Vec<Folder>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, parent_id, position, created_at FROM folders ORDER BY position, name COLLATE NOCASE, id",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(Folder {
                id: r.get(0)?,
                name: r.get(1)?,
                parent_id: r.get(2)?,
                position: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn get_folder(conn: &Connection, id: i64) -> Result<Folder> {
    list_folders(conn)?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or_else(|| Error::not_found(format!("folder {id}")))
}

/// The chain of ancestors of `id` (itself first).
fn ancestors(conn: &Connection, id: i64) -> Result<Vec<i64>> {
    let mut chain = vec![id];
    let mut current = id;
    while let Some(parent) = conn
        .query_row(
            "SELECT parent_id FROM folders WHERE id = ?1",
            [current],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten()
    {
        if chain.contains(&parent) || chain.len() > MAX_DEPTH * 4 {
            break;
        }
        chain.push(parent);
        current = parent;
    }
    Ok(chain)
}

/// Checks that `levels` levels of folders (1: one folder, more: a folder with its subfolders)
/// fit under `parent_id`.
fn check_parent(conn: &Connection, parent_id: Option<i64>, levels: usize) -> Result<()> {
    if let Some(p) = parent_id {
        get_folder(conn, p)?;
        if ancestors(conn, p)?.len() + levels > MAX_DEPTH {
            return Err(Error::invalid(format!(
                "Folders nest at most {MAX_DEPTH} deep."
            )));
        }
    }
    Ok(())
}

pub fn create_folder(conn: &Connection, name: &str, parent_id: Option<i64>) -> Result<Folder> {
    let name = clean_name(name, "folder")?;
    check_parent(conn, parent_id, 1)?;
    let position: i64 = conn.query_row(
        "SELECT coalesce(max(position), 0) + 1 FROM folders WHERE parent_id IS ?1",
        [parent_id],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO folders(name, parent_id, position, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, parent_id, position, now_ms()],
    )?;
    get_folder(conn, conn.last_insert_rowid())
}

pub fn rename_folder(conn: &Connection, id: i64, name: &str) -> Result<Folder> {
    let name = clean_name(name, "folder")?;
    get_folder(conn, id)?;
    conn.execute(
        "UPDATE folders SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    get_folder(conn, id)
}

/// Moves a folder under another (`None`: the top). A folder cannot go inside itself.
pub fn move_folder(conn: &Connection, id: i64, parent_id: Option<i64>) -> Result<Folder> {
    get_folder(conn, id)?;
    if let Some(p) = parent_id {
        if ancestors(conn, p)?.contains(&id) {
            return Err(Error::invalid("A folder cannot be moved inside itself."));
        }
    }
    // The folder brings its subfolders: all of them must fit (an export keeps only as many
    // levels as may exist).
    let levels: i64 = conn.query_row(
        "WITH RECURSIVE below(id, level) AS (
           SELECT ?1, 1
           UNION ALL SELECT f.id, below.level + 1 FROM folders f JOIN below ON f.parent_id = below.id
           WHERE below.level <= ?2)
         SELECT max(level) FROM below",
        params![id, MAX_DEPTH as i64],
        |r| r.get(0),
    )?;
    check_parent(conn, parent_id, levels as usize)?;
    conn.execute(
        "UPDATE folders SET parent_id = ?2 WHERE id = ?1",
        params![id, parent_id],
    )?;
    get_folder(conn, id)
}

/// Removes a folder and its subfolders; their conversations move up to the folder's parent.
pub fn delete_folder(conn: &mut Connection, id: i64) -> Result<()> {
    let folder = get_folder(conn, id)?;
    let tx = conn.transaction()?;
    tx.execute(
        "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id)
         UPDATE conversations SET folder_id = ?2 WHERE folder_id IN (SELECT id FROM sub)",
        params![id, folder.parent_id],
    )?;
    tx.execute("DELETE FROM folders WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(())
}

/// The folder at `path` (names from the top), created as needed. For imports.
pub fn ensure_folder_path(conn: &Connection, path: &[String]) -> Result<Option<i64>> {
    let mut parent: Option<i64> = None;
    for name in path.iter().take(MAX_DEPTH) {
        let name = clean_name(name, "folder")?;
        let found: Option<i64> = conn
            .query_row(
                "SELECT id FROM folders WHERE parent_id IS ?1 AND name = ?2 ORDER BY id LIMIT 1",
                params![parent, name],
                |r| r.get(0),
            )
            .optional()?;
        parent = Some(match found {
            Some(id) => id,
            None => create_folder(conn, &name, parent)?.id,
        });
    }
    Ok(parent)
}

/// The names from the top down to folder `id`.
pub fn folder_path(conn: &Connection, id: i64) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for fid in ancestors(conn, id)?.into_iter().rev() {
        names.push(
            conn.query_row("SELECT name FROM folders WHERE id = ?1", [fid], |r| {
                r.get(0)
            })?,
        );
    }
    Ok(names)
}

/// Folder `id` and every folder below it.
pub fn folder_subtree(conn: &Connection, id: i64) -> Result<Vec<i64>> {
    let mut st = conn.prepare(
        "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL SELECT f.id FROM folders f JOIN sub ON f.parent_id = sub.id)
         SELECT id FROM sub",
    )?;
    let ids = st
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

// ----- tags -----

mod tags;
use tags::get_tag;
pub use tags::{delete_tag, ensure_tag, ensure_tag_keeping_color, list_tags, tags_of, update_tag};

/// Every conversation that is not deleted: pinned first, then newest activity. Archived ones only
/// when `archived` is true (then only they).
pub fn list(conn: &Connection, archived: bool) -> Result<Vec<ListedConversation>> {
    let mut org = std::collections::HashMap::new();
    {
        let mut st = conn.prepare_cached(
            "SELECT id, folder_id, pinned, archived FROM conversations WHERE deleted_at IS NULL",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            org.insert(
                r.get::<_, i64>(0)?,
                (
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, bool>(2)?,
                    r.get::<_, bool>(3)?,
                ),
            );
        }
    }
    let mut tags: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    {
        let mut st = conn.prepare_cached(
            "SELECT ct.conversation_id, ct.tag_id FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
             ORDER BY t.name COLLATE NOCASE",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            tags.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    let arena: std::collections::HashSet<i64> = conn
        .prepare_cached(
            "SELECT DISTINCT conversation_id FROM battles
             WHERE source = 'arena' AND conversation_id IS NOT NULL",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out: Vec<ListedConversation> = conversations::list(conn)?
        .into_iter()
        .filter_map(|c| {
            let (folder_id, pinned, is_archived) = org.get(&c.id).copied()?;
            (is_archived == archived).then(|| ListedConversation {
                tags: tags.remove(&c.id).unwrap_or_default(),
                arena: arena.contains(&c.id),
                conversation: c,
                folder_id,
                pinned,
                archived: is_archived,
            })
        })
        .collect();
    // Stable: within pinned and unpinned, the newest-first order of `conversations::list` stays.
    out.sort_by_key(|c| !c.pinned);
    Ok(out)
}

pub fn state_of(conn: &Connection, id: i64) -> Result<OrgState> {
    let (folder_id, pinned, archived) = conn
        .query_row(
            "SELECT folder_id, pinned, archived FROM conversations WHERE id = ?1 AND deleted_at IS NULL",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .ok_or_else(|| Error::not_found(format!("conversation {id}")))?;
    let tags = tags_of(conn, id)?.into_iter().map(|t| t.id).collect();
    Ok(OrgState {
        id,
        folder_id,
        pinned,
        archived,
        tags,
    })
}

/// Applies `change` to every conversation in `ids` in one transaction; returns how they were
/// before, for Undo ([`restore_states`]).
pub fn apply(conn: &mut Connection, ids: &[i64], change: &Change) -> Result<Vec<OrgState>> {
    if ids.len() > MAX_BULK {
        return Err(Error::invalid(format!(
            "At most {MAX_BULK} conversations at once."
        )));
    }
    match change {
        Change::Move { folder_id: Some(f) } => {
            get_folder(conn, *f)?;
        }
        Change::AddTag { tag_id } | Change::RemoveTag { tag_id } => {
            get_tag(conn, *tag_id)?;
        }
        _ => {}
    }
    let tx = conn.transaction()?;
    let mut before = Vec::with_capacity(ids.len());
    for &id in ids {
        before.push(state_of(&tx, id)?);
        match change {
            Change::Move { folder_id } => tx.execute(
                "UPDATE conversations SET folder_id = ?2 WHERE id = ?1",
                params![id, folder_id],
            )?,
            Change::AddTag { tag_id } => tx.execute(
                "INSERT OR IGNORE INTO conversation_tags(conversation_id, tag_id) VALUES (?1, ?2)",
                params![id, tag_id],
            )?,
            Change::RemoveTag { tag_id } => tx.execute(
                "DELETE FROM conversation_tags WHERE conversation_id = ?1 AND tag_id = ?2",
                params![id, tag_id],
            )?,
            Change::Pin { pinned } => tx.execute(
                "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
                params![id, pinned],
            )?,
            Change::Archive { archived } => tx.execute(
                "UPDATE conversations SET archived = ?2 WHERE id = ?1",
                params![id, archived],
            )?,
        };
    }
    tx.commit()?;
    Ok(before)
}

/// Puts conversations back as [`apply`] found them (Undo). Folders or tags removed meanwhile are
/// left out; conversations deleted meanwhile are skipped.
pub fn restore_states(conn: &mut Connection, states: &[OrgState]) -> Result<()> {
    let tx = conn.transaction()?;
    for s in states.iter().take(MAX_BULK) {
        tx.execute(
            "UPDATE conversations SET
                 folder_id = (SELECT id FROM folders WHERE id = ?2), pinned = ?3, archived = ?4
             WHERE id = ?1 AND deleted_at IS NULL",
            params![s.id, s.folder_id, s.pinned, s.archived],
        )?;
        tx.execute(
            "DELETE FROM conversation_tags WHERE conversation_id = ?1",
            [s.id],
        )?;
        for t in &s.tags {
            tx.execute(
                "INSERT OR IGNORE INTO conversation_tags(conversation_id, tag_id)
                 SELECT c.id, t.id FROM conversations c, tags t WHERE c.id = ?1 AND t.id = ?2",
                params![s.id, t],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Deletes many conversations (soft, restorable with [`restore_many`] within the undo window).
pub fn delete_many(conn: &mut Connection, ids: &[i64]) -> Result<()> {
    let tx = conn.transaction()?;
    for &id in ids.iter().take(MAX_BULK) {
        conversations::soft_delete(&tx, id)?;
    }
    tx.commit()?;
    Ok(())
}

pub fn restore_many(conn: &mut Connection, ids: &[i64]) -> Result<()> {
    let tx = conn.transaction()?;
    for &id in ids.iter().take(MAX_BULK) {
        conversations::restore(&tx, id)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
#[path = "organise_tests.rs"]
mod tests;
