//! Conversations in and out of Parley: export (Markdown to read, Parley JSON to keep everything) and
//! import (Parley JSON, the ChatGPT data export). Imports stream the file one conversation at a
//! time inside one transaction: a bad file changes nothing and says what is wrong and where.

pub mod chatgpt;
mod images;
pub mod markdown;
pub mod parley;
mod rows;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::db::organise;
use crate::error::{Error, Result};

/// Conversations larger than this are refused on import (a mistake or a hostile file).
pub const MAX_MESSAGES_PER_CONVERSATION: usize = 200_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Markdown,
    Json,
}

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Ids(Vec<i64>),
    /// A folder and every folder below it.
    Folder(i64),
    /// Every conversation that is not deleted (archived ones too).
    All,
}

/// The conversation ids a selection covers, oldest first (so an import keeps their order).
pub fn resolve(conn: &Connection, selection: &Selection) -> Result<Vec<i64>> {
    let ids: Vec<i64> = match selection {
        Selection::Ids(ids) => {
            for &id in ids {
                crate::db::conversations::get(conn, id)?;
            }
            let mut ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            ids
        }
        Selection::Folder(f) => {
            let folders = organise::folder_subtree(conn, *f)?;
            if folders.is_empty() || !organise::list_folders(conn)?.iter().any(|x| x.id == *f) {
                return Err(Error::not_found(format!("folder {f}")));
            }
            let mut out = Vec::new();
            let mut st = conn.prepare(
                "SELECT id FROM conversations WHERE folder_id = ?1 AND deleted_at IS NULL",
            )?;
            for fid in folders {
                for id in st.query_map([fid], |r| r.get(0))? {
                    out.push(id?);
                }
            }
            out.sort_unstable();
            out
        }
        Selection::All => {
            let mut st =
                conn.prepare("SELECT id FROM conversations WHERE deleted_at IS NULL ORDER BY id")?;
            let ids = st
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()?;
            ids
        }
    };
    Ok(ids)
}

/// Writes the selection to `out` in `format`.
pub fn export(
    conn: &Connection,
    selection: &Selection,
    format: Format,
    out: &mut dyn std::io::Write,
) -> Result<usize> {
    let ids = resolve(conn, selection)?;
    match format {
        Format::Json => parley::export(conn, &ids, out)?,
        Format::Markdown => markdown::export(conn, &ids, out)?,
    }
    Ok(ids.len())
}

/// Creates `path` readable by its owner only (0600), writing it whole or not at all: the text
/// goes to `path.partial` first and is renamed when complete.
pub fn write_private(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>,
) -> Result<()> {
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(&partial)?;
    let mut buffered = std::io::BufWriter::new(file);
    let result = write(&mut buffered).and_then(|_| {
        use std::io::Write;
        buffered.flush()?;
        Ok(())
    });
    drop(buffered);
    match result {
        Ok(()) => {
            std::fs::rename(&partial, path)?;
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// A readable file name for an export: `parley-<what>-<YYYY-MM-DD>.<md|json>`.
pub fn default_file_name(what: &str, format: Format) -> String {
    let day = today();
    let what: String = what
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(60)
        .collect();
    let ext = match format {
        Format::Markdown => "md",
        Format::Json => "json",
    };
    format!("parley-{what}-{day}.{ext}")
}

/// Today as YYYY-MM-DD (local time), for readable file names.
pub fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

/// An ISO 8601 time (UTC) for milliseconds since the epoch.
pub fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

// ----- import -----

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportSummary {
    /// "parley" or "chatgpt".
    pub format: String,
    pub conversations: usize,
    pub messages: usize,
    /// Conversations already here (same title, start time and messages): not imported again.
    pub duplicates: usize,
    /// Parts that are not text (images, files, tool output), left out.
    pub skipped_parts: usize,
    /// Messages left out because nothing in them was text.
    pub skipped_messages: usize,
}

/// How far an import is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub bytes_read: u64,
    pub total_bytes: u64,
    pub conversations: usize,
}

/// Counts the bytes read, for progress.
struct Counting<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// What the importers share: the transaction, the running summary, progress and cancel.
pub(crate) struct Sink<'a> {
    pub conn: &'a Connection,
    pub summary: ImportSummary,
    pub total_bytes: u64,
    pub bytes_read: &'a dyn Fn() -> u64,
    /// Called after every conversation; returns false to cancel.
    pub progress: &'a mut dyn FnMut(Progress) -> bool,
    /// The real error behind a serde error raised from inside the stream.
    pub failure: Option<Error>,
}

impl Sink<'_> {
    pub fn tick(&mut self) -> Result<()> {
        let p = Progress {
            bytes_read: (self.bytes_read)(),
            total_bytes: self.total_bytes,
            conversations: self.summary.conversations + self.summary.duplicates,
        };
        if (self.progress)(p) {
            Ok(())
        } else {
            Err(Error::Cancelled)
        }
    }

    /// The id of a conversation already here with the same title, start time and message count.
    pub fn duplicate_of(
        &self,
        title: &str,
        created_at: i64,
        messages: usize,
    ) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT c.id FROM conversations c WHERE c.title = ?1 AND c.created_at = ?2
                   AND c.deleted_at IS NULL
                   AND (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id) = ?3
                 LIMIT 1",
                rusqlite::params![title, created_at, messages as i64],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// Imports a Parley JSON or ChatGPT export (detected from its first character), all or nothing.
/// `progress` is called after each conversation; returning false cancels (nothing is kept).
pub fn import_file(
    conn: &mut Connection,
    path: &Path,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<ImportSummary> {
    let file = std::fs::File::open(path).map_err(|e| Error::Io {
        message: format!("cannot open {}: {e}", path.display()),
    })?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let counting = std::cell::RefCell::new(Counting {
        inner: file,
        read: 0,
    });
    struct Shared<'a, R>(&'a std::cell::RefCell<Counting<R>>);
    impl<R: Read> Read for Shared<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().read(buf)
        }
    }
    let mut reader = BufReader::with_capacity(256 * 1024, Shared(&counting));
    let first = first_byte(&mut reader)?;
    let bytes_read = || counting.borrow().read;
    let tx = conn.transaction()?;
    let mut sink = Sink {
        conn: &tx,
        summary: ImportSummary::default(),
        total_bytes,
        bytes_read: &bytes_read,
        progress,
        failure: None,
    };
    let result = match first {
        Some(b'{') => {
            sink.summary.format = "parley".into();
            parley::import(&mut sink, reader)
        }
        Some(b'[') => {
            sink.summary.format = "chatgpt".into();
            chatgpt::import(&mut sink, reader)
        }
        _ => Err(Error::invalid(format!(
            "{} is neither a Parley export nor a ChatGPT conversations.json (it should start with {{ or [).",
            path.display()
        ))),
    };
    let summary = sink.summary.clone();
    match result {
        Ok(()) => {
            tx.commit()?;
            Ok(summary)
        }
        // Dropping the transaction rolls everything back.
        Err(e) => Err(e),
    }
}

/// The first byte that is not whitespace (or a UTF-8 byte order mark), left unread.
fn first_byte(reader: &mut impl BufRead) -> Result<Option<u8>> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
            reader.consume(3);
            continue;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                reader.consume(i);
                return Ok(Some(b));
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

/// What an importer keeps of an error met inside the stream: a problem of the file becomes
/// `invalid` (with where it is); cancelling, and saving that failed (a full disk, a locked
/// database), keep their own kind.
pub(crate) fn failure(e: Error, message: &str) -> Error {
    match e {
        e @ (Error::Cancelled | Error::Database { .. } | Error::Io { .. }) => e,
        _ => Error::invalid(message),
    }
}

/// Turns a serde_json error (which carries line and column) into Parley's, preferring the real
/// error raised from inside the stream.
pub(crate) fn json_error(sink: &mut Sink, e: serde_json::Error) -> Error {
    if let Some(real) = sink.failure.take() {
        return match real {
            Error::Cancelled => Error::Cancelled,
            // The file is fine; saving it failed (a full disk, a locked database): say that.
            e @ (Error::Database { .. } | Error::Io { .. }) => e,
            other => Error::invalid(format!("{other} ({})", position(&e))),
        };
    }
    if e.is_eof() {
        return Error::invalid(format!(
            "The file ends too early ({}): it is cut off. Nothing was imported.",
            position(&e)
        ));
    }
    Error::invalid(format!("The file is not valid: {e}. Nothing was imported."))
}

fn position(e: &serde_json::Error) -> String {
    format!("line {}, column {}", e.line(), e.column())
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
