//! Snippets: every match marked, long text cut around the first one, and the fast version in
//! agreement with the first, simple one.

use super::*;

#[test]
fn snippets_mark_every_match_and_cut_long_text() {
    let words = terms("bake FLOUR");
    let parts = snippet("Mix flour, water; bake at 250°C.", &words);
    let hits: Vec<&str> = parts
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(hits, vec!["flour", "bake"]);
    let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(joined, "Mix flour, water; bake at 250°C.");
    let long = format!("{}机器学习{}", "前".repeat(500), "后".repeat(500));
    let parts = snippet(&long, &terms("机器"));
    let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
    assert!(joined.starts_with('…') && joined.ends_with('…'));
    assert!(joined.chars().count() <= SNIPPET_CHARS + 2);
    assert!(parts.iter().any(|p| p.hit && p.text == "机器"));
    // Markup in a message is text in the snippet (the window shows it with textContent).
    let parts = snippet("<img src=x onerror=alert(1)> hello", &terms("hello"));
    assert_eq!(parts[0].text, "<img src=x onerror=alert(1)> ");
}

/// The first version of `snippet` (the whole text folded into vectors, a string per character),
/// kept as the reference the faster one must agree with.
fn snippet_reference(content: &str, words: &[String]) -> Vec<SnippetPart> {
    let chars: Vec<char> = content
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let folded: Vec<char> = chars.iter().map(|&c| fold(c)).collect();
    let needles: Vec<Vec<char>> = words
        .iter()
        .map(|w| w.chars().map(fold).collect::<Vec<_>>())
        .filter(|w: &Vec<char>| !w.is_empty())
        .collect();
    let matches_at = |i: usize| -> usize {
        needles
            .iter()
            .filter(|n| folded.len() >= i + n.len() && folded[i..i + n.len()] == n[..])
            .map(|n| n.len())
            .max()
            .unwrap_or(0)
    };
    let first = (0..folded.len()).find(|&i| matches_at(i) > 0).unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_BEFORE);
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut push = |text: String, hit: bool| match parts.last_mut() {
        Some(last) if last.hit == hit => last.text.push_str(&text),
        _ if !text.is_empty() => parts.push(SnippetPart { text, hit }),
        _ => {}
    };
    if start > 0 {
        push("…".into(), false);
    }
    let mut i = start;
    while i < end {
        let len = matches_at(i);
        if len > 0 {
            let stop = (i + len).min(end);
            push(chars[i..stop].iter().collect(), true);
            i = stop;
        } else {
            push(chars[i].to_string(), false);
            i += 1;
        }
    }
    if end < chars.len() {
        push("…".into(), false);
    }
    parts
}

#[test]
fn snippets_agree_with_the_reference_on_random_text() {
    // With the characters that fold into ASCII, and without them (ASCII words are then found in
    // the bytes as they are).
    for (seed, alphabet) in [
        (7, "aAbB \n\té机器学习İ\u{212A}"),
        (8, "aAbBkK \n\tÉé机器学习"),
    ] {
        agree_on_random_text(seed, &alphabet.chars().collect::<Vec<char>>());
    }
}

fn agree_on_random_text(seed: u64, alphabet: &[char]) {
    let mut next = crate::testing::xorshift(seed);
    for round in 0..3_000 {
        let len = next(400);
        let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
        let query: String = (0..1 + next(7))
            .map(|_| alphabet[next(alphabet.len())])
            .collect();
        let words = terms(&query);
        assert_eq!(
            snippet(&text, &words),
            snippet_reference(&text, &words),
            "round {round}: {text:?} / {query:?}"
        );
    }
}

#[test]
fn the_characters_folded_without_a_lookup_have_no_case() {
    for range in CASELESS {
        for c in range {
            assert!(
                c.to_lowercase().eq(std::iter::once(c)),
                "{c:?} has a lowercase"
            );
        }
    }
    // And nothing else folds into them: a word of them is found in the text as it is.
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        if CASELESS.iter().any(|r| r.contains(&fold(c))) {
            assert_eq!(fold(c), c);
        }
    }
}

#[test]
fn only_the_listed_characters_outside_ascii_fold_into_it() {
    let into: Vec<char> = (0x80..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|&c| fold(c).is_ascii())
        .collect();
    assert_eq!(into, INTO_ASCII);
}
