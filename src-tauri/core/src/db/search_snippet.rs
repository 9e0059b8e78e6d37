//! Snippets: a window of a message around the first match of the query's words, cut into plain
//! and matched parts (`search.rs` makes one per hit).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;

use super::{SnippetPart, SNIPPET_BEFORE, SNIPPET_CHARS};

/// Characters without case (CJK, kana, Yi, Hangul: checked in a test), folded without a lookup.
pub(super) const CASELESS: [std::ops::RangeInclusive<char>; 2] =
    ['\u{2E80}'..='\u{A4CF}', '\u{AC00}'..='\u{D7A3}'];

/// Folds a character for matching (case-insensitive, one char for one char).
pub(super) fn fold(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else if CASELESS.iter().any(|r| r.contains(&c)) {
        c
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// A word SQLite's LIKE cannot match without regard to case: it has a cased letter outside ASCII
/// (LIKE folds ASCII only; the index folds every letter). Such a word is matched by
/// [`HOLDS_FOLDED`] instead.
pub(super) fn needs_fold(word: &str) -> bool {
    word.chars().any(|c| {
        !c.is_ascii()
            && !CASELESS.iter().any(|r| r.contains(&c))
            && (c.to_lowercase().ne(std::iter::once(c)) || c.to_uppercase().ne(std::iter::once(c)))
    })
}

/// The SQL function `parley_holds(text, folded)`: whether `text`, its letters folded as the index
/// folds them ([`fold`]), holds `folded` (a word already folded). Registered on each connection
/// ([`register_functions`]).
pub(super) const HOLDS_FOLDED: &str = "parley_holds";

/// Registers the search's SQL functions on `conn` (each of Parley's connections, `db::configure`).
pub fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        HOLDS_FOLDED,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let (Ok(text), Ok(word)) = (ctx.get_raw(0).as_str(), ctx.get_raw(1).as_str()) else {
                return Ok(false);
            };
            // A folded word with a letter outside ASCII is never in an ASCII text.
            if text.is_ascii() && !word.is_ascii() {
                return Ok(false);
            }
            Ok(text.chars().map(fold).collect::<String>().contains(word))
        },
    )
}

/// The query's words folded, as characters and as text: made once per search, used for every hit.
pub(super) struct Needles {
    chars: Vec<Vec<char>>,
    texts: Vec<String>,
    /// Each word's first character: where a match can start.
    firsts: Vec<char>,
    /// The longest word, in characters (at least 1).
    reach: usize,
    /// Every word is of characters without case: no other character folds into one of them, so
    /// they are found in the message as it is.
    caseless: bool,
    /// Every word is ASCII: the first match is found in the message's bytes as they are, ASCII's
    /// case ignored (no copy of the message folded), unless the message holds one of the two
    /// characters outside ASCII that fold into it (`INTO_ASCII`).
    ascii: Option<AhoCorasick>,
}

/// The characters outside ASCII whose folded form is ASCII: İ (into i) and the Kelvin sign (into
/// k); a test checks there are no others.
pub(super) const INTO_ASCII: [char; 2] = ['\u{130}', '\u{212A}'];

impl Needles {
    pub(super) fn new(words: &[String]) -> Self {
        let chars: Vec<Vec<char>> = words
            .iter()
            .map(|w| w.chars().map(fold).collect::<Vec<_>>())
            .filter(|w: &Vec<char>| !w.is_empty())
            .collect();
        let texts: Vec<String> = chars.iter().map(|n| n.iter().collect()).collect();
        let ascii = (!texts.is_empty() && texts.iter().all(|t| t.is_ascii()))
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .kind(Some(AhoCorasickKind::NoncontiguousNFA))
                    .build(&texts)
                    .ok()
            })
            .flatten();
        Needles {
            ascii,
            texts,
            firsts: chars.iter().map(|n| n[0]).collect(),
            reach: chars.iter().map(Vec::len).max().unwrap_or(0).max(1),
            caseless: chars
                .iter()
                .flatten()
                .all(|c| CASELESS.iter().any(|r| r.contains(c))),
            chars,
        }
    }
}

/// A window of `content` around the first match, cut into plain and matched parts.
pub fn snippet(content: &str, words: &[String]) -> Vec<SnippetPart> {
    snippet_of(content, &Needles::new(words))
}

/// A search shows 50 snippets as the user types: ASCII words are found in the message as it is
/// (`ascii_snippet`); other words' first match in the folded text as a string search, and only the
/// window is read as characters.
pub(super) fn snippet_of(content: &str, needles: &Needles) -> Vec<SnippetPart> {
    if let Some(parts) = needles
        .ascii
        .as_ref()
        .and_then(|ac| ascii_snippet(content, ac))
    {
        return parts;
    }
    // Folding keeps one character for one, so the first match's place in characters is the same
    // in the folded text and in the message.
    let first_in = |text: &str| {
        let at = needles
            .texts
            .iter()
            .filter_map(|n| text.find(n.as_str()))
            .min();
        at.map_or(0, |at| text[..at].chars().count())
    };
    let first = if needles.caseless {
        first_in(content)
    } else if content.is_ascii() {
        first_in(&content.to_ascii_lowercase())
    } else {
        let mut folded = String::with_capacity(content.len());
        folded.extend(content.chars().map(fold));
        first_in(&folded)
    };
    let start = first.saturating_sub(SNIPPET_BEFORE);
    // The window, and past it as far as a match that starts inside it can reach.
    let chars: Vec<char> = content
        .chars()
        .skip(start)
        .take(SNIPPET_CHARS + needles.reach)
        .collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold(c)).collect();
    let end = chars.len().min(SNIPPET_CHARS);
    let more = chars.len() > SNIPPET_CHARS;
    // The length of the longest needle matching the folded window from `i`.
    let match_len = |i: usize| -> usize {
        needles
            .chars
            .iter()
            .filter(|n| folded.len() >= i + n.len() && folded[i..i + n.len()] == n[..])
            .map(|n| n.len())
            .max()
            .unwrap_or(0)
    };
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: &[char], hit: bool| push_part(&mut parts, text.iter().copied(), hit);
    if start > 0 {
        push(&['…'], false);
    }
    let (mut i, mut plain) = (0, 0);
    while i < end {
        // One comparison per character before any slice is compared.
        let len = if needles.firsts.contains(&folded[i]) {
            match_len(i)
        } else {
            0
        };
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
    if more {
        push(&['…'], false);
    }
    parts
}

/// The snippet of words that are all ASCII, made from the message's bytes as they are: an ASCII byte
/// in UTF-8 is always an ASCII character, so ASCII's case ignored finds what the folded text would,
/// unless the message holds a character outside ASCII that folds into it (then None). The same
/// window and marks as `snippet_of`'s loop: leftmost, longest, cut at the window's end.
fn ascii_snippet(content: &str, ac: &AhoCorasick) -> Option<Vec<SnippetPart>> {
    let bytes = content.as_bytes();
    let folds_into_ascii = INTO_ASCII
        .iter()
        .any(|c| memmem::find(bytes, c.encode_utf8(&mut [0; 4]).as_bytes()).is_some());
    if folds_into_ascii {
        return None;
    }
    let first = ac.find(content).map_or(0, |m| m.start());
    // The window: up to SNIPPET_BEFORE characters before the first match, SNIPPET_CHARS in all,
    // read on as far as the longest word can reach past its end.
    let start = content[..first]
        .char_indices()
        .rev()
        .nth(SNIPPET_BEFORE - 1)
        .map_or(0, |(i, _)| i);
    // Each character's start from the window's on, then the text's end.
    let mut bounds = content[start..]
        .char_indices()
        .map(|(i, _)| start + i)
        .chain(std::iter::once(content.len()));
    let end = bounds.nth(SNIPPET_CHARS).unwrap_or(content.len());
    let reach_end = bounds
        .nth(ac.max_pattern_len() - 1)
        .unwrap_or(content.len());
    let mut parts: Vec<SnippetPart> = Vec::new();
    if start > 0 {
        push_part(&mut parts, "…".chars(), false);
    }
    let mut plain = 0;
    let window = &content[start..reach_end];
    let cut = end - start;
    for m in ac.find_iter(window) {
        if m.start() >= cut {
            break;
        }
        push_part(&mut parts, window[plain..m.start()].chars(), false);
        let stop = m.end().min(cut);
        push_part(&mut parts, window[m.start()..stop].chars(), true);
        plain = stop;
    }
    push_part(&mut parts, window[plain..cut].chars(), false);
    if end < content.len() {
        push_part(&mut parts, "…".chars(), false);
    }
    Some(parts)
}

/// Adds text to the snippet, whitespace as spaces, joined to the last part when both are plain or
/// both matched.
fn push_part(parts: &mut Vec<SnippetPart>, text: impl IntoIterator<Item = char>, hit: bool) {
    let mut text = text
        .into_iter()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .peekable();
    if text.peek().is_none() {
        return;
    }
    match parts.last_mut() {
        Some(last) if last.hit == hit => last.text.extend(text),
        _ => parts.push(SnippetPart {
            text: text.collect(),
            hit,
        }),
    }
}
