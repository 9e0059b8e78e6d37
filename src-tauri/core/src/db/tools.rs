//! Tool calls in storage: the migration step that lets `messages.role` hold `tool` (the result
//! the user typed for a call). The tools a conversation offers are the `tools` request parameter
//! (`params::tools`), stored with the conversation's other parameters.

use rusqlite::Transaction;

use crate::error::Result;
pub use crate::params::tools::FunctionTool;

/// The marker of the migration step that rebuilds `messages` so its role may be `tool`.
pub const ALLOW_TOOL_ROLE: &str = "-- rust: allow the tool role in messages";

const OLD_CHECK: &str = "CHECK (role IN ('system', 'user', 'assistant'))";
const NEW_CHECK: &str = "CHECK (role IN ('system', 'user', 'assistant', 'tool'))";

/// Rebuilds `messages` with `tool` among the allowed roles (SQLite cannot alter a CHECK); see
/// [`super::rebuild::widen_check`].
pub fn allow_tool_role(tx: &Transaction) -> Result<()> {
    super::rebuild::widen_check(tx, "messages", OLD_CHECK, NEW_CHECK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrations::{migrate, MIGRATIONS};
    use rusqlite::Connection;

    #[test]
    fn the_role_rebuild_keeps_rows_references_and_the_full_text_index() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        // Up to the step before the rebuild.
        let at = MIGRATIONS
            .iter()
            .position(|m| *m == ALLOW_TOOL_ROLE)
            .unwrap();
        for (i, sql) in MIGRATIONS.iter().take(at).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", i as i64 + 1)
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO conversations(id, created_at, updated_at) VALUES (1, 0, 0);
             INSERT INTO messages(id, conversation_id, role, content, status, created_at)
                 VALUES (1, 1, 'user', '你好世界 hello', 'done', 0);
             INSERT INTO messages(id, conversation_id, parent_id, role, content, status, created_at, reasoning)
                 VALUES (2, 1, 1, 'assistant', 'an answer', 'done', 0, 'why');
             INSERT INTO ratings(message_id, thumb, updated_at) VALUES (2, 1, 0);",
        )
        .unwrap();
        assert!(conn
            .execute(
                "INSERT INTO messages(conversation_id, role, content, status, created_at)
                 VALUES (1, 'tool', 'x', 'done', 0)",
                [],
            )
            .is_err());
        migrate(&mut conn).unwrap();
        let fk: bool = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(fk, "foreign keys are on again");
        // Rows, ids, new columns and the rating that refers to the reply are all still there.
        let (content, reasoning): (String, String) = conn
            .query_row(
                "SELECT content, reasoning FROM messages WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((content.as_str(), reasoning.as_str()), ("an answer", "why"));
        let ratings: i64 = conn
            .query_row("SELECT count(*) FROM ratings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ratings, 1);
        conn.execute(
            "INSERT INTO messages(id, conversation_id, parent_id, role, content, status, created_at, tool_call_id)
             VALUES (3, 1, 2, 'tool', 'sunny 22°C', 'done', 0, 'call_1')",
            [],
        )
        .unwrap();
        // The full-text triggers came back: the tool result is found, the index is consistent.
        let hit: i64 = conn
            .query_row(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'sunny'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hit, 3);
        conn.execute(
            "INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
        // So did the indexes, and deleting a message still cascades to what refers to it.
        let indexes: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'messages'
                   AND name IN ('messages_by_conversation', 'messages_by_parent', 'messages_by_group')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 3);
        conn.execute("DELETE FROM messages WHERE id = 2", [])
            .unwrap();
        let left: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM ratings) + (SELECT count(*) FROM messages)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            left, 1,
            "the rating and the tool result went with the reply"
        );
    }
}
