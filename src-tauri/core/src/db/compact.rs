//! Giving back the space of deleted rows: the search index is checked (rebuilt if it fails) and
//! merged into one segment, `VACUUM` rewrites the file without its free pages, then a WAL
//! checkpoint folds the rewrite into the file and truncates the WAL. Settings → "Compact".
//!
//! Why the merge: the trigram index grows by segments (one per write, merged four at a time), and
//! a search looks each of its trigrams up in every segment. On the 1,000,000-message bench
//! database of real words (22 segments as built) Compact takes ~76 s and 1,850 → 1,759 MB; search
//! p50 for a common English word 0.67 → 0.29 ms, a rare one 1.09 → 0.78 ms (`cargo bench --bench
//! bench -- search_1m`, README "Performance"). The index's segments are read here too
//! (`index_structure`): the search costs a word's trigrams in the largest of them.

use std::path::Path;

use rusqlite::Connection;

use crate::error::Result;

/// The database's size on disk before and after compacting (main file plus its WAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Compacted {
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// The search index failed its own check and was rebuilt from the messages.
    pub index_rebuilt: bool,
}

/// The file and its WAL, in bytes (0 for what does not exist).
pub fn bytes_on_disk(db_file: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let wal = db_file.with_file_name(format!(
        "{}-wal",
        db_file.file_name().unwrap_or_default().to_string_lossy()
    ));
    size(db_file) + size(&wal)
}

/// Checkpoints, vacuums and checkpoints again on the one connection (callers hold it, so no
/// write of a streaming reply interleaves). Needs free disk space about the file's size; without
/// it SQLite fails and the file stays as it was.
pub fn vacuum(conn: &Connection, db_file: &Path) -> Result<Compacted> {
    let checkpoint = |c: &Connection| -> Result<()> {
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    };
    checkpoint(conn)?;
    let bytes_before = bytes_on_disk(db_file);
    // FTS5's own check of the search index (every entry against the others; the start-up check
    // leaves it out, db/mod.rs): an index that fails it is rebuilt from the messages.
    let index_rebuilt = match conn
        .execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
    {
        Ok(()) => false,
        Err(e) if super::is_corruption(&e) => {
            conn.execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")?;
            true
        }
        Err(e) => return Err(e.into()),
    };
    conn.execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")?;
    // The merge rewrote the whole index into the WAL: fold it in before VACUUM writes the whole
    // file there again, so the WAL never holds both.
    checkpoint(conn)?;
    conn.execute_batch("VACUUM")?;
    checkpoint(conn)?;
    Ok(Compacted {
        bytes_before,
        bytes_after: bytes_on_disk(db_file),
        index_rebuilt,
    })
}

/// How many segments the search index has.
pub fn index_segments(conn: &Connection) -> Result<u64> {
    Ok(index_structure(conn)?.len() as u64)
}

/// One segment of the search index: its id, level, and how many leaf pages it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSegment {
    pub id: u64,
    pub level: u64,
    pub pages: u64,
}

/// The search index's segments, from its structure record (FTS5's format: a 4-byte cookie, a
/// 4-byte marker in version 2, the number of levels, of segments and the write counter, then per
/// level its merge state and segment count, and per segment its id and first and last leaf page,
/// followed in version 2 by five more numbers; all SQLite varints: big-endian, seven bits a byte,
/// the high bit set on all but the last, the ninth byte whole).
pub fn index_structure(conn: &Connection) -> Result<Vec<IndexSegment>> {
    let record: Vec<u8> = conn
        .prepare_cached("SELECT block FROM messages_fts_data WHERE id = 10")?
        .query_row([], |r| r.get(0))?;
    parse_structure(&record).ok_or_else(|| crate::error::Error::Database {
        message: "the search index's structure record is cut short".into(),
    })
}

fn parse_structure(record: &[u8]) -> Option<Vec<IndexSegment>> {
    let v2 = record.get(4..8) == Some(&[0xff, 0, 0, 1]);
    let mut at = if v2 { 8 } else { 4 };
    let mut varint = || {
        let mut v = 0u64;
        for i in 0..9 {
            let byte = *record.get(at)?;
            at += 1;
            if i == 8 {
                return Some((v << 8) | u64::from(byte));
            }
            v = (v << 7) | u64::from(byte & 0x7f);
            if byte < 0x80 {
                return Some(v);
            }
        }
        None
    };
    let levels = varint()?;
    let total = varint()?;
    let _writes = varint()?;
    let mut segments = Vec::new();
    for level in 0..levels {
        let _merging = varint()?;
        for _ in 0..varint()? {
            let (id, first, last) = (varint()?, varint()?, varint()?);
            if v2 {
                for _ in 0..5 {
                    varint()?;
                }
            }
            segments.push(IndexSegment {
                id,
                level,
                pages: (last + 1).saturating_sub(first),
            });
        }
    }
    (segments.len() as u64 == total).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{conversation_with, Db, DB_FILE};

    #[test]
    fn compacting_gives_back_the_space_of_deleted_rows_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let path = dir.path().join(DB_FILE);
        let filler = "x".repeat(600);
        let kept = db
            .with(|c| {
                let kept = conversation_with(c, ["keep me".to_string()])?;
                let tx = c.transaction()?;
                let gone = conversation_with(&tx, std::iter::repeat_n(filler, 2_000))?;
                tx.commit()?;
                c.execute("DELETE FROM messages WHERE conversation_id = ?1", [gone])?;
                Ok(kept)
            })
            .unwrap();
        let done = db.with(|c| vacuum(c, &path)).unwrap();
        assert!(
            done.bytes_after * 2 < done.bytes_before,
            "the free pages went back: {done:?}"
        );
        assert_eq!(done.bytes_after, bytes_on_disk(&path));
        let text: String = db
            .with(|c| {
                Ok(c.query_row(
                    "SELECT content FROM messages WHERE conversation_id = ?1",
                    [kept],
                    |r| r.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(text, "keep me");
    }

    /// A conversation of three messages holding "needle", written one by one.
    fn needles(c: &Connection) -> Result<i64> {
        conversation_with(c, (0..3).map(|i| format!("a haystack with a needle, {i}")))
    }

    /// Both versions of FTS5's structure record: levels, segments and their leaf pages, a two-byte
    /// varint among them; a record cut short is refused, not read as fewer segments.
    #[test]
    fn the_structure_record_names_each_segment_with_its_level_and_pages() {
        let segments = |v2: bool| {
            let mut r = vec![0, 0, 0, 7];
            if v2 {
                r.extend([0xff, 0, 0, 1]);
            }
            // Two levels, three segments, write counter 300; level 0: segments 1 (page 1) and 2
            // (pages 2–3); level 1: segment 3 (pages 4–10, 130 as a two-byte varint in v2's fields).
            r.extend([2, 3, 0x82, 0x2c]);
            let extra: &[u8] = if v2 { &[0, 0, 0, 0x81, 0x02, 9] } else { &[] };
            r.extend([0, 2, 1, 1, 1]);
            r.extend(extra);
            r.extend([2, 2, 3]);
            r.extend(extra);
            r.extend([0, 1, 3, 4, 10]);
            r.extend(extra);
            r
        };
        for v2 in [false, true] {
            let record = segments(v2);
            let parsed = parse_structure(&record).unwrap();
            let seg = |id, level, pages| IndexSegment { id, level, pages };
            assert_eq!(
                parsed,
                [seg(1, 0, 1), seg(2, 0, 2), seg(3, 1, 7)],
                "v2 {v2}"
            );
            assert_eq!(parse_structure(&record[..record.len() - 1]), None);
        }
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        db.with(|c| {
            needles(c)?;
            let live = index_structure(c)?;
            assert_eq!(live.len(), 3);
            assert!(
                live.iter().all(|s| s.level == 0 && s.pages >= 1),
                "{live:?}"
            );
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn compacting_merges_the_search_index_into_one_segment_and_search_finds_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let (db, _) = Db::open_dir(dir.path()).unwrap();
        let path = dir.path().join(DB_FILE);
        let find = |c: &Connection| {
            crate::db::search::search(c, "needle", &Default::default(), 50)
                .map(|hits| hits.iter().map(|h| h.message_id).collect::<Vec<_>>())
        };
        let before = db
            .with(|c| {
                // Each write adds a segment (four are merged into one, so three stay apart).
                needles(c)?;
                assert_eq!(index_segments(c)?, 3);
                find(c)
            })
            .unwrap();
        assert_eq!(before.len(), 3);
        let done = db.with(|c| vacuum(c, &path)).unwrap();
        assert!(!done.index_rebuilt, "a sound index is kept: {done:?}");
        db.with(|c| {
            assert_eq!(index_segments(c)?, 1);
            assert_eq!(find(c)?, before);
            Ok(())
        })
        .unwrap();
    }

    /// The start-up check leaves FTS5's own check of the search index out (db/mod.rs): a file
    /// whose index entries are damaged but whose pages are sound opens as it is, and Compact finds
    /// the damage, rebuilds the index from the messages, and search finds them again.
    #[test]
    fn a_damaged_search_index_opens_and_compact_rebuilds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let find = |c: &Connection| {
            crate::db::search::search(c, "needle", &Default::default(), 50)
                .map(|hits| hits.len())
                .unwrap_or(0)
        };
        let fts_check = |c: &Connection| {
            c.execute_batch("INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')")
        };
        {
            let (db, _) = Db::open_dir(dir.path()).unwrap();
            db.with(|c| {
                needles(c)?;
                assert_eq!(find(c), 3);
                // One leaf of the index gone: every page of the file stays sound.
                c.execute(
                    "DELETE FROM messages_fts_data WHERE id = (SELECT max(id) FROM messages_fts_data)",
                    [],
                )?;
                assert!(crate::db::is_corruption(&fts_check(c).unwrap_err()));
                Ok(())
            })
            .unwrap();
        }
        let (db, notices) = Db::open_dir(dir.path()).unwrap();
        assert!(notices.is_empty(), "opened as it is: {notices:?}");
        let done = db.with(|c| vacuum(c, &path)).unwrap();
        assert!(done.index_rebuilt, "{done:?}");
        db.with(|c| {
            fts_check(c)?;
            assert_eq!(find(c), 3);
            Ok(())
        })
        .unwrap();
    }
}
