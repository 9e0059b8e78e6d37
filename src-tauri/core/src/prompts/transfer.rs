//! Import and export of the prompt library: Parley JSON (lossless, every version) and CSV in the
//! awesome-chatgpt-prompts shape (`act,prompt`). An import is one transaction: all or nothing, and
//! it reports what it skipped as duplicates.

use std::collections::HashSet;

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::library::{self, Draft};
use super::preset::Preset;
use crate::error::{Error, Result};

pub(crate) const FORMAT: &str = "parley-prompts";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportedVersion {
    pub version: i64,
    #[serde(flatten)]
    pub draft: Draft,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExportedPrompt {
    pub name: String,
    #[serde(default)]
    pub favourite: bool,
    /// Oldest first.
    pub versions: Vec<ExportedVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Library {
    pub format: String,
    pub version: u32,
    pub prompts: Vec<ExportedPrompt>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub imported: Vec<String>,
    /// Names already in the library (or twice in the file): left as they were.
    pub duplicates: Vec<String>,
}

/// The whole library, every version, as Parley JSON.
pub(crate) fn export_json(conn: &Connection) -> Result<String> {
    let mut prompts = Vec::new();
    let mut all = library::list(conn, "", library::Sort::Name)?;
    all.sort_by_key(|p| p.name.to_lowercase());
    for p in all {
        let mut versions: Vec<ExportedVersion> = library::versions(conn, &p.name)?
            .into_iter()
            .map(|v| ExportedVersion {
                version: v.version,
                draft: v.draft,
                message: v.message,
                created_at: v.created_at,
            })
            .collect();
        versions.reverse();
        prompts.push(ExportedPrompt {
            name: p.name,
            favourite: p.favourite,
            versions,
        });
    }
    let lib = Library {
        format: FORMAT.into(),
        version: 1,
        prompts,
    };
    serde_json::to_string_pretty(&lib).map_err(|e| Error::invalid(e.to_string()))
}

/// A name from an awesome-chatgpt-prompts `act`: "Linux Terminal" → "linux-terminal".
pub(crate) fn name_from_act(act: &str) -> String {
    let mut out = String::new();
    for c in act.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(60).collect()
}

/// Prompts written per transaction by [`import_batched`]: between two, the database lock is free
/// (a streaming reply checkpoints in between).
pub const IMPORT_BATCH: usize = 500;

/// The largest preset accepted (as JSON): it names a model and a few parameters.
pub const MAX_PRESET_BYTES: usize = 16 * 1024;

/// One prompt to write: its versions validated, consecutive identical ones folded.
struct Planned {
    name: String,
    favourite: bool,
    versions: Vec<ExportedVersion>,
}

fn parse(text: &str) -> Result<Vec<ExportedPrompt>> {
    // A byte-order mark (some Windows editors write one) is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        let lib: Library = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("This is not a Parley prompt library: {e}")))?;
        if lib.format != FORMAT {
            return Err(Error::invalid(format!(
                "This JSON is {:?}, not a Parley prompt library.",
                lib.format
            )));
        }
        Ok(lib.prompts)
    } else {
        from_csv(text)
    }
}

/// An imported preset is data (SECURITY.md L2): bounded, an object, and it never selects a
/// profile (nor a key): those are the user's choice on this machine.
fn imported_preset(name: &str, preset: Option<Preset>) -> Result<Option<Preset>> {
    let Some(mut preset) = preset else {
        return Ok(None);
    };
    preset.profile_id = None;
    let preset = preset
        .validate()
        .map_err(|e| Error::invalid(format!("Prompt {name}: its preset: {e}")))?;
    if serde_json::to_string(&preset).map_or(0, |s| s.len()) > MAX_PRESET_BYTES {
        return Err(Error::invalid(format!(
            "Prompt {name}: its preset is larger than {} KB.",
            MAX_PRESET_BYTES / 1024
        )));
    }
    Ok(Some(preset))
}

/// The library's names, ASCII-lowercased (names are unique under COLLATE NOCASE).
fn taken_names(conn: &Connection) -> Result<HashSet<String>> {
    Ok(conn
        .prepare("SELECT name FROM prompts")?
        .query_map([], |r| r.get::<_, String>(0))?
        .map(|n| n.map(|n| n.to_ascii_lowercase()))
        .collect::<rusqlite::Result<_>>()?)
}

/// Parses and checks everything before anything is written; linear in the file.
fn plan(mut taken: HashSet<String>, text: &str) -> Result<(Vec<Planned>, ImportReport)> {
    let mut report = ImportReport::default();
    let mut planned = Vec::new();
    for p in parse(text)? {
        if p.versions.is_empty() {
            continue;
        }
        let name = library::clean_name(&p.name)
            .map_err(|e| Error::invalid(format!("Prompt {}: {e}", p.name)))?;
        // The library's names are unique without regard to ASCII case (COLLATE NOCASE).
        if !taken.insert(name.to_ascii_lowercase()) {
            report.duplicates.push(p.name);
            continue;
        }
        let mut versions: Vec<ExportedVersion> = Vec::with_capacity(p.versions.len());
        for mut v in p.versions {
            v.draft.preset = imported_preset(&name, v.draft.preset.take())?;
            v.draft = v
                .draft
                .validate()
                .map_err(|e| Error::invalid(format!("Prompt {name}: {e}")))?;
            // An unchanged save adds no version, as in the library.
            if versions.last().is_some_and(|last| last.draft == v.draft) {
                continue;
            }
            versions.push(v);
        }
        report.imported.push(name.clone());
        planned.push(Planned {
            name,
            favourite: p.favourite,
            versions,
        });
    }
    Ok((planned, report))
}

/// Writes planned prompts (new names only, checked by `plan`); returns their ids.
fn write(conn: &Connection, prompts: &[Planned]) -> Result<Vec<i64>> {
    let now = crate::db::now_ms();
    let mut new_prompt = conn.prepare_cached(
        "INSERT INTO prompts(name, favourite, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
    )?;
    let mut new_version = conn.prepare_cached(
        "INSERT INTO prompt_versions(prompt_id, version, title, body, system_prompt, tags, preset,
                                     message, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut ids = Vec::with_capacity(prompts.len());
    for p in prompts {
        new_prompt.execute(params![p.name, p.favourite as i64, now])?;
        let id = conn.last_insert_rowid();
        for (i, v) in p.versions.iter().enumerate() {
            let d = &v.draft;
            new_version.execute(params![
                id,
                i as i64 + 1,
                d.title,
                d.body,
                d.system_prompt,
                serde_json::to_string(&d.tags).unwrap_or_else(|_| "[]".into()),
                d.preset
                    .as_ref()
                    .map(|p| serde_json::to_string(p).unwrap_or_default()),
                v.message.trim(),
                if v.created_at > 0 { v.created_at } else { now },
            ])?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// Imports Parley JSON or `act,prompt` CSV (told apart by content) in one transaction: all or
/// nothing. Linear: names are checked in a set and versions written with one statement each
/// (before: 20k CSV rows took 36 s, 4k versions of one prompt 8 s, both quadratic).
pub fn import(conn: &mut Connection, text: &str) -> Result<ImportReport> {
    let (planned, report) = plan(taken_names(conn)?, text)?;
    let tx = conn.transaction()?;
    write(&tx, &planned)?;
    tx.commit()?;
    Ok(report)
}

/// [`import`] through the shared database, [`IMPORT_BATCH`] prompts per transaction so the lock is
/// released in between. Still all or nothing: a batch that fails removes the batches before it.
pub fn import_batched(db: &crate::db::Db, text: &str) -> Result<ImportReport> {
    // Reading and checking the file needs no lock (the names are read once, under it).
    let (planned, report) = plan(db.with(|c| taken_names(c))?, text)?;
    let mut written: Vec<i64> = Vec::new();
    for batch in planned.chunks(IMPORT_BATCH) {
        let result = db.with(|c| {
            let tx = c.transaction()?;
            let ids = write(&tx, batch)?;
            tx.commit()?;
            Ok(ids)
        });
        match result {
            Ok(ids) => written.extend(ids),
            Err(e) => {
                let undone = db.with(|c| {
                    let tx = c.transaction()?;
                    for id in &written {
                        tx.execute("DELETE FROM prompts WHERE id = ?1", [id])?;
                    }
                    tx.commit()?;
                    Ok(())
                });
                // Not all or nothing after all: say so, and what stays.
                return Err(match undone {
                    Ok(()) => e,
                    Err(u) => Error::invalid(format!(
                        "{e}. The {} prompt(s) imported before it could not be taken out again \
                         ({u}): they stay in the library, and a second import reports them as \
                         already there.",
                        written.len()
                    )),
                });
            }
        }
    }
    Ok(report)
}

fn from_csv(text: &str) -> Result<Vec<ExportedPrompt>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::invalid(format!("The CSV could not be read: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(act), Some(prompt)) = (col("act"), col("prompt")) else {
        return Err(Error::invalid(
            "The CSV needs the columns act and prompt (the awesome-chatgpt-prompts shape).",
        ));
    };
    let mut out = Vec::new();
    // Acts that name alike ("C++ Expert", "C# Expert") are told apart in file order ("c-expert",
    // "c-expert-2"), the same on every import; one act twice (in any case) is one name: a duplicate.
    let mut acts: std::collections::HashMap<String, String> = Default::default();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| Error::invalid(format!("CSV line {}: {e}", i + 2)))?;
        let (a, body) = (row.get(act).unwrap_or(""), row.get(prompt).unwrap_or(""));
        let base = name_from_act(a);
        if base.is_empty() || body.trim().is_empty() {
            continue;
        }
        let (mut name, mut n) = (base.clone(), 1);
        let key = a.trim().to_lowercase();
        while acts.get(&name).is_some_and(|other| *other != key) {
            n += 1;
            name = format!("{base}-{n}");
        }
        acts.insert(name.clone(), key);
        out.push(ExportedPrompt {
            name,
            favourite: false,
            versions: vec![ExportedVersion {
                version: 1,
                draft: Draft {
                    title: a.trim().into(),
                    body: body.into(),
                    ..Default::default()
                },
                message: "imported".into(),
                created_at: 0,
            }],
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "transfer_tests.rs"]
mod tests;
