//! Import and export of the prompt library: Parley JSON (lossless, every version) and CSV in the
//! awesome-chatgpt-prompts shape (`act,prompt`). An import is one transaction: all or nothing, and
//! it reports what it skipped as duplicates.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::library::{self, Draft};
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

fn exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT count(*) FROM prompts WHERE name = ?1",
        [name],
        |r| r.get::<_, i64>(0),
    )? > 0)
}

/// Imports Parley JSON or `act,prompt` CSV (told apart by content). All or nothing.
pub fn import(conn: &mut Connection, text: &str) -> Result<ImportReport> {
    let prompts = if text.trim_start().starts_with('{') {
        let lib: Library = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("This is not a Parley prompt library: {e}")))?;
        if lib.format != FORMAT {
            return Err(Error::invalid(format!(
                "This JSON is {:?}, not a Parley prompt library.",
                lib.format
            )));
        }
        lib.prompts
    } else {
        from_csv(text)?
    };
    let tx = conn.transaction()?;
    let mut report = ImportReport::default();
    for p in prompts {
        if p.versions.is_empty() {
            continue;
        }
        if exists(&tx, &p.name)?
            || report
                .imported
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&p.name))
        {
            report.duplicates.push(p.name);
            continue;
        }
        for v in &p.versions {
            let saved = library::save_in(&tx, &p.name, v.draft.clone(), &v.message)
                .map_err(|e| Error::invalid(format!("Prompt {}: {e}", p.name)))?;
            if v.created_at > 0 {
                tx.execute(
                    "UPDATE prompt_versions SET created_at = ?2 WHERE id = ?1",
                    params![saved.latest.id, v.created_at],
                )?;
            }
        }
        if p.favourite {
            library::set_favourite(&tx, &p.name, true)?;
        }
        report.imported.push(p.name);
    }
    tx.commit()?;
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
                    preset: Some(serde_json::json!({"model": "gpt-4o-mini", "temperature": 0.2})),
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
                versions[0].draft.preset,
                Some(serde_json::json!({"model": "gpt-4o-mini", "temperature": 0.2}))
            );
            assert!(library::get(c, "two")?.favourite);
            // The same file again: everything is a duplicate, nothing changes.
            let again = import(c, &json)?;
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
}
