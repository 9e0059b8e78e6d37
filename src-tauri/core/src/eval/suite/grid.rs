//! A run as the window's grid shows it (rows = tests, columns = prompt × provider, each cell with
//! its verdict, score, a one-line excerpt, latency, tokens and cost, and the summaries), and two
//! runs compared cell by cell on the grid of the second (report.rs decides what changed).
//!
//! Limits: a cell carries at most [`EXCERPT_CHARS`] characters of its output (the full reply is
//! read when the cell is opened); a run has as many cells as its grid (the suite's limits bound it).

use std::collections::HashMap;

use serde::Serialize;

use super::report::{self, Comparison, Delta, Summary};
use super::template::one_line;
use crate::db::suites::{ResultRow, RunRow};

/// Characters of output a grid cell carries.
pub const EXCERPT_CHARS: usize = 120;

/// One column: a prompt × provider pair (indices into the run's grid, and their labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    pub prompt: usize,
    pub provider: usize,
    pub prompt_label: String,
    pub provider_label: String,
}

/// One cell as the grid shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GridCell {
    pub prompt: usize,
    pub provider: usize,
    pub test: usize,
    pub pass: bool,
    pub score: f64,
    pub excerpt: String,
    pub error: Option<String>,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub cached: bool,
    /// Why assertions failed, one line each (empty when all passed).
    pub failed: Vec<String>,
}

/// A whole run for the grid view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunGrid {
    pub run: RunRow,
    pub columns: Vec<Column>,
    pub tests: Vec<String>,
    pub cells: Vec<GridCell>,
    pub summaries: Vec<Summary>,
}

fn columns(run: &RunRow) -> Vec<Column> {
    let mut out = Vec::new();
    for (p, pl) in run.grid.prompts.iter().enumerate() {
        for (v, vl) in run.grid.providers.iter().enumerate() {
            out.push(Column {
                prompt: p,
                provider: v,
                prompt_label: pl.clone(),
                provider_label: vl.clone(),
            });
        }
    }
    out
}

fn failed(row: &ResultRow) -> Vec<String> {
    let outcomes: Vec<super::assertions::Outcome> =
        serde_json::from_str(&row.assertions).unwrap_or_default();
    outcomes
        .into_iter()
        .filter(|o| !o.pass)
        .map(|o| one_line(&format!("{}: {}", o.kind, o.reason), 200))
        .collect()
}

/// The grid of a run; `grades` are the judge's grades on the cells' replies (for fluency).
pub fn run_grid(
    run: RunRow,
    rows: &[ResultRow],
    grades: &HashMap<(usize, usize, usize), i64>,
) -> RunGrid {
    let summaries = report::summaries_judged(&run, rows, grades);
    let cells = rows
        .iter()
        .map(|r| GridCell {
            prompt: r.prompt,
            provider: r.provider,
            test: r.test,
            pass: r.pass,
            score: r.score,
            excerpt: one_line(&r.output, EXCERPT_CHARS),
            error: r.error.as_deref().map(|e| one_line(e, 200)),
            latency_ms: r.latency_ms,
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            cost_usd: r.cost_usd,
            cached: r.cached,
            failed: failed(r),
        })
        .collect();
    RunGrid {
        columns: columns(&run),
        tests: run.grid.tests.clone(),
        run,
        cells,
        summaries,
    }
}

/// One cell of the second run, against the same cell of the first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeltaCell {
    pub prompt: usize,
    pub provider: usize,
    pub test: usize,
    pub delta: Delta,
    pub before: (bool, f64),
    pub after: (bool, f64),
}

/// Two runs compared, on the second run's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompareGrid {
    pub before: RunRow,
    pub after: RunRow,
    pub columns: Vec<Column>,
    pub tests: Vec<String>,
    /// The cells found in both runs.
    pub cells: Vec<DeltaCell>,
    /// The counts (and the changed cells by label), as `parley eval compare` prints them.
    pub comparison: Comparison,
}

/// Compares run `a` (before) with run `b` (after), cell by cell.
pub fn compare_grid(a: (RunRow, &[ResultRow]), b: (RunRow, &[ResultRow])) -> CompareGrid {
    let comparison = report::compare((&a.0, a.1), (&b.0, b.1));
    let before: HashMap<_, _> =
        a.1.iter()
            .map(|r| (report::cell_key(&a.0, r), (r.pass, r.score)))
            .collect();
    let cells =
        b.1.iter()
            .filter_map(|r| {
                let old = *before.get(&report::cell_key(&b.0, r))?;
                let now = (r.pass, r.score);
                Some(DeltaCell {
                    prompt: r.prompt,
                    provider: r.provider,
                    test: r.test,
                    delta: report::delta(old, now),
                    before: old,
                    after: now,
                })
            })
            .collect();
    CompareGrid {
        columns: columns(&b.0),
        tests: b.0.grid.tests.clone(),
        before: a.0,
        after: b.0,
        cells,
        comparison,
    }
}
