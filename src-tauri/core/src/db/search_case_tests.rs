//! Search's filters and letter case beside the index: the default profile's conversations, and
//! words with cased letters outside ASCII (which SQLite's LIKE does not fold).

use super::tests::{add_many, all, db, ids};
use super::*;

#[test]
fn the_default_profile_filter_finds_the_conversations_that_name_no_profile() {
    // A new conversation names no profile: it is the default profile's, wherever that filter is
    // picked (before, only those set to the default explicitly were found).
    let c = db();
    let default = crate::db::profiles::default_id(&c).unwrap();
    assert_ne!(default, 10);
    let by = |q: &str, p: i64| {
        ids(
            &c,
            q,
            &SearchFilter {
                profile_id: Some(p),
                ..all()
            },
        )
    };
    assert_eq!(by("a", default), vec![3, 2, 1]);
    assert_eq!(by("sourdough", default), vec![1]);
    assert_eq!(by("a", 10), vec![6]);
    crate::db::profiles::set_default(&c, 10).unwrap();
    assert_eq!(by("a", 10), vec![6, 3, 2, 1]);
    assert_eq!(by("sourdough", 10), vec![1]);
    assert!(by("a", default).is_empty());
}

#[test]
fn words_with_cased_letters_outside_ascii_are_found_in_any_case() {
    // SQLite's LIKE ignores the case of ASCII letters only; the index folds every letter. Short
    // words, and the check of long ones, are matched folded as the index folds (before, `НЕ` did
    // not find `не` while `НЕТ` found `нет`).
    let mut c = db();
    add_many(&mut c, "Он сказал: не приветствие, а ÉCOLE", 1);
    add_many(&mut c, "ОН СКАЗАЛ: НЕ ПРИВЕТСТВИЕ, а école", 1);
    for q in [
        "не",
        "НЕ",
        "Не",
        "он",
        "ПРИВЕТСТВИЕ",
        "приветствие",
        "école",
        "ÉCOLE",
        "éc",
        "ÉC",
    ] {
        assert_eq!(ids(&c, q, &all()), vec![9, 8], "{q}");
    }
    // A long word of letters the index's pair lookups take (fullwidth Latin) is checked by the
    // last column: folded too.
    add_many(&mut c, "ＰＡＲＬＥＹＳ ｐａｒｌｅｙｓ", 1);
    add_many(&mut c, "ＰＡＲＬＥＹＳ", 1);
    assert!(word_plans(&c, "ｐａｒｌｅｙｓ").len() > 1);
    assert_eq!(ids(&c, "ｐａｒｌｅｙｓ", &all()), vec![11, 10]);
    assert_eq!(ids(&c, "ＰａＲｌｅｙｓ", &all()), vec![11, 10]);
    assert!(ids(&c, "нет", &all()).is_empty());
    assert_eq!(ids(&c, "не 学", &all()), Vec::<i64>::new());
    assert!(!needs_fold("abc") && !needs_fold("学习") && !needs_fold("10%"));
    assert!(needs_fold("не") && needs_fold("é") && needs_fold("x.É"));
}
