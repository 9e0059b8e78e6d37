//! What a run says: summaries per prompt × provider (pass rate, mean score, and the seed's axes:
//! accuracy = the share of assertions passed, fluency = the judge's mean grade ÷ 10 (a cell's
//! `llm-rubric` assertions — a suite gets this axis by giving a rubric, e.g. defaultTest's
//! `llm-rubric: fluent, grammatical and natural` — else the judge's latest verdict on the cell's
//! reply), diversity = distinct-2 over the provider's outputs for that prompt; and distinct-1 /
//! distinct-2 over each provider's outputs across prompts), the JSON and JUnit XML files for CI,
//! and two runs compared cell by cell (matched by prompt, provider and test labels).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::assertions::Outcome;
use crate::db::suites::{ResultRow, RunRow};
use crate::eval::metrics;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub prompt: String,
    pub provider: String,
    pub cells: usize,
    pub passed: usize,
    pub errors: usize,
    pub pass_rate: f64,
    pub mean_score: f64,
    /// Assertions passed / assertions run; None when no cell had an assertion.
    pub accuracy: Option<f64>,
    /// The judge's mean grade, 0–1 (see the module doc); None when no cell was judged.
    pub fluency: Option<f64>,
    /// distinct-2 over the outputs; None without a bigram.
    pub diversity: Option<f64>,
    pub mean_latency_ms: Option<f64>,
    pub cost_usd: Option<f64>,
}

fn outcomes(row: &ResultRow) -> Vec<Outcome> {
    serde_json::from_str(&row.assertions).unwrap_or_default()
}

fn label(list: &[String], i: usize) -> String {
    list.get(i)
        .cloned()
        .unwrap_or_else(|| format!("#{}", i + 1))
}

/// A cell's fluency, 0–1: the mean grade of its `llm-rubric` assertions that the judge answered,
/// else the judge's latest grade (1–10) on the cell's reply; None when neither exists.
pub fn fluency(row: &ResultRow, reply_grade: Option<i64>) -> Option<f64> {
    let graded: Vec<i64> = outcomes(row)
        .into_iter()
        // Only `llm-rubric` sets a grade; its `kind` may be the name `metric:` gave it.
        .filter_map(|o| o.judge_grade)
        .collect();
    if !graded.is_empty() {
        return Some(graded.iter().sum::<i64>() as f64 / graded.len() as f64 / 10.0);
    }
    reply_grade.map(|g| g as f64 / 10.0)
}

/// One summary per prompt × provider that has cells, in grid order.
pub fn summaries(run: &RunRow, rows: &[ResultRow]) -> Vec<Summary> {
    summaries_judged(run, rows, &HashMap::new())
}

/// [`summaries`], with the judge's grades on the cells' replies by (prompt, provider, test).
pub fn summaries_judged(
    run: &RunRow,
    rows: &[ResultRow],
    grades: &HashMap<(usize, usize, usize), i64>,
) -> Vec<Summary> {
    let mut groups: Vec<((usize, usize), Vec<&ResultRow>)> = Vec::new();
    let mut at: HashMap<(usize, usize), usize> = HashMap::new();
    for r in rows {
        let k = (r.prompt, r.provider);
        let i = *at.entry(k).or_insert_with(|| {
            groups.push((k, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(r);
    }
    groups.sort_by_key(|g| g.0);
    groups
        .into_iter()
        .map(|((p, v), cells)| {
            let n = cells.len();
            let passed = cells.iter().filter(|c| c.pass).count();
            let (mut run_a, mut passed_a) = (0usize, 0usize);
            for c in &cells {
                for o in outcomes(c) {
                    run_a += 1;
                    passed_a += usize::from(o.pass);
                }
            }
            let outputs: Vec<&str> = cells.iter().map(|c| c.output.as_str()).collect();
            let lat: Vec<f64> = cells.iter().filter_map(|c| c.latency_ms).collect();
            let costs: Vec<f64> = cells.iter().filter_map(|c| c.cost_usd).collect();
            let fluent: Vec<f64> = cells
                .iter()
                .filter_map(|c| fluency(c, grades.get(&(c.prompt, c.provider, c.test)).copied()))
                .collect();
            Summary {
                prompt: label(&run.grid.prompts, p),
                provider: label(&run.grid.providers, v),
                cells: n,
                passed,
                errors: cells.iter().filter(|c| c.error.is_some()).count(),
                pass_rate: passed as f64 / n.max(1) as f64,
                mean_score: cells.iter().map(|c| c.score).sum::<f64>() / n.max(1) as f64,
                accuracy: (run_a > 0).then(|| passed_a as f64 / run_a as f64),
                fluency: (!fluent.is_empty())
                    .then(|| fluent.iter().sum::<f64>() / fluent.len() as f64),
                diversity: metrics::distinct_n(&outputs, 2),
                mean_latency_ms: (!lat.is_empty())
                    .then(|| lat.iter().sum::<f64>() / lat.len() as f64),
                cost_usd: (!costs.is_empty()).then(|| costs.iter().sum()),
            }
        })
        .collect()
}

/// Diversity of one provider's outputs across every prompt and test.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDiversity {
    pub provider: String,
    pub outputs: usize,
    /// Distinct unigrams / all unigrams, and the same for bigrams; None without one.
    pub distinct1: Option<f64>,
    pub distinct2: Option<f64>,
}

/// distinct-1 and distinct-2 per provider (the seed's diversity axis), over its answered cells.
pub fn provider_diversity(run: &RunRow, rows: &[ResultRow]) -> Vec<ProviderDiversity> {
    let mut providers: Vec<usize> = rows.iter().map(|r| r.provider).collect();
    providers.sort_unstable();
    providers.dedup();
    providers
        .into_iter()
        .map(|v| {
            let outputs: Vec<&str> = rows
                .iter()
                .filter(|r| r.provider == v && r.error.is_none())
                .map(|r| r.output.as_str())
                .collect();
            ProviderDiversity {
                provider: label(&run.grid.providers, v),
                outputs: outputs.len(),
                distinct1: metrics::distinct_n(&outputs, 1),
                distinct2: metrics::distinct_n(&outputs, 2),
            }
        })
        .collect()
}

/// The whole run as JSON (`-o results.json`, `parley eval show --json`).
pub fn to_json(run: &RunRow, rows: &[ResultRow]) -> Value {
    let cells: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "prompt": label(&run.grid.prompts, r.prompt),
                "provider": label(&run.grid.providers, r.provider),
                "test": label(&run.grid.tests, r.test),
                "pass": r.pass,
                "score": r.score,
                "output": r.output,
                "error": r.error,
                "assertions": outcomes(r),
                "latencyMs": r.latency_ms,
                "promptTokens": r.prompt_tokens,
                "completionTokens": r.completion_tokens,
                "costUsd": r.cost_usd,
                "cached": r.cached,
            })
        })
        .collect();
    json!({
        "runId": run.id,
        "description": run.description,
        "status": run.status,
        "total": run.total,
        "summaries": summaries(run, rows),
        "diversity": provider_diversity(run, rows),
        "results": cells,
    })
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows tab, newline, carriage return and no other control characters, nor
            // U+FFFE and U+FFFF.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one `<testsuite>` per prompt × provider, one `<testcase>` per test; a failed
/// assertion is a `<failure>`, a request that failed an `<error>`.
pub fn junit(run: &RunRow, rows: &[ResultRow]) -> String {
    let mut groups: Vec<((usize, usize), Vec<&ResultRow>)> = Vec::new();
    for r in rows {
        match groups.iter_mut().find(|g| g.0 == (r.prompt, r.provider)) {
            Some(g) => g.1.push(r),
            None => groups.push(((r.prompt, r.provider), vec![r])),
        }
    }
    groups.sort_by_key(|g| g.0);
    let secs = |r: &ResultRow| r.latency_ms.unwrap_or(0.0) / 1e3;
    let failures = rows.iter().filter(|r| !r.pass && r.error.is_none()).count();
    let errors = rows.iter().filter(|r| r.error.is_some()).count();
    let total_time: f64 = rows.iter().map(secs).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total_time:.3}\">\n",
        xml(&format!("parley eval run {}", run.id)),
        rows.len()
    ));
    for ((p, v), cells) in groups {
        let name = format!(
            "{} · {}",
            label(&run.grid.prompts, p),
            label(&run.grid.providers, v)
        );
        let f = cells
            .iter()
            .filter(|r| !r.pass && r.error.is_none())
            .count();
        let e = cells.iter().filter(|r| r.error.is_some()).count();
        let t: f64 = cells.iter().map(|r| secs(r)).sum();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\" time=\"{t:.3}\">\n",
            xml(&name),
            cells.len()
        ));
        for r in cells {
            s.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                xml(&label(&run.grid.tests, r.test)),
                xml(&name),
                secs(r)
            ));
            if let Some(err) = &r.error {
                s.push_str(&format!(
                    ">\n      <error message=\"{}\" type=\"request\"/>\n    </testcase>\n",
                    xml(err)
                ));
            } else if !r.pass {
                let failed: Vec<String> = outcomes(r)
                    .into_iter()
                    .filter(|o| !o.pass)
                    .map(|o| format!("{}: {}", o.kind, o.reason))
                    .collect();
                let msg = if failed.is_empty() {
                    format!("score {:.2} below the test's threshold", r.score)
                } else {
                    failed.join("; ")
                };
                s.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"assertion\">{}</failure>\n    </testcase>\n",
                    xml(&msg),
                    xml(&r.output)
                ));
            } else {
                s.push_str("/>\n");
            }
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// One cell in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellChange {
    pub prompt: String,
    pub provider: String,
    pub test: String,
    pub before: (bool, f64),
    pub after: (bool, f64),
}

/// Two runs, cell by cell.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Failed before, pass now.
    pub fixed: Vec<CellChange>,
    /// Passed before, fail now.
    pub broken: Vec<CellChange>,
    /// Same verdict, higher / lower score.
    pub better: Vec<CellChange>,
    pub worse: Vec<CellChange>,
    pub unchanged: usize,
    pub only_before: usize,
    pub only_after: usize,
}

/// How one cell changed from one run to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Delta {
    /// Failed before, pass now.
    Fixed,
    /// Passed before, fail now.
    Broken,
    /// Same verdict, higher score.
    Better,
    /// Same verdict, lower score.
    Worse,
    Unchanged,
}

/// The one rule for a cell's change: the verdict first, then the score.
pub fn delta(before: (bool, f64), after: (bool, f64)) -> Delta {
    match (before.0, after.0) {
        (false, true) => Delta::Fixed,
        (true, false) => Delta::Broken,
        _ if after.1 > before.1 + 1e-9 => Delta::Better,
        _ if after.1 < before.1 - 1e-9 => Delta::Worse,
        _ => Delta::Unchanged,
    }
}

/// What matches a cell across runs: its prompt, provider and test labels.
pub fn cell_key(run: &RunRow, r: &ResultRow) -> (String, String, String) {
    (
        label(&run.grid.prompts, r.prompt),
        label(&run.grid.providers, r.provider),
        label(&run.grid.tests, r.test),
    )
}

/// Runs whose cells can match: the same prompts and providers (the tests may differ).
pub fn same_shape(a: &RunRow, b: &RunRow) -> bool {
    a.grid.prompts == b.grid.prompts && a.grid.providers == b.grid.providers
}

/// Each cell's key with its place among the cells of the same key.
type Numbered<'a> = Vec<(((String, String, String), usize), &'a ResultRow)>;

fn numbered<'a>(run: &RunRow, rows: &'a [ResultRow]) -> Numbered<'a> {
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    rows.iter()
        .map(|r| {
            let k = cell_key(run, r);
            let n = seen.entry(k.clone()).or_default();
            *n += 1;
            ((k, *n), r)
        })
        .collect()
}

/// Compares run `a` (before) with run `b` (after).
pub fn compare(a: (&RunRow, &[ResultRow]), b: (&RunRow, &[ResultRow])) -> Comparison {
    // Cells with the same name (tests without a description named by the same long first
    // variable) match in order: the n-th such cell before with the n-th after.
    let before: HashMap<_, _> = numbered(a.0, a.1).into_iter().collect();
    let mut out = Comparison::default();
    let mut matched = 0;
    for ((k, n), r) in numbered(b.0, b.1) {
        let Some(old) = before.get(&(k.clone(), n)) else {
            out.only_after += 1;
            continue;
        };
        matched += 1;
        let change = CellChange {
            prompt: k.0,
            provider: k.1,
            test: k.2,
            before: (old.pass, old.score),
            after: (r.pass, r.score),
        };
        match delta(change.before, change.after) {
            Delta::Fixed => out.fixed.push(change),
            Delta::Broken => out.broken.push(change),
            Delta::Better => out.better.push(change),
            Delta::Worse => out.worse.push(change),
            Delta::Unchanged => out.unchanged += 1,
        }
    }
    out.only_before = a.1.len() - matched;
    out
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
