//! Search over every message of every conversation (all branches, archived ones too) through the
//! trigram FTS5 index of migration 2. The user's text is never FTS syntax: each word becomes a quoted
//! FTS5 string, so quotes, `*`, `NEAR`, `-` and brackets are searched as text. Words shorter than
//! three characters (a trigram index cannot look them up) are matched with an escaped LIKE: beside a
//! longer word over its candidates only; a rare two-character word over the messages holding a
//! trigram that starts with it (read in one pass over the index's instances) or ending with it;
//! otherwise as a newest-first scan that stops at the limit. How each word is looked up is
//! `search_plan.rs`'s part.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use serde::{Deserialize, Serialize};

use crate::error::Result;

#[path = "search_plan.rs"]
mod plan;
#[path = "search_snippet.rs"]
mod snippets;
use plan::{rarest_pair, word_plans, MAX_MISSES};
#[cfg(test)]
use plan::{PAIR_COMMON_IN_SAMPLE, PAIR_MAX_INSTANCES, PAIR_QUICK, PAIR_SAMPLE};
#[cfg(test)]
use snippets::{fold, CASELESS, INTO_ASCII};
use snippets::{needs_fold, snippet_of, Needles, HOLDS_FOLDED};
pub use snippets::{register_functions, snippet};

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

/// The condition that a message holds `word` (its argument: [`holds_arg`]): an escaped LIKE, which
/// ignores the case of ASCII letters only, or for a word with other cased letters the folded
/// match the index makes (`НЕ` finds `не` as `НЕТ` finds `нет`).
fn holds_sql(word: &str) -> String {
    if needs_fold(word) {
        format!("{HOLDS_FOLDED}(m.content, ?)")
    } else {
        "m.content LIKE ? ESCAPE '\\'".into()
    }
}

fn holds_arg(word: &str) -> Value {
    if needs_fold(word) {
        Value::Text(word.chars().map(snippets::fold).collect())
    } else {
        Value::Text(like_pattern(word))
    }
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
    Ok(search_ways(conn, query, filter, limit)?.0)
}

/// The search, and how many ways of looking its words up it tried (the tests' view of the plan).
fn search_ways(
    conn: &Connection,
    query: &str,
    filter: &SearchFilter,
    limit: usize,
) -> Result<(Vec<SearchHit>, usize)> {
    let words = terms(query);
    if words.is_empty() || limit == 0 {
        return Ok((Vec::new(), 0));
    }
    let limit = limit.min(MAX_LIMIT);
    let (long, short): (Vec<&String>, Vec<&String>) =
        words.iter().partition(|w| w.chars().count() >= 3);
    // Each long word's ways to look it up, cheapest first (plan.rs); those with more than one are
    // checked by a LIKE in the last column, and a way that meets too many messages without its
    // word gives way to the next.
    let plans: Vec<Vec<String>> = long.iter().map(|w| word_plans(conn, w)).collect();
    let checked: Vec<&String> = long
        .iter()
        .zip(&plans)
        .filter(|(_, p)| p.len() > 1)
        .map(|(w, _)| *w)
        .collect();
    let holds = match checked.len() {
        0 => "1".to_string(),
        _ => checked
            .iter()
            .map(|w| holds_sql(w))
            .collect::<Vec<_>>()
            .join(" AND "),
    };
    let checked: Vec<Value> = checked.iter().map(|w| holds_arg(w)).collect();
    let mut sql = format!(
        "SELECT m.id, m.conversation_id, c.title, m.role, m.model, m.created_at, c.archived, m.content, \
         {holds} "
    );
    let checks = !checked.is_empty();
    let mut args: Vec<Value> = checked;
    let mut wheres: Vec<String> = vec!["c.deleted_at IS NULL".into()];
    // The MATCH argument's place and its expressions, cheapest first (none for short words only).
    let mut matches: Vec<(usize, String)> = Vec::new();
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
        let depth = plans.iter().map(Vec::len).max().unwrap_or(1);
        for level in 0..depth {
            let expr: Vec<&str> = plans
                .iter()
                .map(|p| p[level.min(p.len() - 1)].as_str())
                .collect();
            let expr = expr.join(" AND ");
            if matches.last().is_none_or(|(_, e)| *e != expr) {
                matches.push((args.len(), expr));
            }
        }
        args.push(Value::Null);
        sql.push_str(
            "FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             JOIN conversations c ON c.id = m.conversation_id ",
        );
        wheres.push("messages_fts MATCH ?".into());
    }
    for w in &short {
        args.push(holds_arg(w));
        wheres.push(holds_sql(w));
    }
    // A conversation with no profile of its own is the default profile's (as everywhere else).
    let default_profile = match filter.profile_id {
        Some(_) => Some(super::profiles::default_id(conn)?),
        None => None,
    };
    push_filters(filter, default_profile, &mut wheres, &mut args);
    sql.push_str("WHERE ");
    sql.push_str(&wheres.join(" AND "));
    sql.push_str(if long.is_empty() {
        " ORDER BY m.id DESC LIMIT ?"
    } else {
        " ORDER BY f.rowid DESC LIMIT ?"
    });
    args.push(Value::Integer(limit as i64));
    let mut st = conn.prepare_cached(&sql)?;
    let ways = matches.len().max(1);
    for way in 0..ways {
        let last = way + 1 == ways;
        if let Some((at, expr)) = matches.get(way) {
            args[*at] = Value::Text(expr.clone());
        }
        // A way that can give way reads at most `MAX_MISSES` messages past the limit; the last
        // one reads on until the limit's hits (-1: no limit).
        let rows_limit = match (checks, last) {
            (false, _) => limit as i64,
            (true, true) => -1,
            (true, false) => (limit + MAX_MISSES + 1) as i64,
        };
        *args.last_mut().expect("the limit") = Value::Integer(rows_limit);
        let misses_allowed = if last { usize::MAX } else { MAX_MISSES };
        if let Some(hits) = read_hits(&mut st, &args, limit, misses_allowed)? {
            let needles = Needles::new(&words);
            let hits = hits
                .into_iter()
                .map(|(mut hit, content)| {
                    hit.snippet = snippet_of(&content, &needles);
                    hit
                })
                .collect();
            return Ok((hits, way + 1));
        }
    }
    Ok((Vec::new(), ways))
}

/// The rows whose last column says they hold every checked word, with their text, up to `limit`;
/// None once more than `misses_allowed` rows did not.
fn read_hits(
    st: &mut rusqlite::Statement<'_>,
    args: &[Value],
    limit: usize,
    misses_allowed: usize,
) -> Result<Option<Vec<(SearchHit, String)>>> {
    let mut rows = st.query(params_from_iter(args.iter()))?;
    let mut hits = Vec::new();
    let mut misses = 0;
    while let Some(r) = rows.next()? {
        if !r.get::<_, bool>(8)? {
            misses += 1;
            if misses > misses_allowed {
                return Ok(None);
            }
            continue;
        }
        hits.push((
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
            r.get(7)?,
        ));
        if hits.len() == limit {
            break;
        }
    }
    Ok(Some(hits))
}

fn push_filters(
    f: &SearchFilter,
    default_profile: Option<i64>,
    wheres: &mut Vec<String>,
    args: &mut Vec<Value>,
) {
    if let Some(model) = &f.model {
        wheres.push("(m.model = ? OR (m.model IS NULL AND c.model = ?))".into());
        args.push(Value::Text(model.clone()));
        args.push(Value::Text(model.clone()));
    }
    if let Some(p) = f.profile_id {
        if default_profile == Some(p) {
            wheres.push("(c.profile_id = ? OR c.profile_id IS NULL)".into());
        } else {
            wheres.push("c.profile_id = ?".into());
        }
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

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "search_snippet_tests.rs"]
mod snippet_tests;

#[cfg(test)]
#[path = "search_case_tests.rs"]
mod case_tests;
