//! Search correctness: English, Chinese and Japanese inside words, short queries, hostile syntax,
//! filters, snippets, and an index that follows edits, deletes and imports.

use super::*;
use crate::db::migrations::migrate;

pub(super) fn db() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    migrate(&mut c).unwrap();
    register_functions(&c).unwrap();
    c.execute_batch(
        "INSERT INTO profiles(id, name, created_at) VALUES (1, 'default', 0), (10, 'work', 0);
         INSERT INTO folders(id, name, parent_id, created_at) VALUES (1, 'top', NULL, 0), (2, 'sub', 1, 0);
         INSERT INTO tags(id, name, created_at) VALUES (1, 'rust', 0);
         INSERT INTO conversations(id, title, model, created_at, updated_at) VALUES
             (1, 'Cooking', 'gpt-4o', 0, 0), (2, '中文', 'qwen', 0, 0), (3, 'Archived one', NULL, 0, 0);
         UPDATE conversations SET archived = 1, folder_id = 2, profile_id = 10 WHERE id = 3;
         INSERT INTO conversation_tags VALUES (2, 1);
         INSERT INTO messages(id, conversation_id, parent_id, role, content, status, model, created_at) VALUES
             (1, 1, NULL, 'user', 'How do I bake sourdough bread?', 'done', NULL, 1000),
             (2, 1, 1, 'assistant', 'Mix flour, water and a starter; bake at 250°C.', 'done', 'gpt-4o', 2000),
             (3, 1, 1, 'assistant', 'Another branch: a pizza dough instead.', 'done', 'gpt-4o-mini', 3000),
             (4, 2, NULL, 'user', '我们今天讨论机器学习的基本原理吧', 'done', NULL, 4000),
             (5, 2, 4, 'assistant', '好的，机器学习是人工智能的一个分支。日本語の文章も検索できます。', 'done', 'qwen', 5000),
             (6, 3, NULL, 'user', 'Quotes \"NEAR\" (a* -b and 100% of_it', 'done', NULL, 6000),
             (7, 3, 6, 'assistant', 'still streaming sourdough', 'streaming', 'm', 7000);
         INSERT INTO battles(source, conversation_id, model_a, model_b, created_at) VALUES ('arena', 2, 'a', 'b', 0);
         INSERT INTO ratings(message_id, thumb, updated_at) VALUES (2, 1, 0);",
    )
    .unwrap();
    c
}

pub(super) fn ids(c: &Connection, q: &str, f: &SearchFilter) -> Vec<i64> {
    search(c, q, f, 50)
        .unwrap()
        .into_iter()
        .map(|h| h.message_id)
        .collect()
}

pub(super) fn all() -> SearchFilter {
    SearchFilter::default()
}

#[test]
fn finds_english_inside_words_case_insensitively_newest_first() {
    let c = db();
    assert_eq!(ids(&c, "ourdoug", &all()), vec![1]);
    assert_eq!(ids(&c, "BAKE", &all()), vec![2, 1]);
    assert_eq!(ids(&c, "bake flour", &all()), vec![2]);
}

#[test]
fn finds_chinese_and_japanese_inside_a_sentence() {
    let c = db();
    assert_eq!(ids(&c, "机器学习", &all()), vec![5, 4]);
    assert_eq!(ids(&c, "人工智能的", &all()), vec![5]);
    assert_eq!(ids(&c, "検索でき", &all()), vec![5]);
}

#[test]
fn two_character_and_one_character_queries_still_work() {
    let c = db();
    assert_eq!(ids(&c, "学习", &all()), vec![5, 4]);
    assert_eq!(ids(&c, "分支", &all()), vec![5]);
    assert_eq!(ids(&c, "日", &all()), vec![5]);
    assert_eq!(ids(&c, "a*", &all()), vec![6]);
    // A short word beside a long one narrows the long one's hits.
    assert_eq!(ids(&c, "机器学习 分支", &all()), vec![5]);
}

#[test]
fn hostile_query_syntax_is_searched_as_text_never_an_error() {
    let c = db();
    for q in [
        "\"",
        "\"NEAR\"",
        "NEAR",
        "(a*",
        "-b",
        "a* -b",
        ")",
        "AND OR NOT",
        "^",
        "'",
        "100%",
        "of_it",
        "\\",
        "NEAR(a b)",
        "{col}:x",
        "\u{0}",
        "\"NEAR(a*_%\"\\",
    ] {
        search(&c, q, &all(), 50).unwrap_or_else(|e| panic!("{q:?}: {e}"));
    }
    assert_eq!(ids(&c, "\"NEAR\"", &all()), vec![6]);
    assert_eq!(ids(&c, "(a*", &all()), vec![6]);
    assert_eq!(ids(&c, "100%", &all()), vec![6]);
    // `%` and `_` are not wildcards.
    assert!(ids(&c, "10%0", &all()).is_empty());
    assert!(ids(&c, "o_i", &all()).is_empty());
    assert_eq!(ids(&c, "f_i", &all()), vec![6]);
    assert!(ids(&c, "   ", &all()).is_empty());
}

#[test]
fn archived_conversations_are_searched_and_streaming_replies_are_not() {
    let c = db();
    let hits = search(&c, "Quotes", &all(), 50).unwrap();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].archived);
    assert_eq!(hits[0].title, "Archived one");
    assert_eq!(ids(&c, "sourdough", &all()), vec![1]);
    assert_eq!(ids(&c, "st", &all()), vec![3, 2]);
}

#[test]
fn filters_narrow_the_hits() {
    let c = db();
    let f = |f: SearchFilter| ids(&c, "a", &f);
    assert_eq!(
        f(SearchFilter {
            model: Some("gpt-4o".into()),
            ..all()
        }),
        vec![2, 1],
        "a user message counts under its conversation's model"
    );
    assert_eq!(
        f(SearchFilter {
            model: Some("qwen".into()),
            ..all()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(
            &c,
            "机器",
            &SearchFilter {
                model: Some("qwen".into()),
                ..all()
            }
        ),
        vec![5, 4]
    );
    assert_eq!(
        f(SearchFilter {
            profile_id: Some(10),
            ..all()
        }),
        vec![6]
    );
    assert_eq!(
        f(SearchFilter {
            since: Some(2500),
            until: Some(6000),
            ..all()
        }),
        vec![6, 3]
    );
    assert_eq!(
        f(SearchFilter {
            folder_id: Some(1),
            ..all()
        }),
        vec![6]
    );
    assert_eq!(
        ids(
            &c,
            "学",
            &SearchFilter {
                tag_id: Some(1),
                ..all()
            }
        ),
        vec![5, 4]
    );
    assert_eq!(
        f(SearchFilter {
            tag_id: Some(1),
            ..all()
        }),
        Vec::<i64>::new()
    );
    assert_eq!(
        f(SearchFilter {
            rated: Some(true),
            ..all()
        }),
        vec![2]
    );
    assert_eq!(
        f(SearchFilter {
            rated: Some(false),
            ..all()
        }),
        vec![3]
    );
    assert_eq!(
        ids(
            &c,
            "的",
            &SearchFilter {
                arena: Some(true),
                ..all()
            }
        ),
        vec![5, 4]
    );
    assert_eq!(
        ids(
            &c,
            "的",
            &SearchFilter {
                arena: Some(false),
                ..all()
            }
        ),
        Vec::<i64>::new()
    );
}

#[test]
fn the_index_follows_edits_deletes_and_imports() {
    let c = db();
    c.execute("UPDATE messages SET content = 'rye loaf' WHERE id = 1", [])
        .unwrap();
    assert!(ids(&c, "sourdough", &all()).is_empty());
    assert_eq!(ids(&c, "rye loaf", &all()), vec![1]);
    // A reply that finishes streaming becomes searchable.
    c.execute("UPDATE messages SET status = 'done' WHERE id = 7", [])
        .unwrap();
    assert_eq!(ids(&c, "sourdough", &all()), vec![7]);
    // A deleted conversation is hidden, its undo shows it again, the purge removes it from the index.
    c.execute("UPDATE conversations SET deleted_at = 1 WHERE id = 2", [])
        .unwrap();
    assert!(ids(&c, "机器学习", &all()).is_empty());
    c.execute(
        "UPDATE conversations SET deleted_at = NULL WHERE id = 2",
        [],
    )
    .unwrap();
    assert_eq!(ids(&c, "机器学习", &all()), vec![5, 4]);
    c.execute("DELETE FROM conversations WHERE id = 2", [])
        .unwrap();
    assert!(ids(&c, "机器学习", &all()).is_empty());
    // An import writes rows in one transaction: they are found at once.
    c.execute_batch(
        "BEGIN;
         INSERT INTO conversations(id, title, created_at, updated_at) VALUES (9, 'imported', 0, 0);
         INSERT INTO messages(id, conversation_id, role, content, status, created_at)
             VALUES (90, 9, 'user', '导入的对话 imported words', 'done', 9000);
         COMMIT;",
    )
    .unwrap();
    assert_eq!(ids(&c, "导入", &all()), vec![90]);
    assert_eq!(ids(&c, "imported", &all()), vec![90]);
    c.execute(
        "INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')",
        [],
    )
    .unwrap();
}

#[test]
fn the_like_baseline_finds_the_same_messages() {
    let c = db();
    for q in ["机器学习", "bake", "a*"] {
        assert_eq!(like_scan(&c, q, 50).unwrap(), ids(&c, q, &all()), "{q}");
    }
}

#[test]
fn facets_list_models_folders_and_tags() {
    let c = db();
    let f = facets(&c).unwrap();
    assert_eq!(f.models, vec!["gpt-4o", "gpt-4o-mini", "m", "qwen"]);
    assert_eq!(f.folders.len(), 2);
    let sub = f.folders.iter().find(|x| x.name == "sub").unwrap();
    assert_eq!(sub.parent_id, Some(1));
    assert_eq!(f.tags[0].name, "rust");
}

/// Messages over a small alphabet (ASCII in both cases and a few Chinese characters), so every
/// pair of characters turns up at the start, inside and at the end of messages, and alone.
fn pair_corpus() -> Connection {
    let mut c = db();
    let alphabet: Vec<char> = "abAB x机器学习".chars().collect();
    let mut rng = 11u64;
    let tx = c.transaction().unwrap();
    for i in 0..3_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let len = 1 + (rng % 9) as usize;
        let text: String = (0..len)
            .map(|k| alphabet[((rng >> (k * 4)) % alphabet.len() as u64) as usize])
            .collect();
        tx.execute(
            "INSERT INTO messages(conversation_id, role, content, status, created_at) VALUES (1, 'user', ?1, 'done', ?2)",
            rusqlite::params![text, 10_000 + i],
        )
        .unwrap();
    }
    // Newer messages without any of those characters: the pairs are rare among the newest.
    for i in 0..PAIR_SAMPLE {
        tx.execute(
            "INSERT INTO messages(conversation_id, role, content, status, created_at) VALUES (1, 'user', 'zzqq', 'done', ?1)",
            [20_000 + i],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    c
}

#[test]
fn two_character_words_find_exactly_what_a_like_scan_finds() {
    let c = pair_corpus();
    let chars: Vec<char> = "abAB x机器学习".chars().filter(|c| *c != ' ').collect();
    let mut looked_up = 0;
    for &a in &chars {
        for &b in &chars {
            let q: String = [a, b].iter().collect();
            if rarest_pair(&c, &[&q]).unwrap().is_some() {
                looked_up += 1;
            }
            let found: Vec<i64> = search(&c, &q, &all(), MAX_LIMIT)
                .unwrap()
                .iter()
                .map(|h| h.message_id)
                .collect();
            assert_eq!(found, like_scan(&c, &q, MAX_LIMIT).unwrap(), "query {q}");
        }
    }
    // The index did the work for the pairs (none is common in 3,000 short messages).
    assert_eq!(looked_up, chars.len() * chars.len());
}

#[test]
fn a_two_character_word_ending_a_message_or_making_all_of_it_is_found() {
    let c = db();
    c.execute_batch(
        "INSERT INTO messages(id, conversation_id, role, content, status, created_at) VALUES
             (20, 2, 'user', '学习', 'done', 20), (21, 2, 'user', '我们学习', 'done', 21),
             (22, 1, 'user', 'go XY', 'done', 22), (23, 1, 'user', 'xy', 'done', 23);",
    )
    .unwrap();
    assert!(rarest_pair(&c, &[&"学习".to_string()]).unwrap().is_some());
    assert_eq!(ids(&c, "学习", &all()), vec![21, 20, 5, 4]);
    assert_eq!(ids(&c, "xy", &all()), vec![23, 22]);
    // Not in the index while it streams, and not found by the scan either.
    assert_eq!(ids(&c, "ug", &all()), vec![3, 1]);
}

#[test]
fn a_two_character_word_with_letters_the_index_folds_differently_is_scanned() {
    let c = db();
    assert!(rarest_pair(&c, &[&"Éa".to_string()]).unwrap().is_none());
    assert!(rarest_pair(&c, &[&"ab".to_string()]).unwrap().is_some());
}

/// `n` messages of `text`, newest last, in one transaction.
pub(super) fn add_many(c: &mut Connection, text: &str, n: usize) {
    let tx = c.transaction().unwrap();
    for i in 0..n {
        tx.execute(
            "INSERT INTO messages(conversation_id, role, content, status, created_at) VALUES (2, 'user', ?1, 'done', ?2)",
            rusqlite::params![text, 100 + i as i64],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

#[test]
fn a_two_character_word_common_among_the_newest_messages_is_scanned() {
    let mut c = db();
    // A few newest messages: still few instances, so the index answers (as cheaply).
    add_many(&mut c, "学习中文", PAIR_COMMON_IN_SAMPLE as usize);
    assert!(rarest_pair(&c, &[&"学习".to_string()]).unwrap().is_some());
    assert_eq!(ids(&c, "学习", &all()), like_scan(&c, "学习", 50).unwrap());
    // Past `PAIR_QUICK` instances and common among the newest: the scan meets its hits at once.
    add_many(&mut c, "学习中文", PAIR_QUICK);
    assert!(rarest_pair(&c, &[&"学习".to_string()]).unwrap().is_none());
    assert_eq!(ids(&c, "学习", &all()), like_scan(&c, "学习", 50).unwrap());
}

#[test]
fn a_two_character_word_in_too_many_messages_is_scanned_even_when_rare_lately() {
    let mut c = db();
    add_many(&mut c, "学习中文", PAIR_MAX_INSTANCES + 1);
    add_many(&mut c, "zzqq", PAIR_SAMPLE as usize);
    assert!(rarest_pair(&c, &[&"学习".to_string()]).unwrap().is_none());
    assert_eq!(ids(&c, "学习", &all()), like_scan(&c, "学习", 50).unwrap());
    // The rarer of two words is the one looked up.
    c.execute(
        "INSERT INTO messages(conversation_id, role, content, status, created_at) VALUES (2, 'user', '学习德语', 'done', 1)",
        [],
    )
    .unwrap();
    let (word, docs) = rarest_pair(&c, &[&"学习".to_string(), &"德语".to_string()])
        .unwrap()
        .unwrap();
    assert_eq!((word.as_str(), docs.len()), ("德语", 0));
    assert_eq!(ids(&c, "学习 德语", &all()).len(), 1);
}

#[test]
fn long_words_find_exactly_what_a_like_scan_finds_whatever_way_finds_them() {
    // Three letters: every trigram is common and turns up at every distance, so the cheap ways
    // meet many messages without the word, and some give way.
    let mut c = db();
    let mut next = crate::testing::xorshift(5);
    let letters = ['a', 'b', 'c', 'B', ' '];
    let texts: Vec<String> = (0..2_000)
        .map(|_| (0..5 + next(40)).map(|_| letters[next(5)]).collect())
        .collect();
    let tx = c.transaction().unwrap();
    for (i, t) in texts.iter().enumerate() {
        tx.execute(
            "INSERT INTO messages(conversation_id, role, content, status, created_at) VALUES (1, 'user', ?1, 'done', ?2)",
            rusqlite::params![t, i as i64],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    let word = |next: &mut dyn FnMut(usize) -> usize| -> String {
        (0..3 + next(7)).map(|_| letters[next(4)]).collect()
    };
    let mut gave_way = 0;
    for round in 0..150 {
        let mut q = word(&mut next);
        if round % 3 == 0 {
            q = format!("{q} {}", word(&mut next));
        }
        let (hits, ways) = search_ways(&c, &q, &all(), MAX_LIMIT).unwrap();
        let found: Vec<i64> = hits.iter().map(|h| h.message_id).collect();
        assert_eq!(found, like_scan(&c, &q, MAX_LIMIT).unwrap(), "query {q}");
        gave_way += usize::from(ways > 1);
    }
    assert!(gave_way > 0, "no query exercised a way giving way");
}

#[test]
fn a_long_word_whose_trigrams_are_everywhere_ends_with_its_phrase() {
    let mut c = db();
    add_many(&mut c, "abababab is here", 3);
    // Newer: both of the word's trigrams, closer than in the word, in every message.
    add_many(&mut c, "abab", MAX_MISSES + 10);
    let plans = word_plans(&c, "abababab");
    assert!(
        plans.len() >= 2 && plans[0].starts_with("NEAR("),
        "{plans:?}"
    );
    assert_eq!(plans.last(), Some(&fts_phrase("abababab")));
    let (hits, ways) = search_ways(&c, "ABABABAB", &all(), 50).unwrap();
    assert_eq!(hits.len(), 3);
    assert_eq!(ways, plans.len());
    // Short words, and words the index folds otherwise than LIKE, have the phrase only.
    assert_eq!(word_plans(&c, "ababa"), vec![fts_phrase("ababa")]);
    assert_eq!(word_plans(&c, "ÉÉÉÉÉÉ"), vec![fts_phrase("ÉÉÉÉÉÉ")]);
}

#[test]
fn a_trigram_in_many_messages_costs_more_than_a_rare_one() {
    let mut c = db();
    add_many(&mut c, "common words fill pages of the index", 3_000);
    let pages = plan::trigram_pages(&c, &["com".into(), "zqx".into()]).unwrap();
    assert!(pages[0] > pages[1] && pages[1] >= 1, "{pages:?}");
    // The cheapest pair spanning half the word leads: one of its trigrams is from the rare end.
    add_many(&mut c, "zqxcommon", 1);
    // Two segments now: the larger one (more than half the pages) alone stands for the index.
    assert!(crate::db::compact::index_segments(&c).unwrap() >= 2);
    let pages = plan::trigram_pages(&c, &["com".into(), "zqx".into()]).unwrap();
    assert!(pages[0] > pages[1] && pages[1] >= 1, "{pages:?}");
    let first = &word_plans(&c, "zqxcommon")[0];
    assert!(
        ["zqx", "qxc", "xco"]
            .iter()
            .any(|t| first.contains(&format!("\"{t}\""))),
        "{first}"
    );
}
