//! Ordered schema migrations on `PRAGMA user_version`. Each runs in one transaction together with
//! its version bump, so a crash leaves the file at the old or the new version, never between.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Migration N (1-based) brings the schema from version N-1 to N. Append only; never edit a shipped one.
pub const MIGRATIONS: &[&str] = &[
    // 1: profiles, conversations, messages (a tree through parent_id), settings.
    first::BASE,
    // 2: full-text index over message text (trigram: works for Chinese as well as English).
    first::SEARCH,
    // 3: which process is streaming a reply, so a second Parley (the CLI beside the window) never
    // marks a live reply as interrupted; and the origin each profile's key belongs to.
    r#"
    ALTER TABLE messages ADD COLUMN writer TEXT;
    -- The origin (scheme://host:port) the stored key was saved for: it is sent nowhere else.
    ALTER TABLE profiles ADD COLUMN key_origin TEXT;
    "#,
    // 4: the other sampling parameters of the OpenAI reference, per conversation.
    r#"
    ALTER TABLE conversations ADD COLUMN top_p REAL;
    ALTER TABLE conversations ADD COLUMN frequency_penalty REAL;
    ALTER TABLE conversations ADD COLUMN presence_penalty REAL;
    ALTER TABLE conversations ADD COLUMN stop TEXT;
    ALTER TABLE conversations ADD COLUMN seed INTEGER;
    "#,
    // 5: several provider profiles: kind (openai / azure / compatible), Azure deployment and
    // api-version, proxy and timeouts, default sampling parameters. (conversations.profile_id is
    // from migration 1: NULL = the default profile.)
    r#"
    ALTER TABLE profiles ADD COLUMN kind TEXT NOT NULL DEFAULT 'openai'
        CHECK (kind IN ('openai', 'azure', 'compatible'));
    UPDATE profiles SET kind = 'compatible'
        WHERE base_url IS NOT NULL AND base_url NOT LIKE 'https://api.openai.com/%';
    ALTER TABLE profiles ADD COLUMN azure_deployment TEXT;
    ALTER TABLE profiles ADD COLUMN api_version TEXT;
    -- NULL: the app-wide proxy setting; else 'system', 'none' or 'custom' (with proxy_url).
    ALTER TABLE profiles ADD COLUMN proxy_mode TEXT CHECK (proxy_mode IN ('system', 'none', 'custom'));
    ALTER TABLE profiles ADD COLUMN proxy_url TEXT;
    ALTER TABLE profiles ADD COLUMN connect_timeout_ms INTEGER;
    ALTER TABLE profiles ADD COLUMN idle_timeout_ms INTEGER;
    ALTER TABLE profiles ADD COLUMN temperature REAL;
    ALTER TABLE profiles ADD COLUMN top_p REAL;
    ALTER TABLE profiles ADD COLUMN max_tokens INTEGER;
    ALTER TABLE profiles ADD COLUMN frequency_penalty REAL;
    ALTER TABLE profiles ADD COLUMN presence_penalty REAL;
    ALTER TABLE profiles ADD COLUMN seed INTEGER;
    ALTER TABLE profiles ADD COLUMN stop TEXT;
    CREATE INDEX conversations_by_profile ON conversations(profile_id);
    "#,
    // 6 (chat, complete): which branch is shown, replies made together (n choices, side by side),
    // the endpoint per conversation, measured cost, and a model table (prices, context windows).
    r#"
    -- The active child of a message is its child with the newest coalesce(selected_at, created_at).
    ALTER TABLE messages ADD COLUMN selected_at INTEGER;
    -- Replies created by one send (n choices, or several models side by side) share a group.
    ALTER TABLE messages ADD COLUMN group_id TEXT;
    ALTER TABLE messages ADD COLUMN choice_index INTEGER;
    ALTER TABLE messages ADD COLUMN endpoint TEXT;
    -- 1 when the token counts were counted here (the server sent no usage).
    ALTER TABLE messages ADD COLUMN tokens_counted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN cost_usd REAL;
    -- How many earlier messages were left out of the request to fit the context window.
    ALTER TABLE messages ADD COLUMN omitted INTEGER;
    ALTER TABLE messages ADD COLUMN profile_name TEXT;
    CREATE INDEX messages_by_group ON messages(group_id) WHERE group_id IS NOT NULL;
    -- The first messages of a conversation (edits of the first message are sibling roots).
    CREATE INDEX messages_roots ON messages(conversation_id) WHERE parent_id IS NULL;
    ALTER TABLE conversations ADD COLUMN endpoint TEXT NOT NULL DEFAULT 'chat'
        CHECK (endpoint IN ('chat', 'completions'));
    ALTER TABLE conversations ADD COLUMN n INTEGER;
    -- Prices in US dollars per million tokens, and context windows; the user can edit every row.
    CREATE TABLE models (
        model          TEXT PRIMARY KEY,
        input_per_m    REAL,
        output_per_m   REAL,
        context_window INTEGER,
        updated_at     INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO models(model, input_per_m, output_per_m, context_window) VALUES
        ('gpt-4o', 2.50, 10.00, 128000),
        ('gpt-4o-mini', 0.15, 0.60, 128000),
        ('gpt-4.1', 2.00, 8.00, 1047576),
        ('gpt-4.1-mini', 0.40, 1.60, 1047576),
        ('gpt-4.1-nano', 0.10, 0.40, 1047576),
        ('o3-mini', 1.10, 4.40, 200000),
        ('o4-mini', 1.10, 4.40, 200000),
        ('gpt-3.5-turbo', 0.50, 1.50, 16385),
        ('gpt-3.5-turbo-instruct', 1.50, 2.00, 4096),
        ('deepseek-chat', 0.27, 1.10, 65536);
    "#,
    // 7 (rating replies): human ratings with their history, the editable list of reasons, and
    // pairwise battles (blind arena votes, and choices among replies made together).
    r#"
    CREATE TABLE ratings (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        thumb      INTEGER CHECK (thumb IN (-1, 1)),
        score      INTEGER CHECK (score BETWEEN 1 AND 5),
        reasons    TEXT NOT NULL DEFAULT '[]',
        comment    TEXT NOT NULL DEFAULT '',
        tags       TEXT NOT NULL DEFAULT '[]',
        -- The answer the reply should have given, if the user knows it (exact / contains / F1).
        reference  TEXT NOT NULL DEFAULT '',
        updated_at INTEGER NOT NULL
    );
    -- Every earlier state of a rating: changing a rating never loses what it was.
    CREATE TABLE rating_history (
        id         INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        thumb      INTEGER,
        score      INTEGER,
        reasons    TEXT NOT NULL,
        comment    TEXT NOT NULL,
        tags       TEXT NOT NULL,
        reference  TEXT NOT NULL DEFAULT '',
        rated_at   INTEGER NOT NULL
    );
    CREATE INDEX rating_history_by_message ON rating_history(message_id, id);
    CREATE TABLE rating_reasons (
        reason   TEXT PRIMARY KEY,
        position INTEGER NOT NULL
    );
    INSERT INTO rating_reasons(reason, position) VALUES
        ('accurate', 1), ('followed instructions', 2), ('well written', 3), ('too long', 4),
        ('wrong', 5), ('refused', 6), ('unsafe', 7), ('off topic', 8);
    -- One pairwise comparison. source: 'arena' (blind vote) or 'choice' (the user continued from
    -- one of several replies made together). winner NULL = not voted yet.
    CREATE TABLE battles (
        id          INTEGER PRIMARY KEY,
        source      TEXT NOT NULL CHECK (source IN ('arena', 'choice')),
        conversation_id INTEGER REFERENCES conversations(id) ON DELETE SET NULL,
        reply_a     INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        reply_b     INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        model_a     TEXT NOT NULL,
        model_b     TEXT NOT NULL,
        winner      TEXT CHECK (winner IN ('a', 'b', 'tie', 'bad')),
        tags        TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL,
        voted_at    INTEGER
    );
    CREATE INDEX battles_voted ON battles(voted_at) WHERE winner IS NOT NULL;
    "#,
    // 8 (LLM judge, issue 4; numbered 8 because migration 7 is the ratings/arena one, merged before
    // this; nothing here depends on it): versioned rubrics and the judge's verdicts.
    JUDGE_MIGRATION,
    // 9 (saved prompts): a library of prompts, every changed save a new version; user messages
    // record the version they were made from.
    r#"
    CREATE TABLE prompts (
        id           INTEGER PRIMARY KEY,
        name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
        favourite    INTEGER NOT NULL DEFAULT 0,
        use_count    INTEGER NOT NULL DEFAULT 0,
        last_used_at INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE prompt_versions (
        id            INTEGER PRIMARY KEY,
        prompt_id     INTEGER NOT NULL REFERENCES prompts(id) ON DELETE CASCADE,
        version       INTEGER NOT NULL CHECK (version >= 1),
        title         TEXT NOT NULL,
        body          TEXT NOT NULL,
        system_prompt TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        -- JSON: {profileId?, model?, settings?} to start a conversation configured for the prompt.
        preset        TEXT,
        message       TEXT NOT NULL DEFAULT '',
        created_at    INTEGER NOT NULL,
        UNIQUE (prompt_id, version)
    );
    ALTER TABLE messages ADD COLUMN prompt_version_id INTEGER
        REFERENCES prompt_versions(id) ON DELETE SET NULL;
    "#,
    // 10 (history you can organise): nestable folders, coloured tags (many per conversation),
    // pinned and archived conversations (archived ones are hidden from the list, still searchable).
    r#"
    CREATE TABLE folders (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        parent_id  INTEGER REFERENCES folders(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX folders_by_parent ON folders(parent_id);
    CREATE TABLE tags (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        color      TEXT NOT NULL DEFAULT '#6b7280',
        created_at INTEGER NOT NULL
    );
    CREATE TABLE conversation_tags (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        tag_id          INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
        PRIMARY KEY (conversation_id, tag_id)
    ) WITHOUT ROWID;
    CREATE INDEX conversation_tags_by_tag ON conversation_tags(tag_id, conversation_id);
    ALTER TABLE conversations ADD COLUMN folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL;
    ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
    ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
    CREATE INDEX conversations_by_folder ON conversations(folder_id) WHERE folder_id IS NOT NULL;
    "#,
    // 11: the request parameters of conversations and profiles as one JSON object each, keyed as
    // the table in params.rs names them, so adding a parameter needs no column. Unset = absent.
    r#"
    ALTER TABLE conversations ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    UPDATE conversations SET params = json_patch('{}', json_object(
        'temperature', temperature, 'maxTokens', max_tokens, 'topP', top_p,
        'frequencyPenalty', frequency_penalty, 'presencePenalty', presence_penalty,
        'stop', CASE WHEN json_valid(stop) THEN json(stop) END, 'seed', seed, 'n', n));
    ALTER TABLE conversations DROP COLUMN temperature;
    ALTER TABLE conversations DROP COLUMN max_tokens;
    ALTER TABLE conversations DROP COLUMN top_p;
    ALTER TABLE conversations DROP COLUMN frequency_penalty;
    ALTER TABLE conversations DROP COLUMN presence_penalty;
    ALTER TABLE conversations DROP COLUMN stop;
    ALTER TABLE conversations DROP COLUMN seed;
    ALTER TABLE conversations DROP COLUMN n;
    ALTER TABLE profiles ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    UPDATE profiles SET params = json_patch('{}', json_object(
        'temperature', temperature, 'maxTokens', max_tokens, 'topP', top_p,
        'frequencyPenalty', frequency_penalty, 'presencePenalty', presence_penalty,
        'stop', CASE WHEN json_valid(stop) THEN json(stop) END, 'seed', seed));
    ALTER TABLE profiles DROP COLUMN temperature;
    ALTER TABLE profiles DROP COLUMN max_tokens;
    ALTER TABLE profiles DROP COLUMN top_p;
    ALTER TABLE profiles DROP COLUMN frequency_penalty;
    ALTER TABLE profiles DROP COLUMN presence_penalty;
    ALTER TABLE profiles DROP COLUMN stop;
    ALTER TABLE profiles DROP COLUMN seed;
    "#,
    // 12 (reasoning): a reply's reasoning (reasoning_content deltas or a leading <think> block),
    // kept apart from its content (never sent back, not in the full-text index), the reasoning
    // tokens the server reported (or counted here) with their cost, and the time spent thinking.
    r#"
    ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN reasoning_tokens INTEGER;
    ALTER TABLE messages ADD COLUMN reasoning_cost_usd REAL;
    ALTER TABLE messages ADD COLUMN thinking_ms INTEGER;
    "#,
    // 13 (tool calls): the calls a reply made (JSON, as the API sends them), the call a `tool`
    // message answers, and the function tools each conversation offers (JSON, checked on save).
    r#"
    ALTER TABLE messages ADD COLUMN tool_calls TEXT;
    ALTER TABLE messages ADD COLUMN tool_call_id TEXT;
    CREATE TABLE conversation_tools (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        tools           TEXT NOT NULL
    );
    "#,
    // 14 (tool calls): `tool` among the roles of messages. SQLite cannot alter a CHECK, so the table
    // is rebuilt in Rust (db::tools::allow_tool_role) with foreign keys off, rows, ids, indexes and
    // full-text triggers kept.
    super::tools::ALLOW_TOOL_ROLE,
    // 15 (token probabilities): each reply's tokens with their log-probabilities and alternatives
    // (JSON, at most openai::logprobs::MAX_TOKENS_KEPT tokens) and its mean log-probability; per
    // conversation, whether to ask for them and how many alternatives per token.
    r#"
    ALTER TABLE messages ADD COLUMN logprobs TEXT;
    ALTER TABLE messages ADD COLUMN mean_logprob REAL;
    CREATE TABLE conversation_logprobs (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        top             INTEGER NOT NULL CHECK (top BETWEEN 0 AND 20)
    );
    "#,
    // 16: a streaming reply's checkpoints append only what is new (one row per checkpoint, folded
    // into the message when it ends or at the next start), and a reply keeps the model the server
    // claimed next to the one asked for (which stays in `model` and ranks it).
    r#"
    CREATE TABLE reply_chunks (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        text       TEXT NOT NULL,
        PRIMARY KEY (message_id, seq)
    ) WITHOUT ROWID;
    ALTER TABLE messages ADD COLUMN served_model TEXT;
    "#,
    // 17 (branch win): whether a profile's requests to servers on this machine go through its
    // proxy too (NULL: the app setting, which is no by default, as curl's NO_PROXY convention).
    r#"
    ALTER TABLE profiles ADD COLUMN proxy_local INTEGER CHECK (proxy_local IN (0, 1));
    "#,
    // 18 (branch schema): a conversation's tools and token-probability setting become entries of
    // its parameters (`tools`, `logprobs`: the one table in params.rs) and their own tables go; a
    // reply under a response format keeps its check (JSON: valid, and the errors).
    r#"
    UPDATE conversations SET params = json_set(
            CASE WHEN json_valid(params) THEN params ELSE '{}' END, '$.tools',
            json((SELECT tools FROM conversation_tools t WHERE t.conversation_id = conversations.id)))
        WHERE id IN (SELECT conversation_id FROM conversation_tools WHERE json_valid(tools));
    UPDATE conversations SET params = json_set(
            CASE WHEN json_valid(params) THEN params ELSE '{}' END, '$.logprobs',
            (SELECT top FROM conversation_logprobs l WHERE l.conversation_id = conversations.id))
        WHERE id IN (SELECT conversation_id FROM conversation_logprobs);
    DROP TABLE conversation_tools;
    DROP TABLE conversation_logprobs;
    ALTER TABLE messages ADD COLUMN schema_check TEXT;
    "#,
    // 19 (branch responses): `responses` among a conversation's endpoints (the Responses API).
    // SQLite cannot alter a CHECK: the table is rebuilt in Rust (db::rebuild), like 14.
    super::rebuild::ALLOW_RESPONSES_ENDPOINT,
    // 20 (images, branch `images`): attached images stored once, addressed by the SHA-256 of the
    // bytes sent (already downscaled), with a small thumbnail; a message lists its images in order.
    r#"
    CREATE TABLE blobs (
        sha256     TEXT PRIMARY KEY,
        mime       TEXT NOT NULL,
        bytes      BLOB NOT NULL,
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        thumb      BLOB NOT NULL,
        thumb_mime TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE message_images (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        sha256     TEXT NOT NULL REFERENCES blobs(sha256),
        name       TEXT NOT NULL,
        detail     TEXT NOT NULL CHECK (detail IN ('auto', 'low', 'high')),
        PRIMARY KEY (message_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX message_images_by_blob ON message_images(sha256);
    "#,
    // 21 (branch long): the active path of long conversations kept (db/messages/path.rs): a message
    // added under the kept path's last message extends it, any other change to the tree drops it.
    // Two-character searches: the trigram index's vocabulary, and each message's last two
    // characters (the one place a two-character word leaves no trigram starting with it).
    // A conversation's totals from an index.
    long_history::MIGRATION,
    // 22 (branch `suites`): evaluation suite runs, their cells, and the request cache.
    super::suites::SUITES_MIGRATION,
    // 23 (branch `suitegrid`): a suite run's cell linked to the reply it was opened as.
    super::suite_replies::SUITE_REPLIES_MIGRATION,
    // 24 (branch `judge`): a verdict keeps the model the server claimed beside the one asked for.
    judge::JUDGE_SERVED_MODEL,
    // 25 (branch `suitecore`): which saved prompt version each suite run's prompts were.
    super::suite_prompts::MIGRATION,
    // 26 (branch `harden`): which process writes a suite run, so a run left `running` by one that
    // was killed is marked cancelled at start (its finished cells kept).
    super::suites::RUN_WRITER_MIGRATION,
    // 27 (branch `suitewin`): the suite library, each suite's promptfoo YAML by name.
    super::suite_library::SUITE_LIBRARY_MIGRATION,
    // 28: the search index merged two segments at a time instead of four (FTS5's `automerge`,
    // kept in the index's own config table): fewer segments for a search to seek in. Over the
    // 1,000,000-message bench (README "Search"), as built: 22 -> 20 segments, 1,850 -> 1,812 MB,
    // a rare English word 1.08 -> 0.97 ms, Chinese 3+ characters 0.47 -> 0.36.
    "INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 2);",
];

pub(crate) use judge::JUDGE_MIGRATION;

pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

pub(crate) fn current_version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

pub(crate) fn newer_than_known(version: i64) -> Error {
    Error::Database {
        message: format!(
            "this database was written by a newer Parley (schema {version}; this version knows up to {}). \
             Nothing was changed; please update Parley.",
            latest_version()
        ),
    }
}

/// Applies every migration above the file's version. Refuses a file from a newer Parley.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64> {
    migrate_to(conn, latest_version())
}

/// Applies the migrations up to `target` (tests: a file as an older version left it).
pub(crate) fn migrate_to(conn: &mut Connection, target: i64) -> Result<i64> {
    let from = current_version(conn)?;
    if from > latest_version() {
        return Err(newer_than_known(from));
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(from as usize)
        .take((target - from).max(0) as usize)
    {
        let version = index as i64 + 1;
        if *sql == super::tools::ALLOW_TOOL_ROLE {
            rebuild_without_foreign_keys(conn, version, super::tools::allow_tool_role)?;
            continue;
        }
        if *sql == super::rebuild::ALLOW_RESPONSES_ENDPOINT {
            rebuild_without_foreign_keys(conn, version, super::rebuild::allow_responses_endpoint)?;
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(from)
}

/// A step that rebuilds a table (SQLite's documented procedure): foreign keys off around the
/// transaction (else dropping the old table would cascade), checked before the commit.
fn rebuild_without_foreign_keys(
    conn: &mut Connection,
    version: i64,
    step: fn(&rusqlite::Transaction) -> Result<()>,
) -> Result<()> {
    let fk_on: bool = conn.pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    conn.pragma_update(None, "legacy_alter_table", true)?;
    let result = (|| {
        let tx = conn.transaction()?;
        step(&tx)?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken > 0 {
            return Err(Error::Database {
                message: format!("migration {version} would break {broken} references"),
            });
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        Ok(())
    })();
    conn.pragma_update(None, "legacy_alter_table", false)?;
    conn.pragma_update(None, "foreign_keys", fk_on)?;
    result
}

mod first;
mod judge;
mod long_history;

#[cfg(test)]
mod tests;
