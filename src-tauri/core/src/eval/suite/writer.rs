//! Writing a suite back in promptfoo's config format (`promptfooconfig.yaml`), so a suite made or
//! edited in the window runs unchanged with `parley eval run` and with promptfoo: reading what
//! this writes gives the same suite (files are inlined, `defaultTest` is already merged into
//! every test). Also each assertion in promptfoo's one-cell shorthand, for the table of cases.

use serde_json::{json, Map, Value};

use super::assertions::Check;
use super::template::one_line;
use super::{Assertion, Prompt, PromptBody, Provider, Suite, Target, TestCase};
use crate::error::{Error, Result};

/// The suite as promptfoo's YAML.
pub fn to_yaml(suite: &Suite) -> Result<String> {
    let yaml = yaml_serde::to_string(&to_value(suite))
        .map_err(|e| Error::invalid(format!("the suite could not be written: {e}")))?;
    Ok(yaml)
}

/// The suite as the value promptfoo's YAML holds.
pub fn to_value(suite: &Suite) -> Value {
    let mut out = Map::new();
    if !suite.description.is_empty() {
        out.insert("description".into(), json!(suite.description));
    }
    out.insert(
        "prompts".into(),
        suite.prompts.iter().map(prompt_value).collect(),
    );
    out.insert(
        "providers".into(),
        suite.providers.iter().map(provider_value).collect(),
    );
    let only_empty = suite.tests.len() == 1 && is_empty(&suite.tests[0]);
    if !only_empty {
        out.insert("tests".into(), suite.tests.iter().map(test_value).collect());
    }
    if let Some(j) = suite.max_concurrency {
        out.insert("evaluateOptions".into(), json!({ "maxConcurrency": j }));
    }
    Value::Object(out)
}

fn is_empty(t: &TestCase) -> bool {
    t.description.is_none()
        && t.vars.is_empty()
        && t.assertions.is_empty()
        && t.threshold.is_none()
        && t.grader.is_none()
}

/// A prompt's text as written inline (a chat prompt: its JSON message list).
pub fn prompt_text(p: &Prompt) -> String {
    match &p.body {
        PromptBody::Text(t) => t.clone(),
        PromptBody::Chat(m) => {
            let list: Vec<Value> = m
                .iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect();
            serde_json::to_string_pretty(&list).unwrap_or_default()
        }
        // A saved prompt stays a reference (`parley://NAME@VERSION`), read from the library at run time.
        PromptBody::Saved(s) => match s.version {
            Some(v) => format!("parley://{}@{v}", s.name),
            None => format!("parley://{}", s.name),
        },
    }
}

/// The label a prompt gets when none is written.
pub fn default_label(text: &str) -> String {
    one_line(text, 60)
}

fn prompt_value(p: &Prompt) -> Value {
    let text = prompt_text(p);
    if p.label == default_label(&text) {
        json!(text)
    } else {
        json!({"raw": text, "label": p.label})
    }
}

/// A provider's `config`, as promptfoo writes it (`None`: nothing set).
pub fn provider_config(p: &Provider) -> Option<Map<String, Value>> {
    let mut c = Map::new();
    if let Target::OpenAi {
        base_url: Some(url),
    } = &p.target
    {
        c.insert("apiBaseUrl".into(), json!(url));
    }
    let q = &p.params;
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            c.insert(k.into(), v);
        }
    };
    put("temperature", q.temperature.map(|v| json!(v)));
    put("max_tokens", q.max_tokens.map(|v| json!(v)));
    put("top_p", q.top_p.map(|v| json!(v)));
    put("frequency_penalty", q.frequency_penalty.map(|v| json!(v)));
    put("presence_penalty", q.presence_penalty.map(|v| json!(v)));
    put("stop", q.stop.as_ref().map(|v| json!(v)));
    put("seed", q.seed.map(|v| json!(v)));
    put("logprobs", p.logprobs.then_some(json!(true)));
    put("top_logprobs", p.top_logprobs.map(|v| json!(v)));
    (!c.is_empty()).then_some(c)
}

fn provider_value(p: &Provider) -> Value {
    let config = provider_config(p);
    if p.label == p.id && config.is_none() {
        return json!(p.id);
    }
    let mut m = Map::new();
    m.insert("id".into(), json!(p.id));
    if p.label != p.id {
        m.insert("label".into(), json!(p.label));
    }
    if let Some(c) = config {
        m.insert("config".into(), Value::Object(c));
    }
    Value::Object(m)
}

fn test_value(t: &TestCase) -> Value {
    let mut m = Map::new();
    if let Some(d) = &t.description {
        m.insert("description".into(), json!(d));
    }
    if !t.vars.is_empty() {
        m.insert("vars".into(), json!(t.vars));
    }
    if !t.assertions.is_empty() {
        let list: Vec<Value> = t.assertions.iter().map(assertion_value).collect();
        m.insert("assert".into(), Value::Array(list));
    }
    if let Some(th) = t.threshold {
        m.insert("threshold".into(), json!(th));
    }
    if let Some(g) = &t.grader {
        m.insert("options".into(), json!({ "provider": g }));
    }
    Value::Object(m)
}

/// An assertion as promptfoo's mapping (`{type, value, threshold, weight, metric}`).
pub fn assertion_value(a: &Assertion) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!(a.kind()));
    let value = match &a.check {
        Check::Equals(v) => Some(v.clone()),
        Check::Contains(s)
        | Check::IContains(s)
        | Check::StartsWith(s)
        | Check::Regex(s)
        | Check::Levenshtein(s)
        | Check::Similar(s)
        | Check::LlmRubric(s) => Some(json!(s)),
        Check::ContainsAny(l)
        | Check::IContainsAny(l)
        | Check::ContainsAll(l)
        | Check::IContainsAll(l) => Some(json!(l)),
        Check::IsJson(schema) => schema.clone(),
        Check::Latency | Check::Cost | Check::Perplexity => None,
    };
    if let Some(v) = value {
        m.insert("value".into(), v);
    }
    if let Some(t) = a.threshold {
        m.insert("threshold".into(), json!(t));
    }
    if a.weight != 1.0 {
        m.insert("weight".into(), json!(a.weight));
    }
    if let Some(metric) = &a.metric {
        m.insert("metric".into(), json!(metric));
    }
    Value::Object(m)
}

/// One cell of the table of cases: promptfoo's shorthand (`contains: x`, `is-json`,
/// `grade: rubric`, plain text for `equals`) or, when the shorthand cannot say it (a weight, a
/// schema, a JSON value), the assertion's mapping as one line of JSON.
pub fn assertion_cell(a: &Assertion) -> String {
    shorthand_of(a).unwrap_or_else(|| assertion_value(a).to_string())
}

/// Reads a cell written by [`assertion_cell`] (or typed): a JSON mapping, else the shorthand.
pub fn parse_cell(cell: &str) -> Result<Assertion> {
    let trimmed = cell.trim();
    if trimmed.starts_with('{') {
        if let Ok(a) = serde_json::from_str::<Assertion>(trimmed) {
            return Ok(a);
        }
    }
    super::csv_tests::shorthand(cell)
}

fn shorthand_of(a: &Assertion) -> Option<String> {
    if a.weight != 1.0 || a.metric.is_some() {
        return None;
    }
    let kind = match (&a.check, a.negate) {
        (Check::LlmRubric(_), false) => "grade".to_string(),
        (Check::LlmRubric(_), true) => "not-grade".to_string(),
        _ => a.kind(),
    };
    let head = match a.threshold {
        Some(t) => format!("{kind}({t})"),
        None => kind,
    };
    let mut candidates = Vec::new();
    match &a.check {
        Check::Equals(Value::String(s)) => {
            if a.threshold.is_none() && !a.negate {
                candidates.push(s.clone());
            }
            candidates.push(format!("{head}: {s}"));
        }
        Check::Equals(_) | Check::IsJson(Some(_)) => return None,
        Check::Contains(s)
        | Check::IContains(s)
        | Check::StartsWith(s)
        | Check::Regex(s)
        | Check::Levenshtein(s)
        | Check::Similar(s)
        | Check::LlmRubric(s) => candidates.push(format!("{head}: {s}")),
        Check::ContainsAny(l)
        | Check::IContainsAny(l)
        | Check::ContainsAll(l)
        | Check::IContainsAll(l) => candidates.push(format!("{head}: {}", l.join(", "))),
        Check::IsJson(None) | Check::Latency | Check::Cost | Check::Perplexity => {
            candidates.push(head)
        }
    }
    // Only a cell that reads back as this very assertion.
    candidates
        .into_iter()
        .find(|c| parse_cell(c).ok().as_ref() == Some(a))
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
