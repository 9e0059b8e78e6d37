//! Tags: listed with how many conversations carry each, made on first use, renamed, recoloured,
//! deleted (taken off every conversation).

use super::*;

pub fn list_tags(conn: &Connection) -> Result<Vec<Tag>> {
    let mut st =
        conn.prepare_cached("SELECT id, name, color FROM tags ORDER BY name COLLATE NOCASE")?;
    let rows = st
        .query_map([], |r| {
            Ok(Tag {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(super) fn get_tag(conn: &Connection, id: i64) -> Result<Tag> {
    list_tags(conn)?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| Error::not_found(format!("tag {id}")))
}

/// Creates a tag, or returns the one with that name (any case), its colour updated if given.
pub fn ensure_tag(conn: &Connection, name: &str, color: Option<&str>) -> Result<Tag> {
    tag_named(conn, name, color, true)
}

/// Creates a tag with `color`, or returns the one with that name as it is: an import brings its
/// tags in without recolouring the user's own.
pub fn ensure_tag_keeping_color(conn: &Connection, name: &str, color: Option<&str>) -> Result<Tag> {
    tag_named(conn, name, color, false)
}

fn tag_named(conn: &Connection, name: &str, color: Option<&str>, recolor: bool) -> Result<Tag> {
    let name = clean_name(name, "tag")?;
    let color = color.map(clean_color).transpose()?;
    let existing: Option<i64> = conn
        .query_row("SELECT id FROM tags WHERE name = ?1", [&name], |r| r.get(0))
        .optional()?;
    let id = match existing {
        Some(id) => {
            if let Some(c) = color.as_ref().filter(|_| recolor) {
                conn.execute("UPDATE tags SET color = ?2 WHERE id = ?1", params![id, c])?;
            }
            id
        }
        None => {
            conn.execute(
                "INSERT INTO tags(name, color, created_at) VALUES (?1, coalesce(?2, '#6b7280'), ?3)",
                params![name, color, now_ms()],
            )?;
            conn.last_insert_rowid()
        }
    };
    get_tag(conn, id)
}

pub fn update_tag(conn: &Connection, id: i64, name: &str, color: &str) -> Result<Tag> {
    let name = clean_name(name, "tag")?;
    let color = clean_color(color)?;
    get_tag(conn, id)?;
    let clash: Option<i64> = conn
        .query_row(
            "SELECT id FROM tags WHERE name = ?1 AND id <> ?2",
            params![name, id],
            |r| r.get(0),
        )
        .optional()?;
    if clash.is_some() {
        return Err(Error::invalid(format!(
            "There is already a tag named {name:?}."
        )));
    }
    conn.execute(
        "UPDATE tags SET name = ?2, color = ?3 WHERE id = ?1",
        params![id, name, color],
    )?;
    get_tag(conn, id)
}

pub fn delete_tag(conn: &Connection, id: i64) -> Result<()> {
    if conn.execute("DELETE FROM tags WHERE id = ?1", [id])? == 0 {
        return Err(Error::not_found(format!("tag {id}")));
    }
    Ok(())
}

/// The tags of one conversation, by name.
pub fn tags_of(conn: &Connection, conversation_id: i64) -> Result<Vec<Tag>> {
    let mut st = conn.prepare_cached(
        "SELECT t.id, t.name, t.color FROM conversation_tags ct JOIN tags t ON t.id = ct.tag_id
         WHERE ct.conversation_id = ?1 ORDER BY t.name COLLATE NOCASE",
    )?;
    let rows = st
        .query_map([conversation_id], |r| {
            Ok(Tag {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

// ----- the list, and changes -----
