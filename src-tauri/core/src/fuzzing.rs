//! What each cargo-fuzz target of `fuzz/` checks, in one place: the targets call these, and the
//! `fuzz_regressions` tests run them on every seed and every kept crash input
//! (`fuzz/seeds/<target>/`, `fuzz/regressions/<target>/`). Built only for tests and the
//! `fuzzing` feature.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::db::Db;
use crate::openai::client::{decode_stream, decode_whole, StreamEvent, MAX_REPLY_BYTES};
use crate::openai::sse::SseParser;

/// What a target checks of one input (it panics when the check fails).
pub type Check = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/` file.
pub const TARGETS: [(&str, Check); 7] = [
    ("sse", sse),
    ("responses_stream", responses_stream),
    ("parley_import", parley_import),
    ("chatgpt_import", chatgpt_import),
    ("prompt_import", prompt_import),
    ("suite_config", suite_config),
    ("variables", variables),
];

/// A scratch path of this process and thread (in memory when /dev/shm exists).
fn scratch(name: &str) -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let thread = format!("{:?}", std::thread::current().id());
    let thread: String = thread.chars().filter(char::is_ascii_digit).collect();
    base.join(format!(
        "parley-fuzz-{}-{thread}-{name}",
        std::process::id()
    ))
}

/// The SSE parser on any bytes, split at any points: never panics, and splitting never changes
/// the items (the first byte of the input chooses the split size).
pub fn sse(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let items = |parts: &mut dyn Iterator<Item = &[u8]>| {
        let mut p = SseParser::new();
        let mut out: Vec<String> = parts
            .flat_map(|b| p.feed(b))
            .map(|i| format!("{i:?}"))
            .collect();
        out.extend(p.finish().into_iter().map(|i| format!("{i:?}")));
        out
    };
    let whole = items(&mut std::iter::once(body));
    let split = items(&mut body.chunks(usize::from(split).max(1)));
    assert_eq!(whole, split);
}

/// The Responses API stream reader (SSE events by `type`) and its whole-`response` form on any
/// bytes: never panics, splitting the stream never changes what it yields, and the reply cap
/// holds. The first byte of the input chooses the split size.
pub fn responses_stream(data: &[u8]) {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let whole = decode_stream(body, usize::MAX);
    let parts = decode_stream(body, usize::from(split).max(1));
    assert_eq!(whole.0, parts.0);
    assert_eq!(format!("{:?}", whole.1), format!("{:?}", parts.1));
    let text: usize = whole
        .0
        .iter()
        .map(|e| match e {
            StreamEvent::Delta { text, .. } | StreamEvent::Reasoning { text, .. } => text.len(),
            _ => 0,
        })
        .sum();
    assert!(text <= MAX_REPLY_BYTES);
    let _ = decode_whole(body);
}

/// A database an import target shares between inputs, and how many it has taken: opening one
/// runs every migration, so it serves many inputs and is replaced now and then to stay small.
type Shared = Mutex<Option<(Db, u32)>>;
static IMPORT_DB: Shared = Mutex::new(None);
static PROMPT_DB: Shared = Mutex::new(None);

/// Runs `f` on the shared database of `slot`.
fn with_shared(slot: &Shared, f: impl FnOnce(&Db)) {
    let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
    if guard.as_ref().is_none_or(|(_, n)| *n >= 2000) {
        *guard = Some((Db::open_in_memory().unwrap(), 0));
    }
    let (db, n) = guard.as_mut().unwrap();
    *n += 1;
    f(db)
}

fn count(db: &Db, table: &str) -> i64 {
    db.with(|c| Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?))
        .unwrap()
}

/// A conversation importer on any bytes: an import or a clear error, never a panic; an error
/// writes nothing; a success writes what its summary says. `first` picks the importer (`{`
/// Parley JSON, `[` a ChatGPT conversations.json); other inputs are left alone.
fn import(data: &[u8], first: u8) {
    let start = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    if start.trim_ascii_start().first() != Some(&first) {
        return;
    }
    let file = scratch("import.json");
    std::fs::write(&file, data).unwrap();
    with_shared(&IMPORT_DB, |db| {
        let before = (count(db, "conversations"), count(db, "messages"));
        let result = db.with(|c| crate::transfer::import_file(c, &file, &mut |_| true));
        let after = (count(db, "conversations"), count(db, "messages"));
        match result {
            Err(_) => assert_eq!(before, after),
            Ok(summary) => {
                assert_eq!((after.0 - before.0) as usize, summary.conversations);
                assert_eq!((after.1 - before.1) as usize, summary.messages);
            }
        }
    });
    let _ = std::fs::remove_file(&file);
}

/// The Parley JSON conversation importer.
pub fn parley_import(data: &[u8]) {
    import(data, b'{')
}

/// The ChatGPT export importer.
pub fn chatgpt_import(data: &[u8]) {
    import(data, b'[')
}

/// The prompt library importer (Parley JSON or act,prompt CSV) on any text: an import or a clear
/// error, never a panic; an error writes nothing.
pub fn prompt_import(data: &[u8]) {
    use crate::prompts::transfer;
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    with_shared(&PROMPT_DB, |db| {
        let before = (count(db, "prompts"), count(db, "prompt_versions"));
        if transfer::import_batched(db, text).is_err() {
            let after = (count(db, "prompts"), count(db, "prompt_versions"));
            assert_eq!(before, after);
        }
    });
}

/// The suite config reader (promptfoo YAML with its `file://` tests in CSV, YAML or JSON and
/// prompt files) on any bytes: a suite or a clear error, never a panic; a suite read is whole.
/// The input is the YAML, a NUL byte, then the text of the one other file, written as
/// tests.csv, tests.yaml, p.txt and p.json in the suite's folder.
pub fn suite_config(data: &[u8]) {
    use crate::eval::suite::{config, template};
    let (yaml, file) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(yaml) = std::str::from_utf8(yaml) else {
        return;
    };
    let dir = scratch("suite");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["tests.csv", "tests.yaml", "p.txt", "p.json"] {
        std::fs::write(dir.join(name), file).unwrap();
    }
    let Ok(loaded) = config::parse_str(yaml, &dir) else {
        return;
    };
    let suite = loaded.suite;
    assert!(!suite.prompts.is_empty() && !suite.providers.is_empty());
    assert!(!suite.tests.is_empty() && suite.tests.len() <= config::MAX_TESTS);
    for (i, t) in suite.tests.iter().enumerate() {
        let _ = t.name(i);
        for a in &t.assertions {
            for text in a.templates() {
                let used = template::variables(text).expect("checked by the reader");
                assert!(used.iter().all(|v| t.vars.contains_key(v)));
            }
        }
    }
}

/// The prompt variables parser on any text: a template or a clear error, never a panic.
pub fn variables(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::prompts::variables::parse(text);
    }
}

#[cfg(test)]
#[path = "fuzzing_tests.rs"]
mod fuzz_regressions;
