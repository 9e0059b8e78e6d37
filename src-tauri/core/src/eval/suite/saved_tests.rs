//! Saved prompts in suites: references read from the library, errors naming the line, the
//! filled request, and each version's pass rate in the prompt's scores.

use std::path::Path;

use super::*;
use crate::db::suites::{self, Grid, ResultRow};
use crate::db::{suite_prompts, Db};
use crate::eval::suite::{cell, config, saved};
use crate::openai::types::Request;
use crate::prompts::library::{self, Draft};
use crate::prompts::review;

fn library_with_two_versions(db: &Db) {
    db.with(|c| {
        let d = |body: &str, system: &str| Draft {
            title: "Summarise".into(),
            body: body.into(),
            system_prompt: system.into(),
            ..Default::default()
        };
        library::save(c, "summarise", d("Summarise {{text}}.", ""), "")?;
        library::save(
            c,
            "summarise",
            d("Summarise {{text}} in {{n:number=3}} words.", "Be brief."),
            "",
        )?;
        Ok(())
    })
    .unwrap();
}

fn suite(prompts: &str) -> Suite {
    let yaml = format!(
        "prompts:\n{prompts}providers: [openai:chat:m, openai:completion:c]\ntests:\n  - vars: {{text: cats}}\n"
    );
    config::parse_str(&yaml, Path::new(".")).unwrap().suite
}

fn chat(s: &Suite, p: usize, v: usize) -> Vec<(String, String)> {
    match cell::request(&s.prompts[p], &s.providers[v], &s.tests[0]).unwrap() {
        Request::Chat(r) => r
            .messages
            .into_iter()
            .map(|m| (m.role, m.content))
            .collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_saved_prompt_is_its_versions_system_prompt_and_body_filled_by_the_librarys_rules() {
    let db = Db::open_in_memory().unwrap();
    library_with_two_versions(&db);
    let mut s =
        suite("  - parley://summarise\n  - parley://summarise@1\n  - parley://summarise@v2\n");
    assert!(saved::pending(&s));
    // Not read yet: no request can be built.
    assert!(cell::request(&s.prompts[0], &s.providers[0], &s.tests[0]).is_err());
    db.with(|c| saved::resolve(c, &mut s)).unwrap();
    assert!(!saved::pending(&s));
    assert_eq!(s.prompts[0].label, "parley://summarise");
    let newest = chat(&s, 0, 0);
    assert_eq!(
        newest,
        [
            ("system".into(), "Be brief.".into()),
            ("user".into(), "Summarise cats in 3 words.".into())
        ]
    );
    assert_eq!(chat(&s, 1, 0), [("user".into(), "Summarise cats.".into())]);
    assert_eq!(chat(&s, 2, 0), newest);
    // A completion provider takes a body without a system prompt, and says why not otherwise.
    match cell::request(&s.prompts[1], &s.providers[1], &s.tests[0]).unwrap() {
        Request::Completion(r) => assert_eq!(r.prompt, "Summarise cats."),
        other => panic!("{other:?}"),
    }
    let e = cell::request(&s.prompts[0], &s.providers[1], &s.tests[0]).unwrap_err();
    assert!(e.to_string().contains("has a system prompt"), "{e}");
    let ids: Vec<usize> = saved::versions(&s).iter().map(|v| v.0).collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[test]
fn an_unknown_name_or_version_is_an_error_naming_the_config_line() {
    let db = Db::open_in_memory().unwrap();
    library_with_two_versions(&db);
    for (reference, want) in [
        ("parley://nope", "there is no saved prompt named nope"),
        ("parley://summarise@7", "has no version 7 (it has v1 to v2)"),
    ] {
        let mut s = suite(&format!("  - 'Hello {{{{text}}}}'\n  - {reference}\n"));
        let e = db.with(|c| saved::resolve(c, &mut s)).unwrap_err();
        let e = e.to_string();
        assert!(e.contains(want), "{e}");
        assert!(e.contains("the suite line 3"), "{e}");
    }
    let yaml = "prompts: [parley://summarise@latest]\nproviders: [openai:chat:m]\n";
    let e = config::parse_str(yaml, Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1") && e.contains("is a number"), "{e}");
}

#[test]
fn a_test_without_a_variable_the_saved_prompt_needs_is_named() {
    let db = Db::open_in_memory().unwrap();
    library_with_two_versions(&db);
    let yaml =
        "prompts: [parley://summarise]\nproviders: [openai:chat:m]\ntests:\n  - vars: {other: x}\n";
    let mut s = config::parse_str(yaml, Path::new(".")).unwrap().suite;
    let e = db.with(|c| saved::resolve(c, &mut s)).unwrap_err();
    assert!(e.to_string().contains("has no variable `text`"), "{e}");
}

#[test]
fn each_versions_pass_rate_comes_from_its_latest_run() {
    let db = Db::open_in_memory().unwrap();
    library_with_two_versions(&db);
    let versions = db.with(|c| library::versions(c, "summarise")).unwrap();
    let (v2, v1) = (versions[0].id, versions[1].id);
    let row = |prompt: usize, test: usize, pass: bool| ResultRow {
        error: None,
        pass,
        ..cell::failed((prompt, 0, test), String::new())
    };
    db.with(|c| {
        let grid = Grid::default();
        // Run 1: v1 (prompt 0) passes 1 of 2. Run 2: v1 passes 2 of 2, v2 (prompt 1) 1 of 2.
        let a = suites::create_run(c, "", None, &grid, 2)?;
        suite_prompts::record(c, a, &[(0, v1)])?;
        suites::insert_results(c, a, &[row(0, 0, true), row(0, 1, false)])?;
        let b = suites::create_run(c, "", None, &grid, 4)?;
        suite_prompts::record(c, b, &[(0, v1), (1, v2)])?;
        let cells = [
            row(0, 0, true),
            row(0, 1, true),
            row(1, 0, false),
            row(1, 1, true),
        ];
        suites::insert_results(c, b, &cells)?;
        // A run that stored no cell does not count.
        let empty = suites::create_run(c, "", None, &grid, 1)?;
        suite_prompts::record(c, empty, &[(0, v2)])?;
        let scores = review::scores(c, "summarise")?;
        let got: Vec<_> = scores
            .iter()
            .map(|s| {
                (
                    s.version,
                    s.suite_runs,
                    s.suite_latest_run,
                    s.suite_cells,
                    s.suite_passed,
                )
            })
            .collect();
        assert_eq!(got, [(2, 1, Some(b), 2, 1), (1, 2, Some(b), 2, 2)]);
        Ok(())
    })
    .unwrap();
}
