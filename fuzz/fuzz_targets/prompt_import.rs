//! The prompt library importer (Parley JSON or act,prompt CSV) on any text: an import or a clear
//! error, never a panic; an error writes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use parley_core::db::Db;
use parley_core::prompts::{library, transfer};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let db = Db::open_in_memory().unwrap();
    if transfer::import_batched(&db, text).is_err() {
        let left = db.with(|c| library::list(c, "", library::Sort::Name)).unwrap();
        assert!(left.is_empty());
    }
});
