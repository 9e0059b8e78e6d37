//! The conversation importer (Parley JSON when the file starts with `{`, a ChatGPT
//! conversations.json when it starts with `[`) on any bytes: an import or a clear error, never a
//! panic; an error writes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parley_core::db::Db;

fn file() -> &'static std::path::Path {
    static PATH: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            std::path::PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("parley-fuzz-import-{}.json", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).unwrap();
    let db = Db::open_in_memory().unwrap();
    let result = db.with(|c| parley_core::transfer::import_file(c, file(), &mut |_| true));
    let count = |table: &str| {
        db.with(|c| Ok(c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0))?))
            .unwrap()
    };
    match result {
        Err(_) => {
            assert_eq!(count("conversations"), 0);
            assert_eq!(count("messages"), 0);
        }
        Ok(summary) => assert_eq!(count("conversations") as usize, summary.conversations),
    }
});
