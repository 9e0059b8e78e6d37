//! Snippets: a window of a message around the first match of the query's words, cut into plain
//! and matched parts (`search.rs` makes one per hit).

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
}

impl Needles {
    pub(super) fn new(words: &[String]) -> Self {
        let chars: Vec<Vec<char>> = words
            .iter()
            .map(|w| w.chars().map(fold).collect::<Vec<_>>())
            .filter(|w: &Vec<char>| !w.is_empty())
            .collect();
        Needles {
            texts: chars.iter().map(|n| n.iter().collect()).collect(),
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

/// A search shows 50 snippets as the user types: the first match is found in the folded text as a
/// string search, and only the window is read as characters.
pub(super) fn snippet_of(content: &str, needles: &Needles) -> Vec<SnippetPart> {
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
