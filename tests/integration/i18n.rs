//! Every UI string is in both languages, and every key the markup or the scripts use exists.

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The keys of one language table in ui/js/i18n.js (`'key': '…'` lines).
fn keys(table: &str) -> BTreeSet<String> {
    table
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix('\'')?;
            let end = rest.find("':")?;
            Some(rest[..end].to_string())
        })
        .collect()
}

fn tables() -> (BTreeSet<String>, BTreeSet<String>) {
    let src = read("ui/js/i18n.js");
    let en_start = src.find("en: {").expect("an en table");
    let zh_start = src.find("'zh-CN': {").expect("a zh-CN table");
    (keys(&src[en_start..zh_start]), keys(&src[zh_start..]))
}

#[test]
fn chinese_covers_every_english_string() {
    let (en, zh) = tables();
    assert!(en.len() > 50, "the en table was read ({} keys)", en.len());
    let missing: Vec<_> = en.difference(&zh).collect();
    assert!(missing.is_empty(), "missing in zh-CN: {missing:?}");
}

#[test]
fn keys_used_in_the_markup_exist() {
    let (en, _) = tables();
    let html = read("ui/index.html");
    let mut used = Vec::new();
    for attr in [
        "data-i18n=\"",
        "data-i18n-placeholder=\"",
        "data-i18n-title=\"",
        "data-i18n-aria-label=\"",
    ] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            used.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    assert!(used.len() > 10);
    let unknown: Vec<_> = used.iter().filter(|k| !en.contains(*k)).collect();
    assert!(
        unknown.is_empty(),
        "unknown i18n keys in index.html: {unknown:?}"
    );
}

#[test]
fn keys_used_in_the_scripts_exist() {
    let (en, zh) = tables();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/js");
    let mut unknown = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for (i, _) in src.match_indices("t('") {
            // The function `t(`, not the end of `emit(` or `closest(`.
            let before = src[..i].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            let rest = &src[i + 3..];
            let key = &rest[..rest.find('\'').unwrap()];
            if !en.contains(key) && !zh.contains(key) {
                unknown.push(key.to_string());
            }
        }
    }
    assert!(unknown.is_empty(), "t() with unknown keys: {unknown:?}");
}

#[test]
fn every_request_parameter_has_a_label_in_both_languages() {
    let (en, zh) = tables();
    for spec in parley_core::params::SPEC {
        let key = format!("params.{}", spec.key());
        assert!(en.contains(&key) && zh.contains(&key), "no label {key}");
    }
}
