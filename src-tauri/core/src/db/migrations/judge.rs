//! The LLM judge's tables (rubrics and verdicts), run as one step of the list in migrations.rs.

/// The LLM judge's tables. Depends only on migration 1 (messages, profiles).
pub(crate) const JUDGE_MIGRATION: &str = r#"
    -- A rubric is never edited in place: saving it again adds the next version under its name.
    CREATE TABLE rubrics (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        version    INTEGER NOT NULL CHECK (version >= 1),
        kind       TEXT NOT NULL CHECK (kind IN ('single', 'pairwise')),
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (name, version)
    );
    INSERT INTO rubrics(name, version, kind, body, created_at) VALUES
    ('default', 1, 'single',
'Grade the reply on a scale of 1 to 10, considering:
- Accuracy: is what it says correct, with no invented facts?
- Relevance: does it answer the question that was asked, and follow its instructions?
- Fluency: is it clear, well organised and well written, with no needless length?
1-2: wrong or useless; 3-4: major problems; 5-6: acceptable with clear flaws; 7-8: good, minor flaws; 9-10: excellent.', 0),
    ('default-pairwise', 1, 'pairwise',
'Decide which of the two replies answers the question better, considering accuracy (correct, no invented facts), relevance (answers what was asked, follows its instructions) and fluency (clear, well organised, no needless length). Do not let the order of the replies or their length alone decide. Answer tie only when neither is better.', 0);

    -- One verdict of the judge. Single: `score`. Pairwise: the reply `message_id` is "a" and
    -- `other_message_id` is "b" in every winner column; the pair is judged with a in position A
    -- (winner_ab) and again with the positions swapped (winner_ba, mapped back to a/b); `winner` is
    -- their common answer, or 'inconsistent' when they disagree. A failed run keeps its error.
    CREATE TABLE judge_verdicts (
        id               INTEGER PRIMARY KEY,
        kind             TEXT NOT NULL CHECK (kind IN ('single', 'pairwise')),
        rubric_id        INTEGER NOT NULL REFERENCES rubrics(id),
        judge_model      TEXT NOT NULL,
        judge_profile_id INTEGER REFERENCES profiles(id) ON DELETE SET NULL,
        message_id       INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        other_message_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        score            INTEGER CHECK (score BETWEEN 1 AND 10),
        winner_ab        TEXT CHECK (winner_ab IN ('a', 'b', 'tie')),
        winner_ba        TEXT CHECK (winner_ba IN ('a', 'b', 'tie')),
        consistent       INTEGER CHECK (consistent IN (0, 1)),
        winner           TEXT CHECK (winner IN ('a', 'b', 'tie', 'inconsistent')),
        reasoning        TEXT,
        reasoning_ba     TEXT,
        raw              TEXT,
        raw_ba           TEXT,
        error_kind       TEXT,
        error            TEXT,
        created_at       INTEGER NOT NULL,
        CHECK ((kind = 'single') = (other_message_id IS NULL))
    );
    CREATE INDEX judge_verdicts_by_message ON judge_verdicts(message_id, created_at);
    CREATE INDEX judge_verdicts_by_other ON judge_verdicts(other_message_id)
        WHERE other_message_id IS NOT NULL;
"#;

/// A verdict keeps the model the server claimed beside the one asked for (`judge_model`, which
/// ranks and groups it), only when the two differ.
pub(crate) const JUDGE_SERVED_MODEL: &str = r#"
    ALTER TABLE judge_verdicts ADD COLUMN served_model TEXT;
"#;
