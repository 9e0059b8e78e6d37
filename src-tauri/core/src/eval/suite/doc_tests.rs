//! The editor's form of a suite, and tables pasted from a spreadsheet.

use std::path::Path;

use super::*;
use crate::eval::suite::config;

fn read(yaml: &str) -> Suite {
    config::parse_str(yaml, Path::new(".")).unwrap().suite
}

#[test]
fn a_suite_through_the_editor_form_comes_back_the_same() {
    let suite = read(
        r#"
description: quiz
prompts: ['Q: {{q}}', {raw: 'Say {{q}}', label: say}]
providers:
  - parley:Local:m1
  - {id: openai:chat:m2, label: two, config: {temperature: 0.5}}
tests:
  - {vars: {q: '2+2'}, assert: [{type: equals, value: '4'}, {type: icontains, value: four}], description: sum}
  - {vars: {q: capital}, assert: [{type: is-json}], threshold: 0.5, options: {provider: two}}
"#,
    );
    let doc = from_suite(&suite);
    assert_eq!(
        doc.table.columns,
        [
            "q",
            "__expected",
            "__expected2",
            "__description",
            "__threshold",
            "__grader"
        ]
    );
    assert_eq!(
        doc.table.rows[0],
        ["2+2", "4", "icontains: four", "sum", "", ""]
    );
    assert_eq!(
        doc.table.rows[1],
        ["capital", "is-json", "", "", "0.5", "two"]
    );
    assert_eq!(doc.prompts[1].label.as_deref(), Some("say"));
    assert_eq!(doc.providers[1].label.as_deref(), Some("two"));
    assert_eq!(to_suite(&doc).unwrap(), suite);
    // The form travels as JSON to the window and back.
    let json = serde_json::to_string(&doc).unwrap();
    let back: SuiteDoc = serde_json::from_str(&json).unwrap();
    assert_eq!(to_suite(&back).unwrap(), suite);
}

#[test]
fn editor_errors_name_the_row_and_column() {
    let doc = SuiteDoc {
        description: String::new(),
        prompts: vec![DocPrompt {
            text: "{{q}}".into(),
            label: None,
        }],
        providers: vec![DocProvider {
            id: "openai:chat:m".into(),
            label: None,
            config: None,
        }],
        table: Table {
            columns: vec!["q".into(), "__expected".into()],
            rows: vec![
                vec!["a".into(), "a".into()],
                vec!["b".into(), "regex: (".into()],
            ],
        },
        max_concurrency: None,
    };
    let e = to_suite(&doc).unwrap_err().to_string();
    assert!(e.contains("row 2, column `__expected`"), "{e}");
    let mut no_var = doc.clone();
    no_var.table.columns[0] = "x".into();
    no_var.table.rows.pop();
    let e = to_suite(&no_var).unwrap_err().to_string();
    assert!(e.contains("{{q}}"), "{e}");
    let mut bad = doc.clone();
    bad.providers[0].id = "anthropic:claude".into();
    let e = to_suite(&bad).unwrap_err().to_string();
    assert!(
        e.contains("provider 1") && e.contains("not supported"),
        "{e}"
    );
}

#[test]
fn a_table_pasted_from_a_spreadsheet_fills_the_columns() {
    // As a spreadsheet copies it: tabs, CRLF, a quoted cell with a line break and a quote.
    let text = "question\tExpected\tassert\n2+2\t4\tnot-contains: five\r\n\
                \"two\nlines \"\"quoted\"\"\"\ticontains: ok\n\n3+3\t6\n";
    let t = paste_table(text).unwrap();
    assert_eq!(t.columns, ["question", "__expected", "__expected2"]);
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[0], ["2+2", "4", "not-contains: five"]);
    assert_eq!(t.rows[1], ["two\nlines \"quoted\"", "icontains: ok", ""]);
    assert_eq!(t.rows[2], ["3+3", "6", ""], "short rows are padded");
}

#[test]
fn a_pasted_table_with_bad_headers_or_too_many_cells_is_refused() {
    let e = paste_table("q\t\tx\n1\t2\t3\n").unwrap_err().to_string();
    assert!(e.contains("column 2") && e.contains("no header"), "{e}");
    let e = paste_table("q\tq\n1\t2\n").unwrap_err().to_string();
    assert!(e.contains("two columns"), "{e}");
    let e = paste_table("q\n1\t2\n").unwrap_err().to_string();
    assert!(e.contains("row 2"), "{e}");
    let e = paste_table("q\t__metric\n1\t2\n").unwrap_err().to_string();
    assert!(e.contains("`__metric`"), "{e}");
    assert!(paste_table("").is_err());
}
