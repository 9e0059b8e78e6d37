//! How the search looks its words up in the trigram index (the plan; `search.rs` runs it).
//!
//! - A rare two-character word (no trigram of its own): the messages holding a trigram that starts
//!   with it, read from the index's instances.
//! - A longer word the index folds as LIKE does (ASCII, caseless CJK): its trigrams are costed from
//!   the index's own b-tree (how many leaf pages each one's list fills) and the word is first looked
//!   up as the two cheapest trigrams that span at least half of it, at their distance (`NEAR`), then
//!   as its first and last trigrams; a LIKE keeps only the messages that hold the word. When a plan
//!   meets more than `MAX_MISSES` messages without the word (a common word that holds the chosen
//!   trigrams at that distance, as "beginning" does for "beginnings"), the next one runs; the last is
//!   the whole phrase of trigrams, as for every other word. Every plan finds exactly what the
//!   LIKE scan finds; the costing only decides how fast.

use rusqlite::Connection;

use super::like_pattern;
use crate::error::Result;

/// A two-character word is looked up through the trigram index only while it is rare: the
/// messages holding a trigram that starts with it are read from the index's instances (one pass
/// over the terms in order, ~0.3 µs an instance), at most `PAIR_MAX_INSTANCES` of them. Past
/// `PAIR_QUICK` instances the word may be common among the newest messages (then the
/// newest-first scan meets its hits at once and is cheaper): checked on the newest `PAIR_SAMPLE`.
/// Measured over 1,000,000 messages (README): a rare word's 688 instances in 0.35 ms, where the
/// OR of its 301 trigrams took 28 ms (22 index segments) and the newest-5,000 check 9 ms.
pub(super) const PAIR_QUICK: usize = 2_000;
pub(super) const PAIR_MAX_INSTANCES: usize = 20_000;
pub(super) const PAIR_SAMPLE: i64 = 5_000;
/// A word found this often among the newest `PAIR_SAMPLE` messages counts as common.
pub(super) const PAIR_COMMON_IN_SAMPLE: i64 = 5;

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
pub(super) fn rarest_pair(
    conn: &Connection,
    words: &[&String],
) -> Result<Option<(String, Vec<i64>)>> {
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

/// A plan that meets more messages than this without the word gives way to the next one (each
/// such message costs a row read and a LIKE, ~2 µs: at most ~0.6 ms lost per plan).
pub(super) const MAX_MISSES: usize = 300;

/// The FTS5 expressions that look one word of three characters or more up, cheapest first; the
/// last is the word's whole phrase. More than one only for a word that a LIKE must then check
/// (see the module's note): words of six characters or more, of characters the index folds as LIKE
/// does, with trigrams the index could cost.
pub(super) fn word_plans(conn: &Connection, word: &str) -> Vec<String> {
    let phrase = super::fts_phrase(word);
    let chars: Vec<char> = word.chars().map(|c| c.to_ascii_lowercase()).collect();
    if chars.len() < 6 || !chars.iter().all(|&c| pair_char(c)) {
        return vec![phrase];
    }
    let trigrams: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
    let pages = match trigram_pages(conn, &trigrams) {
        Ok(pages) if pages.len() == trigrams.len() => pages,
        Ok(_) | Err(_) => {
            crate::trace("search: the index's trigrams could not be costed; the phrase is used");
            return vec![phrase];
        }
    };
    let last = trigrams.len() - 1;
    // The pair spanning at least half the word whose dearer trigram is the cheapest.
    let mut best = (0, last);
    let mut best_cost = (i64::MAX, i64::MAX);
    for i in 0..last {
        for j in i + 1..=last {
            let cost = (pages[i].max(pages[j]), pages[i] + pages[j]);
            if 2 * (j - i) >= last && cost < best_cost {
                (best, best_cost) = ((i, j), cost);
            }
        }
    }
    let near = |(i, j): (usize, usize)| {
        let (a, b) = (
            super::fts_phrase(&trigrams[i]),
            super::fts_phrase(&trigrams[j]),
        );
        format!("NEAR({a} {b}, {})", j - i - 1)
    };
    let mut plans = vec![near(best)];
    if best != (0, last) {
        plans.push(near((0, last)));
    }
    plans.push(phrase);
    plans
}

/// What reading each trigram's list would cost: the leaf pages it spans in the index's largest
/// segments, from the index's b-tree of first terms (FTS5's `_idx` table: a term, prefixed by the
/// index's number, `0`, and the page it starts), one page at least per segment. Only a cost: the
/// hits never depend on it. The largest segments that hold half the index's leaf pages stand for
/// all of it (FTS5 merges segments by levels, so the oldest hold most of the entries): as built the
/// 1,000,000-message bench index has 22 segments, two of which hold two thirds of its pages, and
/// looking each trigram up in all 22 took 160–320 µs of a 1–3 ms search.
pub(super) fn trigram_pages(conn: &Connection, trigrams: &[String]) -> Result<Vec<i64>> {
    let mut segments = crate::db::compact::index_structure(conn)?;
    segments.sort_by_key(|s| std::cmp::Reverse(s.pages));
    let all: u64 = segments.iter().map(|s| s.pages).sum();
    let mut held = 0;
    let ids: Vec<u64> = segments
        .iter()
        .take_while(|s| {
            let more = 2 * held < all;
            held += s.pages;
            more
        })
        .map(|s| s.id)
        .collect();
    // The trigrams and the segments as JSON arrays (they cannot fail to serialize).
    let list = serde_json::to_string(trigrams).unwrap_or_default();
    let ids = serde_json::to_string(&ids).unwrap_or_default();
    let mut st = conn.prepare_cached(
        "WITH seg(id) AS (SELECT value FROM json_each(?2)),
         t(k, term) AS (SELECT key, CAST('0' || value AS BLOB) FROM json_each(?1))
         SELECT sum(coalesce(
             (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id AND term > t.term
              ORDER BY term LIMIT 1)
             - (SELECT pgno FROM messages_fts_idx WHERE segid = seg.id AND term <= t.term
                ORDER BY term DESC LIMIT 1), 0) + 1)
         FROM t, seg GROUP BY t.k ORDER BY t.k",
    )?;
    let pages = st
        .query_map([list, ids], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(pages)
}
