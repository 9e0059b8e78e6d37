//! Tool calls in storage: the function tools a conversation offers the model (name, description,
//! JSON-schema parameters; checked before they are saved), and the migration step that lets
//! `messages.role` hold `tool` (the result the user typed for a call).
//!
//! TODO(params): `tools` is a request parameter; fold it into the one parameter definition once
//! that is in main (it lives here, in one place, until then).

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// At most this many tools per conversation (OpenAI's limit is 128).
pub const MAX_TOOLS: usize = 128;
/// A tool definition (its schema included) is at most this many bytes of JSON.
pub const MAX_TOOL_BYTES: usize = 64 * 1024;

/// One function tool, as in `FunctionObject` of the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionTool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A JSON Schema object; `{"type": "object", "properties": {}}` when the function takes nothing.
    #[serde(default = "empty_parameters")]
    pub parameters: serde_json::Value,
}

fn empty_parameters() -> serde_json::Value {
    serde_json::json!({"type": "object", "properties": {}})
}

impl FunctionTool {
    /// The tool as the request body's `tools` wants it (`ChatCompletionTool`).
    pub fn wire(&self) -> serde_json::Value {
        let mut function = serde_json::json!({ "name": self.name, "parameters": self.parameters });
        if !self.description.trim().is_empty() {
            function["description"] = self.description.clone().into();
        }
        serde_json::json!({ "type": "function", "function": function })
    }
}

/// Checks tools the way the API would: names of 1–64 letters, digits, `_` or `-`, unique; the
/// parameters a valid JSON Schema whose top level is an object. Every problem is named.
pub fn validate(tools: &[FunctionTool]) -> Result<()> {
    if tools.len() > MAX_TOOLS {
        return Err(Error::invalid(format!(
            "At most {MAX_TOOLS} tools per conversation (got {}).",
            tools.len()
        )));
    }
    let mut seen = HashSet::new();
    for t in tools {
        let name = &t.name;
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            return Err(Error::invalid(format!(
                "The tool name \"{name}\" is not allowed: use 1 to 64 letters, digits, _ or -."
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(Error::invalid(format!(
                "Two tools are named \"{name}\"; names must be unique."
            )));
        }
        if serde_json::to_vec(t).map_or(0, |v| v.len()) > MAX_TOOL_BYTES {
            return Err(Error::invalid(format!(
                "The tool \"{name}\" is larger than {} KB.",
                MAX_TOOL_BYTES / 1024
            )));
        }
        check_schema(name, &t.parameters)?;
    }
    Ok(())
}

/// A function's parameters: a JSON Schema (checked against the meta-schema) describing an object.
pub fn check_schema(name: &str, schema: &serde_json::Value) -> Result<()> {
    if !schema.is_object() || schema.get("type").and_then(|t| t.as_str()) != Some("object") {
        return Err(Error::invalid(format!(
            "The parameters of \"{name}\" must be a JSON Schema object with \"type\": \"object\"."
        )));
    }
    // Checked against the draft the API uses; a `$schema` naming another draft is not followed.
    let mut plain = schema.clone();
    if let Some(map) = plain.as_object_mut() {
        map.remove("$schema");
    }
    if let Err(e) = jsonschema::meta::validate(&plain) {
        return Err(Error::invalid(format!(
            "The parameters of \"{name}\" are not a valid JSON Schema: {e} (at {}).",
            e.instance_path()
        )));
    }
    Ok(())
}

/// The tools a conversation offers (none when never set).
pub fn get(conn: &Connection, conversation_id: i64) -> Result<Vec<FunctionTool>> {
    let raw: Option<String> = conn
        .query_row(
            "SELECT tools FROM conversation_tools WHERE conversation_id = ?1",
            [conversation_id],
            |r| r.get(0),
        )
        .optional()?;
    match raw {
        None => Ok(Vec::new()),
        Some(raw) => serde_json::from_str(&raw).map_err(|e| Error::Database {
            message: format!("the tools of conversation {conversation_id} are unreadable: {e}"),
        }),
    }
}

/// Replaces a conversation's tools after checking them (an empty list removes them).
pub fn set(
    conn: &Connection,
    conversation_id: i64,
    tools: &[FunctionTool],
) -> Result<Vec<FunctionTool>> {
    validate(tools)?;
    super::conversations::get(conn, conversation_id)?;
    if tools.is_empty() {
        conn.execute(
            "DELETE FROM conversation_tools WHERE conversation_id = ?1",
            [conversation_id],
        )?;
    } else {
        let raw = serde_json::to_string(tools).map_err(|e| Error::invalid(e.to_string()))?;
        conn.execute(
            "INSERT INTO conversation_tools(conversation_id, tools) VALUES (?1, ?2)
             ON CONFLICT(conversation_id) DO UPDATE SET tools = excluded.tools",
            params![conversation_id, raw],
        )?;
    }
    Ok(tools.to_vec())
}

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
    use serde_json::json;

    fn tool(name: &str, parameters: serde_json::Value) -> FunctionTool {
        FunctionTool {
            name: name.into(),
            description: "d".into(),
            parameters,
        }
    }

    #[test]
    fn tools_are_checked_like_the_api_would() {
        let ok = tool(
            "get_weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        );
        assert!(validate(std::slice::from_ref(&ok)).is_ok());
        assert_eq!(
            ok.wire(),
            json!({"type": "function", "function": {"name": "get_weather", "description": "d",
                "parameters": ok.parameters}})
        );
        let bad = [
            (tool("has space", json!({"type": "object"})), "not allowed"),
            (tool("", json!({"type": "object"})), "not allowed"),
            (tool("f", json!({"type": "string"})), "type"),
            (
                tool(
                    "f",
                    json!({"type": "object", "properties": {"a": {"type": "nonsense"}}}),
                ),
                "not a valid JSON Schema",
            ),
            (
                tool("f", json!({"type": "object", "required": "a"})),
                "not a valid JSON Schema",
            ),
        ];
        for (t, says) in bad {
            let err = validate(std::slice::from_ref(&t)).unwrap_err();
            assert_eq!(err.kind(), "invalid");
            assert!(err.to_string().contains(says), "{err} / {t:?}");
        }
        let twice = [ok.clone(), ok];
        assert!(validate(&twice).unwrap_err().to_string().contains("unique"));
    }

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
