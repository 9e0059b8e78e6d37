//! Tests of prompt library import and export.

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
        let csv = "act,prompt\nC++ Expert,a\nC# Expert,b\nC Expert 2,c\nC++ Expert,a\n";
        let names: Vec<String> = from_csv(csv)?.into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["c-expert", "c-expert-2", "c-expert-2-2", "c-expert"]);
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
