//! Assertions on one output, with promptfoo's semantics: each gives pass/fail and a score in
//! 0–1; `not-` inverts the pass and takes 1 − score; a test's score is the weighted mean of its
//! assertions' scores (weight 0: checked, not scored), and the test passes when every assertion
//! passes, or, with a test `threshold`, when the score reaches it.
//!
//! Where Parley differs from promptfoo, on purpose: `regex` is Rust's regex syntax (no
//! look-around or back-references); `similar` is token F1 (eval/metrics, no embeddings model),
//! threshold 0.75; `llm-rubric` is Parley's judge (its rubric-with-a-1–10-score and strict verdict
//! schema), score = grade / 10, pass when the score reaches the threshold (default 0.5);
//! `perplexity` is exp(−mean log-probability) of the reply's tokens, so it needs logprobs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::scoring::{levenshtein, perplexity, score_test};
use super::template;
use crate::error::{Error, Result};
use crate::eval::metrics;

/// What an assertion checks. Text values may hold `{{vars}}`, filled per test.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// Equal text; a JSON object or list value is compared as JSON with the parsed output.
    Equals(Value),
    Contains(String),
    IContains(String),
    ContainsAny(Vec<String>),
    IContainsAny(Vec<String>),
    ContainsAll(Vec<String>),
    IContainsAll(Vec<String>),
    StartsWith(String),
    Regex(String),
    /// Valid JSON, and valid against the schema when one is given.
    IsJson(Option<Value>),
    /// Edit distance (in characters) at most the threshold (default 5).
    Levenshtein(String),
    /// Token F1 with the value at least the threshold (default 0.75).
    Similar(String),
    /// Milliseconds at most the threshold.
    Latency,
    /// US dollars at most the threshold.
    Cost,
    /// Perplexity at most the threshold.
    Perplexity,
    /// Graded by the judge against this rubric.
    LlmRubric(String),
}

/// The assertion types Parley runs (each also with `not-`).
pub const TYPES: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "icontains-any",
    "contains-all",
    "icontains-all",
    "starts-with",
    "regex",
    "is-json",
    "levenshtein",
    "similar",
    "latency",
    "cost",
    "perplexity",
    "llm-rubric",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub check: Check,
    pub negate: bool,
    pub weight: f64,
    pub threshold: Option<f64>,
    /// A name for the assertion in reports (`metric`).
    pub metric: Option<String>,
}

/// An assertion as written in YAML.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAssertion {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    threshold: Option<f64>,
    #[serde(default)]
    metric: Option<String>,
}

impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawAssertion::deserialize(d)?;
        let mut a = Assertion::new(&raw.kind, raw.value, raw.threshold)
            .map_err(|e| serde::de::Error::custom(e.to_string()))?;
        if let Some(w) = raw.weight {
            if !(w.is_finite() && w >= 0.0) {
                return Err(serde::de::Error::custom(format!(
                    "an assertion's weight must be a number ≥ 0 (got {w})"
                )));
            }
            a.weight = w;
        }
        a.metric = raw.metric;
        Ok(a)
    }
}

fn text_value(kind: &str, value: Option<Value>) -> Result<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        _ => Err(Error::invalid(format!("`{kind}` needs a text `value`"))),
    }
}

fn list_value(kind: &str, value: Option<Value>) -> Result<Vec<String>> {
    match value {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| text_value(kind, Some(v)))
            .collect(),
        // promptfoo's shorthand: comma-separated.
        Some(Value::String(s)) => Ok(s.split(',').map(|p| p.trim().to_string()).collect()),
        _ => Err(Error::invalid(format!("`{kind}` needs a list `value`"))),
    }
}

impl Assertion {
    /// An assertion of a promptfoo type (`not-` allowed), checked now: the type, its value, and a
    /// regex's syntax (when it holds no `{{vars}}`).
    pub fn new(kind: &str, value: Option<Value>, threshold: Option<f64>) -> Result<Assertion> {
        let (negate, base) = match kind.strip_prefix("not-") {
            Some(rest) => (true, rest),
            None => (false, kind),
        };
        let check = match base {
            "equals" => {
                Check::Equals(value.ok_or_else(|| Error::invalid("`equals` needs a `value`"))?)
            }
            "contains" => Check::Contains(text_value(kind, value)?),
            "icontains" => Check::IContains(text_value(kind, value)?),
            "contains-any" => Check::ContainsAny(list_value(kind, value)?),
            "icontains-any" => Check::IContainsAny(list_value(kind, value)?),
            "contains-all" => Check::ContainsAll(list_value(kind, value)?),
            "icontains-all" => Check::IContainsAll(list_value(kind, value)?),
            "starts-with" => Check::StartsWith(text_value(kind, value)?),
            "regex" => {
                let re = text_value(kind, value)?;
                if !re.contains("{{") {
                    regex::Regex::new(&re).map_err(|e| {
                        Error::invalid(format!("`regex` value is not a valid regex: {e}"))
                    })?;
                }
                Check::Regex(re)
            }
            "is-json" => Check::IsJson(match value {
                None | Some(Value::Null) => None,
                Some(schema @ Value::Object(_)) => {
                    jsonschema::validator_for(&schema).map_err(|e| {
                        Error::invalid(format!("`is-json` schema is not valid: {e}"))
                    })?;
                    Some(schema)
                }
                Some(_) => {
                    return Err(Error::invalid(
                        "`is-json` takes a JSON schema object as its value (or none)",
                    ))
                }
            }),
            "levenshtein" => Check::Levenshtein(text_value(kind, value)?),
            "similar" => Check::Similar(text_value(kind, value)?),
            "latency" | "cost" | "perplexity" => {
                if threshold.is_none() {
                    return Err(Error::invalid(format!("`{kind}` needs a `threshold`")));
                }
                match base {
                    "latency" => Check::Latency,
                    "cost" => Check::Cost,
                    _ => Check::Perplexity,
                }
            }
            "llm-rubric" => Check::LlmRubric(text_value(kind, value)?),
            other => {
                return Err(Error::invalid(format!(
                    "the assertion type `{other}` is not supported by Parley (supported: {}, each \
                     also as not-…)",
                    TYPES.join(", ")
                )))
            }
        };
        Ok(Assertion {
            check,
            negate,
            weight: 1.0,
            threshold,
            metric: None,
        })
    }

    /// The type as promptfoo writes it (`not-contains`).
    pub fn kind(&self) -> String {
        let base = match &self.check {
            Check::Equals(_) => "equals",
            Check::Contains(_) => "contains",
            Check::IContains(_) => "icontains",
            Check::ContainsAny(_) => "contains-any",
            Check::IContainsAny(_) => "icontains-any",
            Check::ContainsAll(_) => "contains-all",
            Check::IContainsAll(_) => "icontains-all",
            Check::StartsWith(_) => "starts-with",
            Check::Regex(_) => "regex",
            Check::IsJson(_) => "is-json",
            Check::Levenshtein(_) => "levenshtein",
            Check::Similar(_) => "similar",
            Check::Latency => "latency",
            Check::Cost => "cost",
            Check::Perplexity => "perplexity",
            Check::LlmRubric(_) => "llm-rubric",
        };
        if self.negate {
            format!("not-{base}")
        } else {
            base.to_string()
        }
    }

    /// The templates in this assertion's value (checked against the tests' variables at load).
    pub fn templates(&self) -> Vec<&str> {
        match &self.check {
            Check::Equals(Value::String(s))
            | Check::Contains(s)
            | Check::IContains(s)
            | Check::StartsWith(s)
            | Check::Regex(s)
            | Check::Levenshtein(s)
            | Check::Similar(s)
            | Check::LlmRubric(s) => vec![s.as_str()],
            Check::ContainsAny(l)
            | Check::IContainsAny(l)
            | Check::ContainsAll(l)
            | Check::IContainsAll(l) => l.iter().map(String::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// What is known of one output when its assertions run.
#[derive(Debug, Clone, Default)]
pub struct Output<'a> {
    pub text: &'a str,
    pub latency_ms: Option<f64>,
    pub cost_usd: Option<f64>,
    /// The log-probability of each token of the reply, when logprobs were asked for.
    pub logprobs: Option<&'a [f64]>,
}

/// One assertion's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(rename = "type")]
    pub kind: String,
    pub pass: bool,
    pub score: f64,
    pub weight: f64,
    pub reason: String,
    /// `llm-rubric`: the judge's grade, 1–10 (the summaries' fluency axis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_grade: Option<i64>,
}

/// What running an assertion gives: a result now, or a rubric for the judge.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Done(Outcome),
    /// `llm-rubric`: the rubric (filled); finish with [`Assertion::graded`].
    Judge(String),
}

fn fill(s: &str, vars: &std::collections::BTreeMap<String, String>) -> Result<String> {
    template::render(s, vars)
}

fn fill_all(
    l: &[String],
    vars: &std::collections::BTreeMap<String, String>,
) -> Result<Vec<String>> {
    l.iter().map(|s| fill(s, vars)).collect()
}

/// (pass, score, reason) of a measure compared with `limit` (at most).
fn at_most(what: &str, unit: &str, value: Option<f64>, limit: f64) -> (bool, f64, String) {
    match value {
        Some(v) => {
            let pass = v <= limit;
            let rel = if pass { "≤" } else { ">" };
            (
                pass,
                f64::from(u8::from(pass)),
                format!("{what} {v:.4}{unit} {rel} {limit}{unit}"),
            )
        }
        None => (false, 0.0, format!("{what} unknown")),
    }
}

impl Assertion {
    /// Runs this assertion on an output (vars fill its value's `{{templates}}`).
    pub fn run(
        &self,
        out: &Output,
        vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<Step> {
        let text = out.text;
        let yes = |b: bool| (b, f64::from(u8::from(b)));
        let (pass, score, reason): (bool, f64, String) = match &self.check {
            Check::Equals(Value::String(s)) => {
                let want = fill(s, vars)?;
                let (p, sc) = yes(text == want);
                (p, sc, format!("expected exactly {want:?}"))
            }
            Check::Equals(v) => {
                let parsed: Option<Value> = serde_json::from_str(text).ok();
                let (p, sc) = yes(match v {
                    Value::Object(_) | Value::Array(_) => parsed.as_ref() == Some(v),
                    other => {
                        let want = other.to_string();
                        text == want
                    }
                });
                (p, sc, format!("expected {v}"))
            }
            Check::Contains(s) => {
                let want = fill(s, vars)?;
                let (p, sc) = yes(text.contains(&want));
                (p, sc, format!("contains {want:?}"))
            }
            Check::IContains(s) => {
                let want = fill(s, vars)?;
                let (p, sc) = yes(text.to_lowercase().contains(&want.to_lowercase()));
                (p, sc, format!("contains {want:?} (any case)"))
            }
            Check::ContainsAny(l)
            | Check::IContainsAny(l)
            | Check::ContainsAll(l)
            | Check::IContainsAll(l) => {
                let fold = matches!(self.check, Check::IContainsAny(_) | Check::IContainsAll(_));
                let all = matches!(self.check, Check::ContainsAll(_) | Check::IContainsAll(_));
                let l = fill_all(l, vars)?;
                let hay = if fold {
                    text.to_lowercase()
                } else {
                    text.to_string()
                };
                let found =
                    |w: &String| hay.contains(&if fold { w.to_lowercase() } else { w.clone() });
                let (p, sc) = yes(if all {
                    l.iter().all(found)
                } else {
                    l.iter().any(found)
                });
                let which = if all { "all" } else { "any" };
                (p, sc, format!("contains {which} of {l:?}"))
            }
            Check::StartsWith(s) => {
                let want = fill(s, vars)?;
                let (p, sc) = yes(text.starts_with(&want));
                (p, sc, format!("starts with {want:?}"))
            }
            Check::Regex(s) => {
                let re = fill(s, vars)?;
                let re = regex::Regex::new(&re)
                    .map_err(|e| Error::invalid(format!("`regex` is not valid: {e}")))?;
                let (p, sc) = yes(re.is_match(text));
                (p, sc, format!("matches /{re}/"))
            }
            Check::IsJson(schema) => match serde_json::from_str::<Value>(text) {
                Err(e) => (false, 0.0, format!("not JSON: {e}")),
                Ok(v) => match schema {
                    None => (true, 1.0, "valid JSON".into()),
                    Some(schema) => {
                        let validator = jsonschema::validator_for(schema).map_err(|e| {
                            Error::invalid(format!("`is-json` schema is not valid: {e}"))
                        })?;
                        let first = validator.iter_errors(&v).next().map(|e| e.to_string());
                        match first {
                            None => (true, 1.0, "valid JSON matching the schema".into()),
                            Some(e) => (false, 0.0, format!("JSON not matching the schema: {e}")),
                        }
                    }
                },
            },
            Check::Levenshtein(s) => {
                let want = fill(s, vars)?;
                let limit = self.threshold.unwrap_or(5.0);
                let d = levenshtein(text, &want) as f64;
                let (p, sc) = yes(d <= limit);
                (p, sc, format!("edit distance {d} (at most {limit})"))
            }
            Check::Similar(s) => {
                let want = fill(s, vars)?;
                let limit = self.threshold.unwrap_or(0.75);
                let f1 = metrics::token_f1(text, &want);
                (
                    f1 >= limit,
                    f1,
                    format!("token F1 {f1:.3} (at least {limit})"),
                )
            }
            // A measure that is not known fails, `not-` or not: nothing was shown either way.
            Check::Latency if out.latency_ms.is_none() => {
                return Ok(self.unknown("latency unknown"))
            }
            Check::Cost if out.cost_usd.is_none() => return Ok(self.unknown("cost unknown")),
            Check::Latency => at_most("latency", " ms", out.latency_ms, self.limit()),
            Check::Cost => at_most("cost", " USD", out.cost_usd, self.limit()),
            Check::Perplexity => {
                match out.logprobs.and_then(perplexity) {
                    Some(p) => at_most("perplexity", "", Some(p), self.limit()),
                    None => return Ok(self.unknown(
                        "no token log-probabilities: set `logprobs: true` in the provider's config",
                    )),
                }
            }
            Check::LlmRubric(r) => return Ok(Step::Judge(fill(r, vars)?)),
        };
        Ok(Step::Done(self.outcome(pass, score, reason)))
    }

    fn limit(&self) -> f64 {
        self.threshold.unwrap_or(f64::INFINITY)
    }

    /// A failed result whatever `not-` says: the measure it needs is not known.
    fn unknown(&self, reason: &str) -> Step {
        Step::Done(Outcome {
            pass: false,
            score: 0.0,
            reason: reason.into(),
            ..self.outcome(false, 0.0, String::new())
        })
    }

    /// The result, `not-` applied.
    fn outcome(&self, pass: bool, score: f64, reason: String) -> Outcome {
        let (pass, score, reason) = if self.negate {
            (!pass, 1.0 - score, format!("not: {reason}"))
        } else {
            (pass, score, reason)
        };
        Outcome {
            kind: self.metric.clone().unwrap_or_else(|| self.kind()),
            pass,
            score,
            weight: self.weight,
            reason,
            judge_grade: None,
        }
    }

    /// `llm-rubric` finished: the judge's grade (1–10) and reasoning, or why it failed.
    pub fn graded(&self, verdict: std::result::Result<(i64, String), String>) -> Outcome {
        match verdict {
            Ok((grade, reasoning)) => {
                let score = grade as f64 / 10.0;
                let limit = self.threshold.unwrap_or(0.5);
                let mut o = self.outcome(
                    score >= limit,
                    score,
                    format!("judge: {grade}/10 — {reasoning}"),
                );
                // The fluency axis: a `not-llm-rubric` grades the opposite, so it gives none.
                o.judge_grade = (!self.negate).then_some(grade);
                o
            }
            Err(e) => Outcome {
                kind: self.kind(),
                pass: false,
                score: 0.0,
                weight: self.weight,
                reason: format!("the judge failed: {e}"),
                judge_grade: None,
            },
        }
    }
}

#[cfg(test)]
#[path = "assertions_tests.rs"]
mod tests;
