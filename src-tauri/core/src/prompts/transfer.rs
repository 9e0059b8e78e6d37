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
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| Error::invalid(format!("CSV line {}: {e}", i + 2)))?;
        let (a, body) = (row.get(act).unwrap_or(""), row.get(prompt).unwrap_or(""));
        let name = name_from_act(a);
        if name.is_empty() || body.trim().is_empty() {
            continue;
        }
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
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn json_round_trip_keeps_every_version_and_duplicates_are_reported() {
        let a = Db::open_in_memory().unwrap();
        let json = a
            .with(|c| {
                let d = |body: &str| Draft {
                    title: "T".into(),
                    body: body.into(),
                    tags: vec!["x".into()],
                    preset: Some(
                        serde_json::from_value(
                            serde_json::json!({"model": "gpt-4o-mini", "temperature": 0.2}),
                        )
                        .unwrap(),
                    ),
                    ..Default::default()
                };
                library::save(c, "one", d("v1 {{x}}"), "first")?;
                library::save(c, "one", d("v2 {{x}}"), "second")?;
                library::save(c, "two", d("only"), "")?;
                library::set_favourite(c, "two", true)?;
                export_json(c)
            })
            .unwrap();
        let b = Db::open_in_memory().unwrap();
        b.with(|c| {
            let report = import(c, &json)?;
            assert_eq!(report.imported, ["one", "two"]);
            let versions = library::versions(c, "one")?;
            assert_eq!(versions.len(), 2);
            assert_eq!(versions[0].draft.body, "v2 {{x}}");
            assert_eq!(versions[1].message, "first");
            assert_eq!(
                serde_json::to_value(&versions[0].draft.preset).unwrap(),
                serde_json::json!({"model": "gpt-4o-mini", "settings": {"temperature": 0.2}})
            );
            assert!(library::get(c, "two")?.favourite);
            // The same file again (with a byte-order mark, as some editors save it): everything
            // is a duplicate, nothing changes.
            let again = import(c, &format!("\u{feff}{json}"))?;
            assert!(again.imported.is_empty());
            assert_eq!(again.duplicates, ["one", "two"]);
            assert_eq!(library::versions(c, "one")?.len(), 2);
            // Export → import → export is the same library.
            let back = export_json(c)?;
            let strip = |s: &str| -> serde_json::Value { serde_json::from_str(s).unwrap() };
            assert_eq!(strip(&back), strip(&json));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn awesome_chatgpt_prompts_csv_imports_atomically() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let csv = "\"act\",\"prompt\"\n\"Linux Terminal\",\"I want you to act as a linux terminal, say \"\"hi\"\"\"\n\"English Translator\",\"Translate {{text}}\"\n\"Linux Terminal\",\"twice\"\n";
            let report = import(c, csv)?;
            assert_eq!(report.imported, ["linux-terminal", "english-translator"]);
            assert_eq!(report.duplicates, ["linux-terminal"]);
            let p = library::get(c, "linux-terminal")?;
            assert_eq!(p.latest.draft.title, "Linux Terminal");
            assert_eq!(p.latest.draft.body, "I want you to act as a linux terminal, say \"hi\"");
            // One bad prompt (an unclosed {{) and nothing from the file is kept.
            let bad = "act,prompt\nGood One,fine\nBad One,broken {{\n";
            assert_eq!(import(c, bad).unwrap_err().kind(), "invalid");
            assert_eq!(library::get(c, "good-one").unwrap_err().kind(), "not_found");
            assert_eq!(import(c, "name,text\na,b\n").unwrap_err().kind(), "invalid");
            assert_eq!(name_from_act("  C++ / Rust Expert! "), "c-rust-expert");
            assert_eq!(name_from_act("中文 翻译"), "中文-翻译");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn an_imported_preset_never_selects_a_profile_and_is_bounded() {
        let db = Db::open_in_memory().unwrap();
        let lib = |preset: serde_json::Value| {
            serde_json::json!({"format": FORMAT, "version": 1, "prompts": [{"name": "p", "versions": [
                {"version": 1, "title": "t", "body": "b", "preset": preset}]}]})
            .to_string()
        };
        let json = lib(
            serde_json::json!({"profileId": 3, "model": "gpt-4o", "settings": {"temperature": 0.5}}),
        );
        db.with(|c| import(c, &json)).unwrap();
        let v = db.with(|c| library::get(c, "p")).unwrap().latest;
        assert_eq!(
            v.draft.preset.map(|p| serde_json::to_value(p).unwrap()),
            Some(serde_json::json!({"model": "gpt-4o", "settings": {"temperature": 0.5}}))
        );
        let huge = lib(
            serde_json::json!({"model": "m", "settings": {"stop": ["x".repeat(MAX_PRESET_BYTES)]}}),
        );
        let db = Db::open_in_memory().unwrap();
        let err = db.with(|c| import(c, &huge)).unwrap_err();
        assert!(err.to_string().contains("preset"), "{err}");
        assert!(db
            .with(|c| library::list(c, "", library::Sort::Name))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_batched_import_writes_every_batch_and_reports_duplicates_once() {
        let db = Db::open_in_memory().unwrap();
        let mut csv = String::from("act,prompt\nDup,first\n");
        for i in 0..(IMPORT_BATCH * 2 + 7) {
            csv.push_str(&format!("Act {i},Body {i}\n"));
        }
        csv.push_str("DUP,again\n");
        let report = import_batched(&db, &csv).unwrap();
        assert_eq!(report.imported.len(), IMPORT_BATCH * 2 + 8);
        assert_eq!(report.duplicates, ["dup"]);
        let n = db
            .with(|c| library::list(c, "", library::Sort::Name))
            .unwrap()
            .len();
        assert_eq!(n, IMPORT_BATCH * 2 + 8);
        // A second import finds every name taken and writes nothing.
        let again = import_batched(&db, &csv).unwrap();
        assert!(again.imported.is_empty());
    }

    /// Measures imports (prints; asserts nothing about time).
    #[test]
    #[ignore]
    fn measure_imports() {
        for rows in [5_000usize, 10_000, 20_000, 80_000] {
            let mut csv = String::from("act,prompt\n");
            for i in 0..rows {
                csv.push_str(&format!("Act {i},Body of prompt {i}\n"));
            }
            let db = Db::open_in_memory().unwrap();
            let t = std::time::Instant::now();
            db.with(|c| import(c, &csv)).unwrap();
            eprintln!("CSV {rows} rows: {:?}", t.elapsed());
        }
        for n in [1_000usize, 2_000, 4_000, 20_000] {
            let versions: Vec<_> = (0..n)
                .map(|i| ExportedVersion {
                    version: i as i64 + 1,
                    draft: Draft {
                        title: "t".into(),
                        body: format!("body {i}"),
                        ..Default::default()
                    },
                    message: String::new(),
                    created_at: 0,
                })
                .collect();
            let lib = Library {
                format: FORMAT.into(),
                version: 1,
                prompts: vec![ExportedPrompt {
                    name: "many".into(),
                    favourite: false,
                    versions,
                }],
            };
            let json = serde_json::to_string(&lib).unwrap();
            let db = Db::open_in_memory().unwrap();
            let t = std::time::Instant::now();
            db.with(|c| import(c, &json)).unwrap();
            eprintln!("{n} versions of one prompt: {:?}", t.elapsed());
        }
    }
}
