//! Search over 1,000,000 messages (mixed English and Chinese): the trigram index against a plain
//! LIKE scan of the same data and the same question; and opening a 10,000-message thread by pages.
//! The 1M database is built once under target/bench-data (minutes) and reused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use parley_core::db::search::{self, SearchFilter};
use parley_core::db::{conversations, messages, Db};

use crate::history;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    ms(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize])
}

/// PARLEY_BENCH_VOCAB=DIR: real words (tests/bench/vocab.py DIR) instead of the built-in
/// vocabulary, whose rarer English words are made of 30 syllables (every trigram common).
fn vocab() -> (history::Vocab, &'static str) {
    match std::env::var_os("PARLEY_BENCH_VOCAB") {
        Some(dir) => (history::Vocab::from_dir(dir.as_ref()), "-wordfreq"),
        None => (history::Vocab::new(), ""),
    }
}

fn database(messages: usize, vocab: &history::Vocab, kind: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/search-{messages}{kind}"));
    let file = dir.join(parley_core::db::DB_FILE);
    if !file.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let partial = dir.join("building");
        let _ = std::fs::remove_dir_all(&partial);
        let (db, _) = Db::open_dir(&partial).unwrap();
        let t = Instant::now();
        // 10,000 conversations of 100 messages each.
        let n = db
            .with(|c| Ok(history::seed_with(c, vocab, messages / 100, 100, 42)))
            .unwrap();
        drop(db);
        println!(
            "search: built {n} messages in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        std::fs::rename(partial.join(parley_core::db::DB_FILE), &file).unwrap();
        let _ = std::fs::remove_dir_all(&partial);
    }
    dir
}

pub fn search_1m() {
    let n = std::env::var("PARLEY_BENCH_SEARCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let (v, kind) = vocab();
    let dir = database(n, &v, kind);
    let (db, _) = Db::open_dir(&dir).unwrap();
    // PARLEY_BENCH_SEARCH_COMPACT=1: Settings → "Compact" first (the index merged into one
    // segment, then VACUUM); the bench database stays compacted for later runs.
    if std::env::var("PARLEY_BENCH_SEARCH_COMPACT").is_ok_and(|v| v == "1") {
        let t = Instant::now();
        let file = dir.join(parley_core::db::DB_FILE);
        db.with(|c| parley_core::db::compact::vacuum(c, &file))
            .unwrap();
        println!("search: compacted in {:.1} s", t.elapsed().as_secs_f64());
    }
    let size = std::fs::metadata(dir.join(parley_core::db::DB_FILE))
        .unwrap()
        .len();
    let segments = db
        .with(|c| parley_core::db::compact::index_segments(c))
        .unwrap();
    println!(
        "search: {n} messages{}, database {:.0} MB, search index in {segments} segments",
        if kind.is_empty() {
            ""
        } else {
            " of real words (wordfreq)"
        },
        size as f64 / 1e6
    );
    // Words by how common they are (rank 0 = the most common word of its language): the first
    // word at or after each rank with at least `min` characters, not already picked.
    let pick = |list: &[String], ranks: &[usize], min: usize| -> Vec<String> {
        let mut picked: Vec<String> = Vec::new();
        for &r in ranks {
            if let Some(w) = list
                .iter()
                .skip(r)
                .find(|w| w.chars().count() >= min && !picked.contains(w))
            {
                picked.push(w.clone());
            }
        }
        picked
    };
    let zh2: Vec<String> =
        v.zh.iter()
            .skip(60)
            .filter(|w| w.chars().count() == 2)
            .take(5)
            .cloned()
            .collect();
    // Rare two-character words (the trigram vocabulary's case; a LIKE scan before).
    let zh2_rare: Vec<String> =
        v.zh.iter()
            .skip(8_000)
            .filter(|w| w.chars().count() == 2)
            .step_by(500)
            .take(5)
            .cloned()
            .collect();
    let groups: Vec<(&str, Vec<String>)> = vec![
        ("english common", pick(&v.en, &[3, 10, 20, 40, 60], 5)),
        ("english mid", pick(&v.en, &[300, 500, 800, 1200, 2000], 5)),
        (
            "english rare",
            pick(&v.en, &[8000, 12000, 15000, 18000, 19000], 5),
        ),
        (
            "chinese 3+ chars",
            pick(&v.zh, &[100, 400, 1500, 5000, 15000], 3),
        ),
        ("chinese 2 chars", zh2),
        ("chinese 2 rare", zh2_rare),
        (
            "two words",
            vec![
                format!("{} {}", v.en[5], v.en[300]),
                format!("{} {}", v.zh[2], v.en[700]),
            ],
        ),
        (
            "none",
            vec![
                "zebrafish".into(),
                "不存在的词语".into(),
                "\"NEAR(a*\"".into(),
            ],
        ),
    ];
    let filter = SearchFilter::default();
    for (label, queries) in groups {
        let mut fts = Vec::new();
        let mut hits = 0;
        for _ in 0..20 {
            for q in &queries {
                let t = Instant::now();
                hits += db
                    .with(|c| search::search(c, q, &filter, 50))
                    .unwrap()
                    .len();
                fts.push(t.elapsed());
            }
        }
        fts.sort();
        let mut like = Vec::new();
        for q in &queries {
            let t = Instant::now();
            db.with(|c| search::like_scan(c, q, 50)).unwrap();
            like.push(t.elapsed());
        }
        like.sort();
        let (f50, l50) = (pct(&fts, 0.5), pct(&like, 0.5));
        println!(
            "search {label:16} {queries:?}\n    index p50 {f50:7.2} ms p95 {:7.2} ms | LIKE scan p50 {l50:8.1} ms p95 {:8.1} ms | {:6.0}x | {:.0} hits/query",
            pct(&fts, 0.95),
            pct(&like, 0.95),
            l50 / f50.max(0.001),
            hits as f64 / fts.len() as f64
        );
    }
}

pub fn thread_page_10k() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    db.with(|c| Ok(history::seed(c, 1, 10_000, 7))).unwrap();
    let conv = db.with(|c| conversations::list(c)).unwrap()[0].id;
    let mut last = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let (total, page) = db
            .with(|c| messages::thread_window(c, conv, 9_970, 30))
            .unwrap();
        assert_eq!((total, page.len()), (10_000, 30));
        last.push(t.elapsed());
        let t = Instant::now();
        db.with(|c| messages::thread(c, conv)).unwrap();
        whole.push(t.elapsed());
    }
    last.sort();
    whole.sort();
    println!(
        "thread 10k: last page of 30 p50 {:.1} ms, whole path p50 {:.1} ms",
        pct(&last, 0.5),
        pct(&whole, 0.5)
    );
}
