//! Tests from a CSV file (promptfoo's `tests: file://tests.csv`): each column is a variable,
//! except `__expected`, `__expected1`, `__expected2`… (an assertion each, in promptfoo's
//! shorthand), `__description` and `__threshold`. Other `__` columns are named in an error.
//!
//! Shorthand: `contains: x`, `icontains: x`, `contains-any: a, b`, `contains-all: a, b`,
//! `starts-with: x`, `regex: x`, `is-json`, `similar: x` / `similar(0.8): x`, `levenshtein(3): x`,
//! `latency(500)`, `cost(0.01)`, `perplexity(5)`, `grade: rubric` or `llm-rubric: rubric`, each
//! with `not-`; `equals: x`, and any other text means `equals` that text. `fn:`, `javascript:`,
//! `python:` and `eval:` are refused (Parley runs no code from a suite).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Assertion, TestCase};
use crate::error::{Error, Result};

/// A CSV file's rows as tests (at most `limit` rows).
pub(super) fn parse(text: &str, file: &str, limit: usize) -> Result<Vec<TestCase>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::invalid(format!("{file}: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    for h in &headers {
        let known = h == "__description"
            || h == "__threshold"
            || h.strip_prefix("__expected")
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()));
        if h.starts_with("__") && !known {
            return Err(Error::invalid(format!(
                "{file}: the column `{h}` is not supported by Parley (supported: __expected, \
                 __expected1…, __description, __threshold)"
            )));
        }
    }
    let mut tests = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        if tests.len() >= limit {
            return Err(Error::invalid(format!(
                "{file}: more than {limit} tests; split the suite"
            )));
        }
        let row = row.map_err(|e| Error::invalid(format!("{file}: {e}")))?;
        let mut test = TestCase {
            description: None,
            vars: BTreeMap::new(),
            assertions: Vec::new(),
            threshold: None,
            grader: None,
        };
        for (h, cell) in headers.iter().zip(row.iter()) {
            let at = || format!("{file}, line {line}, column `{h}`");
            if h.starts_with("__expected") {
                if !cell.trim().is_empty() {
                    test.assertions.push(
                        shorthand(cell).map_err(|e| Error::invalid(format!("{}: {e}", at())))?,
                    );
                }
            } else if h == "__description" {
                test.description = Some(cell.to_string()).filter(|s| !s.is_empty());
            } else if h == "__threshold" {
                if !cell.trim().is_empty() {
                    let t = cell.trim().parse::<f64>().map_err(|_| {
                        Error::invalid(format!("{}: {cell:?} is not a number", at()))
                    })?;
                    test.threshold = Some(t);
                }
            } else {
                test.vars.insert(h.clone(), cell.to_string());
            }
        }
        tests.push(test);
    }
    Ok(tests)
}

/// One `__expected` cell in promptfoo's shorthand.
pub(super) fn shorthand(cell: &str) -> Result<Assertion> {
    let cell = cell.trim();
    for code in ["fn:", "javascript:", "python:", "eval:", "file://"] {
        if cell.starts_with(code) {
            return Err(Error::invalid(format!(
                "`{code}` assertions run code; Parley does not run code from a suite"
            )));
        }
    }
    // `type(threshold): value`, `type: value` or a bare `type`.
    let (head, value) = match cell.split_once(':') {
        Some((h, v)) => (h.trim(), Some(v.trim())),
        None => (cell, None),
    };
    let named = |k: &str| {
        let k = match k {
            "grade" => "llm-rubric",
            "not-grade" => "not-llm-rubric",
            k => k,
        };
        super::assertions::TYPES.contains(&k.strip_prefix("not-").unwrap_or(k))
    };
    // A threshold only after an assertion's name: `(B)` or `O(n)` is text to equal.
    let (kind, threshold) = match head.split_once('(') {
        Some((k, rest)) if rest.ends_with(')') && named(k.trim()) => {
            let n = rest.trim_end_matches(')').trim();
            let t = n
                .parse::<f64>()
                .map_err(|_| Error::invalid(format!("{n:?} is not a number in {head:?}")))?;
            (k.trim(), Some(t))
        }
        _ => (head, None),
    };
    let kind = match kind {
        "grade" => "llm-rubric",
        "not-grade" => "not-llm-rubric",
        k => k,
    };
    let base = kind.strip_prefix("not-").unwrap_or(kind);
    let known = super::assertions::TYPES.contains(&base);
    if !known {
        // Plain text: promptfoo's `equals`.
        return Assertion::new("equals", Some(Value::String(cell.to_string())), None);
    }
    Assertion::new(kind, value.map(|v| Value::String(v.to_string())), threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::suite::Check;

    #[test]
    fn an_expected_text_with_brackets_is_text_to_equal() {
        for cell in ["(B)", "O(n)", "Answer (final): 42"] {
            assert_eq!(
                shorthand(cell).unwrap().check,
                Check::Equals(Value::String(cell.to_string())),
                "{cell}"
            );
        }
        assert_eq!(shorthand("latency(500)").unwrap().threshold, Some(500.0));
        assert!(shorthand("similar(x): cats").is_err());
    }

    #[test]
    fn expected_columns_become_assertions_and_other_columns_vars() {
        let csv = "question,__expected,__expected2,__description\n\
                   2+2?,4,not-contains: five,sums\n\
                   capital?,icontains: paris,,\n";
        let tests = parse(csv, "t.csv", 100).unwrap();
        assert_eq!(tests.len(), 2);
        assert_eq!(tests[0].vars["question"], "2+2?");
        assert_eq!(tests[0].description.as_deref(), Some("sums"));
        assert_eq!(tests[0].assertions.len(), 2);
        assert_eq!(
            tests[0].assertions[0].check,
            Check::Equals(Value::String("4".into()))
        );
        assert_eq!(tests[0].assertions[1].kind(), "not-contains");
        assert_eq!(tests[1].assertions.len(), 1);
        assert_eq!(
            tests[1].assertions[0].check,
            Check::IContains("paris".into())
        );
    }

    #[test]
    fn shorthand_reads_thresholds_grades_and_bare_types() {
        assert_eq!(shorthand("is-json").unwrap().check, Check::IsJson(None));
        let a = shorthand("similar(0.8): the cat").unwrap();
        assert_eq!(a.threshold, Some(0.8));
        assert_eq!(a.check, Check::Similar("the cat".into()));
        assert_eq!(
            shorthand("grade: is polite").unwrap().check,
            Check::LlmRubric("is polite".into())
        );
        assert_eq!(
            shorthand("contains-any: a, b").unwrap().check,
            Check::ContainsAny(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            shorthand("regex: ^\\d+$").unwrap().check,
            Check::Regex("^\\d+$".into())
        );
        assert_eq!(shorthand("latency(500)").unwrap().threshold, Some(500.0));
        // Text that names no type is an exact answer, colons and all.
        assert_eq!(
            shorthand("Answer: 4").unwrap().check,
            Check::Equals(Value::String("Answer: 4".into()))
        );
    }

    #[test]
    fn code_assertions_and_unknown_columns_are_refused_with_their_place() {
        let e = parse("q,__expected\nx,fn: output.length > 1\n", "t.csv", 10).unwrap_err();
        assert!(
            e.to_string().contains("t.csv, line 2, column `__expected`"),
            "{e}"
        );
        let e = parse("q,__metric\nx,y\n", "t.csv", 10).unwrap_err();
        assert!(e.to_string().contains("`__metric`"), "{e}");
    }
}
