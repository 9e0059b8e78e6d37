//! A suite as the window edits it: description, prompts (one text each), providers (an id, and
//! the label and `config` kept as they were), and the cases as a table whose columns are named
//! as in promptfoo's CSV tests (a variable, `__expected`, `__expected2`…, `__description`,
//! `__threshold`; and `__grader`, a case's `options.provider`). Also the table read from text
//! copied out of a spreadsheet (tab-separated, first row = headers).
//!
//! Limits: a pasted table has at most [`MAX_ROWS`] rows and [`MAX_COLUMNS`] columns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::providers::ProviderMap;
use super::writer::{self, assertion_cell, default_label, prompt_text};
use super::yaml::StrOrMap;
use super::{config, Prompt, PromptBody, Provider, Suite, TestCase};
use crate::error::{Error, Result};

/// The most rows a table of cases may have.
pub const MAX_ROWS: usize = 10_000;
/// The most columns a table of cases may have.
pub const MAX_COLUMNS: usize = 64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteDoc {
    #[serde(default)]
    pub description: String,
    pub prompts: Vec<DocPrompt>,
    pub providers: Vec<DocProvider>,
    pub table: Table,
    #[serde(default)]
    pub max_concurrency: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocPrompt {
    pub text: String,
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocProvider {
    /// `parley:PROFILE:MODEL`, `openai:chat:MODEL`…
    pub id: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub config: Option<Map<String, Value>>,
}

/// The cases: one column per variable or special column, one row per case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// What a column holds, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Var,
    Expected,
    Description,
    Threshold,
    Grader,
}

pub fn column_kind(name: &str) -> Result<Column> {
    Ok(match name {
        "__description" => Column::Description,
        "__threshold" => Column::Threshold,
        "__grader" => Column::Grader,
        n if n
            .strip_prefix("__expected")
            .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())) =>
        {
            Column::Expected
        }
        n if n.starts_with("__") => {
            return Err(Error::invalid(format!(
                "the column `{n}` is not supported (use a variable name, __expected, \
                 __expected2…, __description, __threshold or __grader)"
            )))
        }
        _ => Column::Var,
    })
}

/// The suite for the editor.
pub fn from_suite(suite: &Suite) -> SuiteDoc {
    let prompts = suite
        .prompts
        .iter()
        .map(|p| {
            let text = prompt_text(p);
            let label = (p.label != default_label(&text)).then(|| p.label.clone());
            DocPrompt { text, label }
        })
        .collect();
    let providers = suite
        .providers
        .iter()
        .map(|p| DocProvider {
            id: p.id.clone(),
            label: (p.label != p.id).then(|| p.label.clone()),
            config: writer::provider_config(p),
        })
        .collect();
    SuiteDoc {
        description: suite.description.clone(),
        prompts,
        providers,
        table: table_of(&suite.tests),
        max_concurrency: suite.max_concurrency,
    }
}

fn table_of(tests: &[TestCase]) -> Table {
    let mut columns: Vec<String> = Vec::new();
    for t in tests {
        for k in t.vars.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let expected = tests.iter().map(|t| t.assertions.len()).max().unwrap_or(0);
    let name = |i: usize| {
        if i == 0 {
            "__expected".to_string()
        } else {
            format!("__expected{}", i + 1)
        }
    };
    columns.extend((0..expected).map(name));
    let any = |f: &dyn Fn(&TestCase) -> bool| tests.iter().any(f);
    if any(&|t| t.description.is_some()) {
        columns.push("__description".into());
    }
    if any(&|t| t.threshold.is_some()) {
        columns.push("__threshold".into());
    }
    if any(&|t| t.grader.is_some()) {
        columns.push("__grader".into());
    }
    let rows = tests
        .iter()
        .map(|t| {
            let mut n = 0;
            columns
                .iter()
                .map(|c| match column_kind(c).unwrap_or(Column::Var) {
                    Column::Var => t.vars.get(c).cloned().unwrap_or_default(),
                    Column::Expected => {
                        n += 1;
                        t.assertions
                            .get(n - 1)
                            .map(assertion_cell)
                            .unwrap_or_default()
                    }
                    Column::Description => t.description.clone().unwrap_or_default(),
                    Column::Threshold => t.threshold.map(|v| v.to_string()).unwrap_or_default(),
                    Column::Grader => t.grader.clone().unwrap_or_default(),
                })
                .collect()
        })
        .collect();
    // A suite without cases has one empty case (promptfoo runs each prompt once).
    let only_empty = tests.len() == 1 && columns.is_empty();
    Table {
        rows: if only_empty { Vec::new() } else { rows },
        columns,
    }
}

/// The editor's suite, checked: every error names its place (prompt 2, row 3, column x).
pub fn to_suite(doc: &SuiteDoc) -> Result<Suite> {
    let mut prompts = Vec::new();
    for (i, p) in doc.prompts.iter().enumerate() {
        let text = p.text.trim_end_matches(['\n', '\r', ' ']).to_string();
        if text.trim().is_empty() {
            continue;
        }
        if text.starts_with("file://") {
            return Err(Error::invalid(format!(
                "prompt {}: file:// prompts are read when a suite file is imported; paste the \
                 prompt's text here",
                i + 1
            )));
        }
        let body = match config::chat_messages(&text) {
            Some(m) => PromptBody::Chat(m),
            None => PromptBody::Text(text.clone()),
        };
        let label = p
            .label
            .clone()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| default_label(&text));
        prompts.push(Prompt { label, body });
    }
    let mut providers = Vec::new();
    for (i, p) in doc.providers.iter().enumerate() {
        if p.id.trim().is_empty() {
            continue;
        }
        let map = serde_json::json!({"id": p.id.trim(), "label": p.label, "config": p.config});
        let map: ProviderMap = serde_json::from_value(map)
            .map_err(|e| Error::invalid(format!("provider {}: {e}", i + 1)))?;
        let provider = Provider::from_map(map)
            .map_err(|e| Error::invalid(format!("provider {}: {e}", i + 1)))?;
        providers.push(provider);
    }
    if prompts.is_empty() || providers.is_empty() {
        return Err(Error::invalid(
            "a suite needs at least one prompt and one provider",
        ));
    }
    let mut tests = tests_of(&doc.table)?;
    if tests.is_empty() {
        tests.push(TestCase {
            description: None,
            vars: BTreeMap::new(),
            assertions: Vec::new(),
            threshold: None,
            grader: None,
        });
    }
    config::check_templates(&prompts, &tests)?;
    Ok(Suite {
        description: doc.description.trim().to_string(),
        prompts,
        providers,
        tests,
        max_concurrency: doc.max_concurrency,
    })
}

fn tests_of(table: &Table) -> Result<Vec<TestCase>> {
    if table.rows.len() > MAX_ROWS || table.columns.len() > MAX_COLUMNS {
        return Err(Error::invalid(format!(
            "a table of cases has at most {MAX_ROWS} rows and {MAX_COLUMNS} columns"
        )));
    }
    let mut kinds = Vec::new();
    for (i, c) in table.columns.iter().enumerate() {
        let c = c.trim();
        if c.is_empty() {
            return Err(Error::invalid(format!("column {} has no name", i + 1)));
        }
        if table.columns[..i].iter().any(|o| o.trim() == c) {
            return Err(Error::invalid(format!("two columns are named `{c}`")));
        }
        kinds.push(column_kind(c)?);
    }
    let mut tests = Vec::new();
    for (r, row) in table.rows.iter().enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut t = TestCase {
            description: None,
            vars: BTreeMap::new(),
            assertions: Vec::new(),
            threshold: None,
            grader: None,
        };
        for (c, kind) in kinds.iter().enumerate() {
            let name = table.columns[c].trim();
            let cell = row.get(c).map(String::as_str).unwrap_or("");
            let at = |e: String| Error::invalid(format!("row {}, column `{name}`: {e}", r + 1));
            let filled = (!cell.trim().is_empty()).then(|| cell.to_string());
            match kind {
                Column::Var => {
                    t.vars.insert(name.to_string(), cell.to_string());
                }
                Column::Expected => {
                    if let Some(cell) = filled {
                        let a = writer::parse_cell(&cell).map_err(|e| at(e.to_string()))?;
                        t.assertions.push(a);
                    }
                }
                Column::Description => t.description = filled,
                Column::Threshold => {
                    if let Some(cell) = filled {
                        let v = cell.trim().parse::<f64>();
                        t.threshold = Some(v.map_err(|_| at(format!("{cell:?} is not a number")))?);
                    }
                }
                Column::Grader => t.grader = filled.map(|g| g.trim().to_string()),
            }
        }
        tests.push(t);
    }
    Ok(tests)
}

/// A table from text copied out of a spreadsheet: tab-separated, cells with tabs, line breaks or
/// quotes in double quotes (as spreadsheets copy them), the first row the headers. A header
/// `expected`, `assert` or `assertion` (any case) is an `__expected` column.
pub fn paste_table(text: &str) -> Result<Table> {
    if text.len() > crate::db::suite_library::MAX_SUITE_BYTES {
        return Err(Error::invalid("the pasted text is too long for a suite"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(h) => h.map_err(|e| Error::invalid(format!("the pasted table: {e}")))?,
        None => return Err(Error::invalid("nothing to paste")),
    };
    let mut columns: Vec<String> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        let name = if ["expected", "assert", "assertion", "__expected"]
            .contains(&h.to_lowercase().as_str())
        {
            let n = columns
                .iter()
                .filter(|c| c.starts_with("__expected"))
                .count();
            if n == 0 {
                "__expected".to_string()
            } else {
                format!("__expected{}", n + 1)
            }
        } else {
            h.to_string()
        };
        if name.is_empty() {
            return Err(Error::invalid(format!(
                "column {} of the pasted table has no header (the first row names the columns)",
                i + 1
            )));
        }
        if columns.contains(&name) {
            return Err(Error::invalid(format!(
                "two columns of the pasted table are named `{name}`"
            )));
        }
        column_kind(&name)?;
        columns.push(name);
    }
    if columns.len() > MAX_COLUMNS {
        return Err(Error::invalid(format!(
            "a table of cases has at most {MAX_COLUMNS} columns"
        )));
    }
    let mut rows = Vec::new();
    for (i, rec) in records.enumerate() {
        let rec = rec.map_err(|e| Error::invalid(format!("the pasted table: {e}")))?;
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rec.len() > columns.len() {
            return Err(Error::invalid(format!(
                "row {} of the pasted table has {} cells but there are {} headers",
                i + 2,
                rec.len(),
                columns.len()
            )));
        }
        if rows.len() >= MAX_ROWS {
            return Err(Error::invalid(format!(
                "a table of cases has at most {MAX_ROWS} rows"
            )));
        }
        let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
        row.resize(columns.len(), String::new());
        rows.push(row);
    }
    Ok(Table { columns, rows })
}

#[cfg(test)]
#[path = "doc_tests.rs"]
mod tests;
