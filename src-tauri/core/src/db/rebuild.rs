//! Widening a table's CHECK constraint, which SQLite cannot alter: the table is rebuilt from its
//! own CREATE statement with the one constraint replaced. Used by the migrations that let the
//! `tool` role into messages and the `responses` endpoint into conversations.

use rusqlite::Transaction;

use crate::error::{Error, Result};

/// The step that lets conversations use the Responses API (branch `responses`).
pub const ALLOW_RESPONSES_ENDPOINT: &str = "-- rust: allow the responses endpoint in conversations";

/// Rebuilds `conversations` with `responses` among the allowed endpoints.
pub fn allow_responses_endpoint(tx: &Transaction) -> Result<()> {
    widen_check(
        tx,
        "conversations",
        "CHECK (endpoint IN ('chat', 'completions'))",
        "CHECK (endpoint IN ('chat', 'completions', 'responses'))",
    )
}

/// Rebuilds `table` with `old_check` (as written in its migration) replaced by `new_check` (nothing when it is not there): the
/// table's own CREATE statement as it stands (so columns added by any migration are kept, in
/// order), every row copied with its id, then its indexes and triggers (the full-text ones
/// included) recreated from their own SQL. The caller runs this with foreign keys off, so
/// dropping the old table deletes nothing that refers to it.
pub fn widen_check(tx: &Transaction, table: &str, old_check: &str, new_check: &str) -> Result<()> {
    let sql: String = tx.query_row(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [table],
        |r| r.get(0),
    )?;
    if !sql.contains(old_check) {
        return Ok(());
    }
    let dependents: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT sql FROM sqlite_schema WHERE tbl_name = ?1
               AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name",
        )?;
        let rows = st
            .query_map([table], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        rows
    };
    let Some(open) = sql.find('(') else {
        return Err(Error::Database {
            message: format!("the {table} table's schema is not understood"),
        });
    };
    let create = format!(
        "CREATE TABLE {table}_rebuilt {}",
        sql[open..].replace(old_check, new_check)
    );
    tx.execute_batch(&format!(
        "{create};
         INSERT INTO {table}_rebuilt SELECT * FROM {table};
         DROP TABLE {table};
         ALTER TABLE {table}_rebuilt RENAME TO {table};"
    ))?;
    for sql in dependents {
        tx.execute_batch(&sql)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::db::migrations::{migrate, MIGRATIONS};
    use rusqlite::Connection;

    #[test]
    fn conversations_take_the_responses_endpoint_after_the_migration_and_keep_their_rows() {
        let mut conn = Connection::open_in_memory().unwrap();
        let at = MIGRATIONS
            .iter()
            .position(|m| *m == super::ALLOW_RESPONSES_ENDPOINT)
            .unwrap();
        // Up to the step before, as a file written by the previous version.
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        crate::db::migrations::migrate_to(&mut conn, at as i64).unwrap();
        conn.execute_batch(
            "INSERT INTO conversations(id, title, created_at, updated_at, endpoint) VALUES (1, 'old', 0, 0, 'completions');
             INSERT INTO messages(id, conversation_id, role, content, status, created_at)
                 VALUES (1, 1, 'user', 'hello 你好', 'done', 0);",
        )
        .unwrap();
        let refused = "UPDATE conversations SET endpoint = 'responses' WHERE id = 1";
        assert!(conn.execute(refused, []).is_err());
        migrate(&mut conn).unwrap();
        conn.execute(refused, []).unwrap();
        assert!(conn
            .execute(
                "UPDATE conversations SET endpoint = 'other' WHERE id = 1",
                []
            )
            .is_err());
        let (title, messages): (String, i64) = conn
            .query_row(
                "SELECT title, (SELECT count(*) FROM messages WHERE conversation_id = 1) FROM conversations",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((title.as_str(), messages), ("old", 1));
        // The messages still belong to it: deleting the conversation deletes them.
        conn.execute("DELETE FROM conversations WHERE id = 1", [])
            .unwrap();
        let left: i64 = conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }
}
