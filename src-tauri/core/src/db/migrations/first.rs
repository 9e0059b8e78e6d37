//! The first two migrations (the base schema and its search index), apart so migrations.rs
//! stays short.

/// 1: profiles, conversations, messages (a tree through parent_id), settings.
pub(super) const BASE: &str = r#"
    CREATE TABLE profiles (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        base_url      TEXT,
        default_model TEXT,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE conversations (
        id            INTEGER PRIMARY KEY,
        title         TEXT NOT NULL DEFAULT '',
        system_prompt TEXT NOT NULL DEFAULT '',
        model         TEXT,
        temperature   REAL,
        max_tokens    INTEGER,
        profile_id    INTEGER REFERENCES profiles(id) ON DELETE SET NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        deleted_at    INTEGER
    );
    CREATE INDEX conversations_recent ON conversations(updated_at DESC) WHERE deleted_at IS NULL;
    CREATE TABLE messages (
        id                INTEGER PRIMARY KEY,
        conversation_id   INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        parent_id         INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        role              TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content           TEXT NOT NULL,
        status            TEXT NOT NULL
                          CHECK (status IN ('done', 'streaming', 'cancelled', 'error', 'interrupted')),
        model             TEXT,
        error_kind        TEXT,
        error_message     TEXT,
        prompt_tokens     INTEGER,
        completion_tokens INTEGER,
        ttft_ms           INTEGER,
        total_ms          INTEGER,
        finish_reason     TEXT,
        created_at        INTEGER NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
    CREATE INDEX messages_by_parent ON messages(parent_id);
    CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
    "#;

/// 2: full-text index over message text (trigram: works for Chinese as well as English).
/// Replies are indexed once they stop streaming, so checkpoints of a long reply cost nothing here.
pub(super) const SEARCH: &str = r#"
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        content, content = 'messages', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status <> 'streaming' BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status <> 'streaming' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_unindex AFTER UPDATE OF content, status ON messages
        WHEN old.status <> 'streaming' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    END;
    CREATE TRIGGER messages_fts_index AFTER UPDATE OF content, status ON messages
        WHEN new.status <> 'streaming' BEGIN
        INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
    END;
    INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
    "#;
