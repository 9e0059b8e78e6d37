//! Saved prompts as suite prompts: `parley://NAME` (the newest version) or `parley://NAME@N`
//! (also `@vN`) in `prompts`. The config names them ([`SavedPrompt`], with the line it came
//! from); [`resolve`] reads them from the library before a run, so an unknown name or version is
//! an error naming the line and nothing is sent. A resolved prompt is the version's body, filled
//! with the test's variables by the library's own rules (`{{name:type=default}}`, `{{date}}`,
//! `{{time}}`; `{{clipboard}}` is refused), after its system prompt as a system message when it
//! has one. Each run stores which version each of its prompts was (db/suite_prompts.rs), which is
//! where the prompt's version history reads its pass rate.

use std::collections::HashMap;

use rusqlite::Connection;
use serde::Serialize;

use super::{Prompt, PromptBody, Suite, TestCase};
use crate::error::{Error, Result};
use crate::prompts::{builtins_now, library, variables};

/// What a suite prompt starts with to name a saved prompt.
pub const SCHEME: &str = "parley://";

/// A saved prompt named by a suite.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedPrompt {
    pub name: String,
    /// The version asked for; `None`: the newest.
    pub version: Option<i64>,
    /// Where the config names it (`promptfooconfig.yaml line 3`), for errors.
    pub at: String,
    /// The version read from the library; `None` until [`resolve`].
    pub found: Option<Found>,
}

/// The version of a saved prompt a suite runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    /// `prompt_versions.id`.
    pub version_id: i64,
    pub version: i64,
    pub body: String,
    pub system_prompt: String,
}

/// `parley://NAME[@N]` → (name, version); `None` when `text` is not such a reference.
pub fn parse_ref(text: &str) -> Option<Result<(String, Option<i64>)>> {
    let rest = text.trim().strip_prefix(SCHEME)?;
    let (name, version) = match rest.rsplit_once('@') {
        Some((name, v)) => {
            let digits = v.strip_prefix('v').unwrap_or(v);
            match digits.parse::<i64>() {
                Ok(n) if n > 0 => (name, Some(n)),
                _ => {
                    return Some(Err(Error::invalid(format!(
                        "{text}: the version after @ is a number (parley://NAME@3)"
                    ))))
                }
            }
        }
        None => (rest, None),
    };
    if name.is_empty() {
        return Some(Err(Error::invalid(format!(
            "{text}: name a saved prompt (parley://NAME or parley://NAME@VERSION)"
        ))));
    }
    Some(Ok((name.to_string(), version)))
}

/// The line of `config` that names `reference` (1-based), for errors.
pub fn line_of(config: &str, reference: &str) -> Option<usize> {
    config
        .lines()
        .position(|l| l.contains(reference))
        .map(|i| i + 1)
}

/// Whether any prompt of the suite is a saved prompt still to be read.
pub fn pending(suite: &Suite) -> bool {
    suite
        .prompts
        .iter()
        .any(|p| matches!(&p.body, PromptBody::Saved(s) if s.found.is_none()))
}

/// Reads every saved prompt of the suite from the library, and checks that every test gives
/// the variables each one needs (those without a default).
pub fn resolve(conn: &Connection, suite: &mut Suite) -> Result<()> {
    for p in &mut suite.prompts {
        let PromptBody::Saved(s) = &mut p.body else {
            continue;
        };
        if s.found.is_some() {
            continue;
        }
        let at = |e: String| Error::invalid(format!("{}: {SCHEME}{}: {e}", s.at, s.name));
        let prompt = library::get(conn, &s.name).map_err(|_| {
            at(format!(
                "there is no saved prompt named {} (see `parley prompts list`)",
                s.name
            ))
        })?;
        let v = match s.version {
            None => prompt.latest,
            Some(n) => library::versions(conn, &s.name)?
                .into_iter()
                .find(|v| v.version == n)
                .ok_or_else(|| {
                    at(format!(
                        "the saved prompt {} has no version {n} (it has v1 to v{})",
                        prompt.name, prompt.latest.version
                    ))
                })?,
        };
        let template = variables::parse(&v.draft.body).map_err(|e| at(e.to_string()))?;
        if template.builtins.contains(&variables::Builtin::Clipboard) {
            return Err(at(
                "it uses {{clipboard}}, which a suite cannot fill; give it as a variable".into(),
            ));
        }
        check_variables(p.label.as_str(), &template, &suite.tests)?;
        s.found = Some(Found {
            version_id: v.id,
            version: v.version,
            body: v.draft.body,
            system_prompt: v.draft.system_prompt,
        });
    }
    Ok(())
}

fn check_variables(label: &str, t: &variables::Template, tests: &[TestCase]) -> Result<()> {
    for var in t.variables.iter().filter(|v| v.default.is_none()) {
        if let Some((i, test)) = tests
            .iter()
            .enumerate()
            .find(|(_, test)| !test.vars.contains_key(&var.name))
        {
            return Err(Error::invalid(format!(
                "prompt \"{label}\" uses {{{{{}}}}} but test {} ({}) has no variable `{}`",
                var.name,
                i + 1,
                test.name(i),
                var.name
            )));
        }
    }
    Ok(())
}

/// A resolved saved prompt filled for a test: (system prompt if any, the body).
pub fn render(
    prompt: &Prompt,
    s: &SavedPrompt,
    test: &TestCase,
) -> Result<(Option<String>, String)> {
    let f = s.found.as_ref().ok_or_else(|| {
        Error::invalid(format!(
            "the prompt \"{}\" ({SCHEME}{}) was not read from the library",
            prompt.label, s.name
        ))
    })?;
    let values: HashMap<String, String> = test
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = variables::fill(&f.body, &values, &builtins_now(None))?;
    let system = (!f.system_prompt.trim().is_empty()).then(|| f.system_prompt.clone());
    Ok((system, body))
}

/// (prompt index, `prompt_versions.id`) of every resolved saved prompt, stored with a run.
pub fn versions(suite: &Suite) -> Vec<(usize, i64)> {
    suite
        .prompts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| match &p.body {
            PromptBody::Saved(SavedPrompt { found: Some(f), .. }) => Some((i, f.version_id)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[path = "saved_tests.rs"]
mod tests;
