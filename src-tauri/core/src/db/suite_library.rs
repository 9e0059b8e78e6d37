//! The suite library: suites saved in the window, each stored as its promptfoo YAML (what
//! `parley eval run` and promptfoo read), by a unique name.
//!
//! Limits: a suite's YAML is at most [`MAX_SUITE_BYTES`]; the library holds at most
//! [`MAX_SUITES`] suites.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{Error, Result};

/// The largest YAML a library suite may have (bigger suites run from their file with the CLI).
pub const MAX_SUITE_BYTES: usize = 4 << 20;
/// The most suites the library keeps.
pub const MAX_SUITES: i64 = 1_000;
/// The longest suite name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

pub(crate) const SUITE_LIBRARY_MIGRATION: &str = r#"
    CREATE TABLE eval_suites (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        yaml       TEXT NOT NULL CHECK (length(CAST(yaml AS BLOB)) <= 4194304),
        updated_at INTEGER NOT NULL
    );
"#;

/// A library suite without its YAML (for the list).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteInfo {
    pub id: i64,
    pub name: String,
    pub bytes: i64,
    pub updated_at: i64,
}

fn check(name: &str, yaml: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("a suite needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "a suite name has at most {MAX_NAME_CHARS} characters"
        )));
    }
    if yaml.len() > MAX_SUITE_BYTES {
        return Err(Error::invalid(format!(
            "the suite is {} KB; the library keeps suites up to {} MB (run larger ones from \
             their file with `parley eval run`)",
            yaml.len() >> 10,
            MAX_SUITE_BYTES >> 20
        )));
    }
    Ok(name.to_string())
}

fn taken(e: rusqlite::Error, name: &str) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            Error::invalid(format!("a suite named \"{name}\" already exists"))
        }
        e => e.into(),
    }
}

const INFO: &str = "SELECT id, name, length(CAST(yaml AS BLOB)), updated_at FROM eval_suites";

fn info(r: &rusqlite::Row) -> rusqlite::Result<SuiteInfo> {
    Ok(SuiteInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        bytes: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

/// Every suite, by name.
pub fn list(conn: &Connection) -> Result<Vec<SuiteInfo>> {
    let mut stmt = conn.prepare(&format!("{INFO} ORDER BY name COLLATE NOCASE, id"))?;
    let rows = stmt.query_map([], info)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One suite's name and YAML.
pub fn get(conn: &Connection, id: i64) -> Result<(SuiteInfo, String)> {
    conn.query_row(
        "SELECT id, name, length(CAST(yaml AS BLOB)), updated_at, yaml FROM eval_suites \
         WHERE id = ?1",
        [id],
        |r| Ok((info(r)?, r.get::<_, String>(4)?)),
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("no suite {id}")))
}

/// Adds a suite; its id.
pub fn create(conn: &Connection, name: &str, yaml: &str) -> Result<i64> {
    let name = check(name, yaml)?;
    let n: i64 = conn.query_row("SELECT count(*) FROM eval_suites", [], |r| r.get(0))?;
    if n >= MAX_SUITES {
        return Err(Error::invalid(format!(
            "the library holds at most {MAX_SUITES} suites; delete some first"
        )));
    }
    conn.execute(
        "INSERT INTO eval_suites(name, yaml, updated_at) VALUES (?1, ?2, ?3)",
        params![name, yaml, super::now_ms()],
    )
    .map_err(|e| taken(e, &name))?;
    Ok(conn.last_insert_rowid())
}

/// Replaces a suite's name and YAML.
pub fn update(conn: &Connection, id: i64, name: &str, yaml: &str) -> Result<()> {
    let name = check(name, yaml)?;
    let n = conn
        .execute(
            "UPDATE eval_suites SET name = ?2, yaml = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, name, yaml, super::now_ms()],
        )
        .map_err(|e| taken(e, &name))?;
    if n == 0 {
        return Err(Error::not_found(format!("no suite {id}")));
    }
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    if conn.execute("DELETE FROM eval_suites WHERE id = ?1", [id])? == 0 {
        return Err(Error::not_found(format!("no suite {id}")));
    }
    Ok(())
}

/// `base`, or `base (2)`, `base (3)`… whichever is not taken yet.
pub fn free_name(conn: &Connection, base: &str) -> Result<String> {
    let base: String = base.trim().chars().take(MAX_NAME_CHARS - 8).collect();
    let base = if base.is_empty() {
        "suite".into()
    } else {
        base
    };
    let exists = |n: &str| -> Result<bool> {
        Ok(conn
            .query_row("SELECT 1 FROM eval_suites WHERE name = ?1", [n], |_| Ok(()))
            .optional()?
            .is_some())
    };
    let mut name = base.clone();
    let mut i = 2;
    while exists(&name)? {
        name = format!("{base} ({i})");
        i += 1;
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SUITE_LIBRARY_MIGRATION).unwrap();
        conn
    }

    #[test]
    fn suites_are_created_listed_read_renamed_and_deleted() {
        let conn = db();
        let a = create(&conn, " Capitals ", "prompts: [x]\n").unwrap();
        let b = create(&conn, "arithmetic", "prompts: [y]\n").unwrap();
        let names: Vec<String> = list(&conn).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["arithmetic", "Capitals"]);
        let (info, yaml) = get(&conn, a).unwrap();
        assert_eq!(
            (info.name.as_str(), yaml.as_str()),
            ("Capitals", "prompts: [x]\n")
        );
        assert_eq!(info.bytes, 13);
        update(&conn, a, "Capitals v2", "prompts: [z]\n").unwrap();
        assert_eq!(get(&conn, a).unwrap().1, "prompts: [z]\n");
        let e = update(&conn, b, "Capitals v2", "x").unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        delete(&conn, a).unwrap();
        assert_eq!(get(&conn, a).unwrap_err().kind(), "not_found");
        assert_eq!(list(&conn).unwrap().len(), 1);
    }

    #[test]
    fn a_suite_over_the_size_limit_or_without_a_name_is_refused() {
        let conn = db();
        let big = "x".repeat(MAX_SUITE_BYTES + 1);
        let e = create(&conn, "big", &big).unwrap_err();
        assert!(e.to_string().contains("up to 4 MB"), "{e}");
        assert!(create(&conn, "  ", "x").is_err());
        assert!(create(&conn, "ok", &"x".repeat(MAX_SUITE_BYTES)).is_ok());
    }

    #[test]
    fn a_free_name_is_numbered_after_the_taken_ones() {
        let conn = db();
        assert_eq!(free_name(&conn, "quiz").unwrap(), "quiz");
        create(&conn, "quiz", "x").unwrap();
        create(&conn, "quiz (2)", "x").unwrap();
        assert_eq!(free_name(&conn, "quiz").unwrap(), "quiz (3)");
    }
}
