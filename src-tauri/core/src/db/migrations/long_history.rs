//! Migration 17 (branch long): long conversations and short searches. See the comment at its place
//! in the list (migrations.rs).

pub(crate) const MIGRATION: &str = r#"
    CREATE TABLE active_paths (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        leaf            INTEGER NOT NULL,
        length          INTEGER NOT NULL,
        ids             TEXT NOT NULL
    );
    CREATE TRIGGER active_paths_insert AFTER INSERT ON messages BEGIN
        UPDATE active_paths SET ids = ids || ',' || new.id, leaf = new.id, length = length + 1
            WHERE conversation_id = new.conversation_id AND leaf = new.parent_id;
        DELETE FROM active_paths WHERE conversation_id = new.conversation_id AND leaf <> new.id;
    END;
    CREATE TRIGGER active_paths_update
        AFTER UPDATE OF parent_id, selected_at, created_at, conversation_id ON messages BEGIN
        DELETE FROM active_paths WHERE conversation_id IN (old.conversation_id, new.conversation_id);
    END;
    CREATE TRIGGER active_paths_delete AFTER DELETE ON messages BEGIN
        DELETE FROM active_paths WHERE conversation_id = old.conversation_id;
    END;
    CREATE VIRTUAL TABLE messages_fts_vocab USING fts5vocab(messages_fts, row);
    CREATE INDEX messages_tail ON messages(lower(substr(content, -2)));
    -- A conversation's totals (shown as it opens) from the index alone, not its rows' text.
    CREATE INDEX messages_totals ON messages(conversation_id, role, prompt_tokens, completion_tokens,
        cost_usd, tokens_counted);
    "#;
