//! Search over every message of every conversation (all branches, archived ones too) through the
//! trigram FTS5 index of migration 2. The user's text is never FTS syntax: each word becomes a quoted
//! FTS5 string, so quotes, `*`, `NEAR`, `-` and brackets are searched as text. Words shorter than
//! three characters (a trigram index cannot look them up) are matched with an escaped LIKE: beside a
//! longer word over its candidates only; a rare two-character word over the messages holding a
//! trigram that starts with it (read in one pass over the index's instances) or ending with it;
//! otherwise as a newest-first scan that stops at the limit.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// At most this many hits per search.
pub const MAX_LIMIT: usize = 200;
/// Longer queries are cut here (characters); at most `MAX_TERMS` words count.
pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_TERMS: usize = 8;
/// Characters of context shown before the first match, and in all, in a snippet.
const SNIPPET_BEFORE: usize = 30;
const SNIPPET_CHARS: usize = 140;

/// What to search within; every field is optional (`None` = no restriction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchFilter {
    /// The message's model, or the conversation's.
    pub model: Option<String>,
    pub profile_id: Option<i64>,
    /// Message time, milliseconds since the epoch, inclusive.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The folder and its subfolders.
    pub folder_id: Option<i64>,
    pub tag_id: Option<i64>,
    /// Some(true): rated replies only; Some(false): unrated replies only.
    pub rated: Option<bool>,
    /// Some(true): conversations with arena rounds only; Some(false): without.
    pub arena: Option<bool>,
}

/// A piece of a snippet; `hit` pieces are what the query matched (shown highlighted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub hit: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub message_id: i64,
    pub conversation_id: i64,
    pub title: String,
    pub role: String,
    pub model: Option<String>,
    pub created_at: i64,
    pub archived: bool,
    pub snippet: Vec<SnippetPart>,
}

/// The words of a query, in order, without duplicates (empty when there is nothing to search).
pub fn terms(query: &str) -> Vec<String> {
    let cut: String = query
        .chars()
        .take(MAX_QUERY_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out: Vec<String> = Vec::new();
    for word in cut.split_whitespace() {
        if !out.iter().any(|w| w.to_lowercase() == word.to_lowercase()) {
            out.push(word.to_string());
        }
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// One FTS5 string: the word in double quotes, its own quotes doubled. Nothing else is syntax.
pub fn fts_phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// A LIKE pattern for `%word%` with `\` as the escape character.
fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Searches the messages, newest first.
pub fn search(
    conn: &Connection,
    query: &str,
    filter: &SearchFilter,
    limit: usize,
) -> Result<Vec<SearchHit>> {
    let words = terms(query);
    if words.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let limit = limit.min(MAX_LIMIT);
    let (long, short): (Vec<&String>, Vec<&String>) =
        words.iter().partition(|w| w.chars().count() >= 3);
    let mut args: Vec<Value> = Vec::new();
    let mut sql = String::from(
        "SELECT m.id, m.conversation_id, c.title, m.role, m.model, m.created_at, c.archived, m.content ",
    );
    let mut wheres: Vec<String> = vec!["c.deleted_at IS NULL".into()];
    if long.is_empty() {
        sql.push_str("FROM messages m JOIN conversations c ON c.id = m.conversation_id ");
        wheres.push("m.status <> 'streaming'".into());
        // A rare two-character word: only the messages that can hold it (its trigrams and the
        // messages ending with it), then the same LIKE as the scan, so the hits are the scan's.
        // The candidates' ids go in as one JSON array; SQLite walks them newest first and stops
        // at the limit (no sort), reading only the rows it returns.
        if let Some((word, docs)) = rarest_pair(conn, &short)? {
            wheres.push(
                "m.id IN (SELECT id FROM messages WHERE lower(substr(content, -2)) = lower(?) \
                 UNION SELECT value FROM json_each(?))"
                    .into(),
            );
            args.push(Value::Text(word));
            let ids: Vec<String> = docs.iter().map(i64::to_string).collect();
            args.push(Value::Text(format!("[{}]", ids.join(","))));
        }
    } else {
        let expr: Vec<String> = long.iter().map(|w| fts_phrase(w)).collect();
        args.push(Value::Text(expr.join(" AND ")));
        sql.push_str(
            "FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             JOIN conversations c ON c.id = m.conversation_id ",
        );
        wheres.push("messages_fts MATCH ?".into());
    }
    for w in &short {
        args.push(Value::Text(like_pattern(w)));
        wheres.push("m.content LIKE ? ESCAPE '\\'".into());
    }
    push_filters(filter, &mut wheres, &mut args);
    sql.push_str("WHERE ");
    sql.push_str(&wheres.join(" AND "));
    sql.push_str(if long.is_empty() {
        " ORDER BY m.id DESC LIMIT ?"
    } else {
        " ORDER BY f.rowid DESC LIMIT ?"
    });
    args.push(Value::Integer(limit as i64));
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(args), |r| {
        Ok((
            SearchHit {
                message_id: r.get(0)?,
                conversation_id: r.get(1)?,
                title: r.get(2)?,
                role: r.get(3)?,
                model: r.get(4)?,
                created_at: r.get(5)?,
                archived: r.get::<_, i64>(6)? != 0,
                snippet: Vec::new(),
            },
            r.get::<_, String>(7)?,
        ))
    })?;
    let mut hits = Vec::new();
    for row in rows {
        let (mut hit, content) = row?;
        hit.snippet = snippet(&content, &words);
        hits.push(hit);
    }
    Ok(hits)
}

/// A two-character word is looked up through the trigram index only while it is rare: the
/// messages holding a trigram that starts with it are read from the index's instances (one pass
/// over the terms in order, ~0.3 µs an instance), at most `PAIR_MAX_INSTANCES` of them. Past
/// `PAIR_QUICK` instances the word may be common among the newest messages (then the
/// newest-first scan meets its hits at once and is cheaper): checked on the newest `PAIR_SAMPLE`.
/// Measured over 1,000,000 messages (README): a rare word's 688 instances in 0.35 ms, where the
/// OR of its 301 trigrams took 28 ms (22 index segments) and the newest-5,000 check 9 ms.
const PAIR_QUICK: usize = 2_000;
const PAIR_MAX_INSTANCES: usize = 20_000;
const PAIR_SAMPLE: i64 = 5_000;
/// A word found this often among the newest `PAIR_SAMPLE` messages counts as common.
const PAIR_COMMON_IN_SAMPLE: i64 = 5;

/// The index's instances (term, message, column, offset), one row each, in term order. A table of
/// this connection only (FTS5's vocabulary module over the main schema's index): it stores nothing
/// and needs no migration.
const INSTANCES: &str = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.messages_fts_instance
    USING fts5vocab(main, messages_fts, instance)";

/// Can the trigram index stand in for LIKE on this character? ASCII (LIKE and the index both fold
/// its case) and caseless CJK-and-above characters (neither folds them; no diacritics to strip).
fn pair_char(c: char) -> bool {
    c.is_ascii() || (c >= '\u{2E80}' && c.to_lowercase().eq(std::iter::once(c)))
}

/// Of the two-character words, the one in the fewest messages, with the ids of the messages holding
/// a trigram that starts with it, newest first; None when none is rare enough (then LIKE scans).
fn rarest_pair(conn: &Connection, words: &[&String]) -> Result<Option<(String, Vec<i64>)>> {
    let mut best: Option<(String, Vec<i64>)> = None;
    let mut pairs = words
        .iter()
        .filter(|w| w.chars().count() == 2 && w.chars().all(pair_char))
        .peekable();
    if pairs.peek().is_some() {
        conn.execute_batch(INSTANCES)?;
    }
    'words: for w in pairs {
        let prefix = w.to_ascii_lowercase();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM temp.messages_fts_instance WHERE term >= ?1 AND term < ?2",
        )?;
        let mut rows = st.query([prefix.clone(), format!("{prefix}\u{10FFFF}")])?;
        let mut docs: Vec<i64> = Vec::new();
        while let Some(r) = rows.next()? {
            docs.push(r.get(0)?);
            if docs.len() == PAIR_QUICK && common_among_newest(conn, w)? {
                continue 'words;
            }
            if docs.len() > PAIR_MAX_INSTANCES {
                continue 'words;
            }
        }
        docs.sort_unstable_by(|a, b| b.cmp(a));
        docs.dedup();
        if best.as_ref().is_none_or(|(_, d)| docs.len() < d.len()) {
            best = Some((w.to_string(), docs));
        }
    }
    Ok(best)
}

/// Is the word in at least `PAIR_COMMON_IN_SAMPLE` of the newest `PAIR_SAMPLE` messages?
fn common_among_newest(conn: &Connection, word: &str) -> Result<bool> {
    let recent: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE id > (SELECT coalesce(max(id), 0)
             FROM messages) - ?1 AND content LIKE ?2 ESCAPE '\\' LIMIT ?3)",
        )?
        .query_row(
            rusqlite::params![PAIR_SAMPLE, like_pattern(word), PAIR_COMMON_IN_SAMPLE],
            |r| r.get(0),
        )?;
    Ok(recent >= PAIR_COMMON_IN_SAMPLE)
}

fn push_filters(f: &SearchFilter, wheres: &mut Vec<String>, args: &mut Vec<Value>) {
    if let Some(model) = &f.model {
        wheres.push("(m.model = ? OR (m.model IS NULL AND c.model = ?))".into());
        args.push(Value::Text(model.clone()));
        args.push(Value::Text(model.clone()));
    }
    if let Some(p) = f.profile_id {
        wheres.push("c.profile_id = ?".into());
        args.push(Value::Integer(p));
    }
    if let Some(s) = f.since {
        wheres.push("m.created_at >= ?".into());
        args.push(Value::Integer(s));
    }
    if let Some(u) = f.until {
        wheres.push("m.created_at <= ?".into());
        args.push(Value::Integer(u));
    }
    if let Some(folder) = f.folder_id {
        wheres.push(
            "c.folder_id IN (WITH RECURSIVE sub(id) AS (SELECT ? UNION \
             SELECT fo.id FROM folders fo JOIN sub ON fo.parent_id = sub.id) SELECT id FROM sub)"
                .into(),
        );
        args.push(Value::Integer(folder));
    }
    if let Some(tag) = f.tag_id {
        wheres.push(
            "EXISTS (SELECT 1 FROM conversation_tags ct WHERE ct.conversation_id = c.id AND ct.tag_id = ?)"
                .into(),
        );
        args.push(Value::Integer(tag));
    }
    match f.rated {
        Some(true) => wheres.push("EXISTS (SELECT 1 FROM ratings r WHERE r.message_id = m.id)".into()),
        Some(false) => wheres.push(
            "m.role = 'assistant' AND NOT EXISTS (SELECT 1 FROM ratings r WHERE r.message_id = m.id)"
                .into(),
        ),
        None => {}
    }
    let arena =
        "EXISTS (SELECT 1 FROM battles b WHERE b.source = 'arena' AND b.conversation_id = c.id)";
    match f.arena {
        Some(true) => wheres.push(arena.into()),
        Some(false) => wheres.push(format!("NOT {arena}")),
        None => {}
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderFacet {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagFacet {
    pub id: i64,
    pub name: String,
    pub color: String,
}

/// What the filters can choose from: models that wrote replies, folders, tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub models: Vec<String>,
    pub folders: Vec<FolderFacet>,
    pub tags: Vec<TagFacet>,
}

/// At most this many of each facet.
const MAX_FACETS: i64 = 500;

pub fn facets(conn: &Connection) -> Result<Facets> {
    let models = conn
        .prepare_cached(
            "SELECT model FROM messages WHERE model IS NOT NULL AND role = 'assistant'
             UNION SELECT model FROM conversations WHERE model IS NOT NULL ORDER BY 1 LIMIT ?1",
        )?
        .query_map([MAX_FACETS], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    let folders = conn
        .prepare_cached("SELECT id, name, parent_id FROM folders ORDER BY position, name LIMIT ?1")?
        .query_map([MAX_FACETS], |r| {
            Ok(FolderFacet {
                id: r.get(0)?,
                name: r.get(1)?,
                parent_id: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let tags = conn
        .prepare_cached("SELECT id, name, color FROM tags ORDER BY name LIMIT ?1")?
        .query_map([MAX_FACETS], |r| {
            Ok(TagFacet {
                id: r.get(0)?,
                name: r.get(1)?,
                color: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Facets {
        models,
        folders,
        tags,
    })
}

/// The same search as a plain LIKE scan over every message (the benchmark's baseline).
pub fn like_scan(conn: &Connection, query: &str, limit: usize) -> Result<Vec<i64>> {
    let words = terms(query);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let wheres: Vec<&str> = words.iter().map(|_| "content LIKE ? ESCAPE '\\'").collect();
    let sql = format!(
        "SELECT id FROM messages WHERE {} ORDER BY id DESC LIMIT {}",
        wheres.join(" AND "),
        limit.min(MAX_LIMIT)
    );
    let mut st = conn.prepare(&sql)?;
    let ids = st
        .query_map(
            params_from_iter(words.iter().map(|w| like_pattern(w))),
            |r| r.get(0),
        )?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// A hit's time for people: local `YYYY-MM-DD HH:MM`.
pub fn local_time(ms: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_millis_opt(ms) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M").to_string()
        }
        chrono::LocalResult::None => ms.to_string(),
    }
}

/// Folds a character for matching (case-insensitive, one char for one char).
fn fold(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// A window of `content` around the first match, cut into plain and matched parts. A search shows
/// 50 of these as the user types: the text is folded once, the first match found by comparing
/// slices, and nothing is allocated per character.
pub fn snippet(content: &str, words: &[String]) -> Vec<SnippetPart> {
    let chars: Vec<char> = content.chars().collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold(c)).collect();
    let needles: Vec<Vec<char>> = words
        .iter()
        .map(|w| w.chars().map(fold).collect::<Vec<_>>())
        .filter(|w: &Vec<char>| !w.is_empty())
        .collect();
    // The length of the longest needle matching the folded text from `i`.
    let match_len = |i: usize| -> usize {
        needles
            .iter()
            .filter(|n| folded.len() >= i + n.len() && folded[i..i + n.len()] == n[..])
            .map(|n| n.len())
            .max()
            .unwrap_or(0)
    };
    let first = needles
        .iter()
        .filter_map(|n| folded.windows(n.len()).position(|w| w == &n[..]))
        .min()
        .unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_BEFORE);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &[char], hit: bool| {
        if text.is_empty() {
            return;
        }
        let text = text
            .iter()
            .map(|&c| if c.is_whitespace() { ' ' } else { c });
        match parts.last_mut() {
            Some(last) if last.hit == hit => last.text.extend(text),
            _ => parts.push(SnippetPart {
                text: text.collect(),
                hit,
            }),
        }
    };
    if start > 0 {
        push(&['…'], false);
    }
    let (mut i, mut plain) = (start, start);
    while i < end {
        let len = match_len(i);
        if len > 0 {
            push(&chars[plain..i], false);
            let stop = (i + len).min(end);
            push(&chars[i..stop], true);
            i = stop;
            plain = i;
        } else {
            i += 1;
        }
    }
    push(&chars[plain..end], false);
    if end < chars.len() {
        push(&['…'], false);
    }
    parts
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "search_snippet_tests.rs"]
mod snippet_tests;
