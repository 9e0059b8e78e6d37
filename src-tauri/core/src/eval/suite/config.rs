//! Reading `promptfooconfig.yaml`. Supported, as promptfoo writes them:
//! - `description`;
//! - `prompts`: a string or a list of: inline text with `{{vars}}`, a chat-style JSON message
//!   list, `file://path` (`.json`: a message list; other files: text, several prompts separated by
//!   a line `---`), Parley's `parley://NAME[@VERSION]` (a saved prompt, saved.rs), or
//!   `{raw | id, label}`;
//! - `providers`: a string or a list of ids or `{id, label, config}`; ids `openai:chat:MODEL`,
//!   `openai:completion:MODEL`, `openai:MODEL` (chat), `parley:PROFILE:MODEL`; config
//!   `apiBaseUrl`, `temperature`, `max_tokens`, `top_p`, `frequency_penalty`, `presence_penalty`,
//!   `stop`, `seed`, `logprobs`, `top_logprobs`;
//! - `tests`: a list of `{description, vars, assert, threshold, metadata, options: {provider}}`,
//!   or `file://tests.csv` / `.yaml` / `.json` (also as list items);
//! - `defaultTest`: a test whose vars, assertions (first), threshold and grader every test gets;
//! - `evaluateOptions: {maxConcurrency}`.
//!
//! Anything else is an error naming the key and its line. `file://` paths resolve against the
//! suite's folder, and the files read are listed in [`Loaded::files`] so they can be shown (L4).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::yaml::{Many, StrOrMap, VarValue};

use super::template::{self, one_line};
use super::{csv_tests, saved, Assertion, Prompt, PromptBody, Provider, Suite, TestCase};
use crate::error::{Error, Result};

/// The largest suite file, prompt file or test file read.
pub const MAX_FILE_BYTES: u64 = 32 << 20;
/// The most tests a suite may have.
pub const MAX_TESTS: usize = 100_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    #[serde(default)]
    description: Option<String>,
    prompts: Many<RawPrompt>,
    providers: Many<Provider>,
    #[serde(default)]
    tests: Option<Many<RawTests>>,
    #[serde(default)]
    default_test: Option<RawTest>,
    #[serde(default)]
    evaluate_options: Option<EvaluateOptions>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EvaluateOptions {
    #[serde(default)]
    max_concurrency: Option<usize>,
}

/// A prompt before its file is read.
struct RawPrompt {
    text: String,
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PromptMap {
    #[serde(default)]
    raw: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

impl StrOrMap for RawPrompt {
    type Map = PromptMap;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(RawPrompt {
            text: s.to_string(),
            label: None,
        })
    }
    fn from_map(m: PromptMap) -> std::result::Result<Self, String> {
        let text = m
            .raw
            .or(m.id)
            .ok_or("a prompt mapping needs `raw` (the text) or `id` (a file:// path)")?;
        Ok(RawPrompt {
            text,
            label: m.label,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestOptions {
    #[serde(default)]
    provider: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTest {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, VarValue>,
    #[serde(default)]
    assert: Vec<Assertion>,
    #[serde(default)]
    threshold: Option<f64>,
    /// Kept with the suite file; not used by Parley's runner.
    #[serde(default)]
    #[allow(dead_code)]
    metadata: Option<serde_json::Value>,
    #[serde(default)]
    options: Option<TestOptions>,
}

enum RawTests {
    File(String),
    Inline(Box<RawTest>),
}

impl StrOrMap for RawTests {
    type Map = RawTest;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(RawTests::File(s.to_string()))
    }
    fn from_map(m: RawTest) -> std::result::Result<Self, String> {
        Ok(RawTests::Inline(Box::new(m)))
    }
}

/// A loaded suite and the files it read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub suite: Suite,
    pub files: Vec<PathBuf>,
}

/// Makes serde's "unknown field" say that Parley does not support the key.
fn explain(e: impl std::fmt::Display) -> String {
    let s = e.to_string();
    match s.strip_prefix("unknown field ") {
        Some(rest) => {
            format!("unsupported key {rest} (Parley does not support it, or it is misspelt)")
        }
        None => s.replace(": unknown field ", ": unsupported key "),
    }
}

struct Reader {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Reader {
    /// Reads a `file://` path relative to the suite's folder.
    fn read(&mut self, uri: &str) -> Result<(PathBuf, String)> {
        let rel = uri.strip_prefix("file://").unwrap_or(uri);
        if rel.contains(['*', '?', '[']) {
            return Err(Error::invalid(format!(
                "{uri}: glob patterns are not supported by Parley; name each file"
            )));
        }
        let path = self.dir.join(rel);
        let io = |e: std::io::Error| Error::invalid(format!("{}: {e}", path.display()));
        let meta = std::fs::metadata(&path).map_err(io)?;
        // A device or a pipe (`file:///dev/zero`) says 0 bytes and never ends, or blocks.
        if !meta.is_file() {
            return Err(Error::invalid(format!(
                "{}: not a regular file",
                path.display()
            )));
        }
        let too_big = |len: u64| {
            Error::invalid(format!(
                "{}: {len} bytes; the limit is {} MB",
                path.display(),
                MAX_FILE_BYTES >> 20
            ))
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(too_big(meta.len()));
        }
        // Read no more than the limit even if the file grew since.
        let mut text = String::new();
        std::fs::File::open(&path)
            .map_err(io)?
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(too_big(text.len() as u64));
        }
        self.files.push(path.clone());
        Ok((path, text))
    }
}

/// Reads a suite file.
pub fn load(path: &Path) -> Result<Loaded> {
    // Absolute: its folder is where `file://` paths resolve, and the suite's own path is read
    // through it (`evals/suite.yaml` was read as `evals/evals/suite.yaml`).
    let path = &std::path::absolute(path)
        .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut reader = Reader {
        dir,
        files: Vec::new(),
    };
    let (path, text) = reader.read(&path.to_string_lossy())?;
    let suite = parse(&text, &path.display().to_string(), &mut reader)?;
    Ok(Loaded {
        suite,
        files: reader.files,
    })
}

/// Parses a suite's text; `file://` paths resolve against `dir`.
pub fn parse_str(text: &str, dir: &Path) -> Result<Loaded> {
    let mut reader = Reader {
        dir: dir.to_path_buf(),
        files: Vec::new(),
    };
    let suite = parse(text, "the suite", &mut reader)?;
    Ok(Loaded {
        suite,
        files: reader.files,
    })
}

fn parse(text: &str, name: &str, reader: &mut Reader) -> Result<Suite> {
    let raw: RawConfig = yaml_serde::from_str(text)
        .map_err(|e| Error::invalid(format!("{name}: {}", explain(e))))?;
    let mut prompts = Vec::new();
    for p in raw.prompts.0 {
        if let Some(saved) = saved_prompt(&p, text, name)? {
            prompts.push(saved);
            continue;
        }
        prompts.extend(resolve_prompt(p, reader)?);
    }
    let providers = raw.providers.0;
    if prompts.is_empty() || providers.is_empty() {
        return Err(Error::invalid(format!(
            "{name}: a suite needs at least one prompt and one provider"
        )));
    }
    let mut raw_tests = Vec::new();
    for t in raw.tests.map(|m| m.0).unwrap_or_default() {
        match t {
            RawTests::Inline(t) => raw_tests.push(to_test(*t)),
            RawTests::File(uri) => {
                let (path, text) = reader.read(&uri)?;
                let shown = path.display().to_string();
                match path.extension().and_then(|e| e.to_str()) {
                    Some("csv") => raw_tests.extend(csv_tests::parse(&text, &shown, MAX_TESTS)?),
                    Some("yaml" | "yml" | "json") => {
                        let list: Vec<RawTest> = yaml_serde::from_str(&text)
                            .map_err(|e| Error::invalid(format!("{shown}: {}", explain(e))))?;
                        raw_tests.extend(list.into_iter().map(to_test));
                    }
                    _ => {
                        return Err(Error::invalid(format!(
                            "{shown}: tests are read from .csv, .yaml or .json files"
                        )))
                    }
                }
            }
        }
    }
    if raw_tests.len() > MAX_TESTS {
        return Err(Error::invalid(format!(
            "{name}: more than {MAX_TESTS} tests; split the suite"
        )));
    }
    let default = raw.default_test.map(to_test).unwrap_or_else(empty_test);
    let mut tests: Vec<TestCase> = raw_tests
        .into_iter()
        .map(|t| with_default(t, &default))
        .collect();
    if tests.is_empty() {
        tests.push(with_default(empty_test(), &default));
    }
    check_templates(&prompts, &tests)?;
    Ok(Suite {
        description: raw.description.unwrap_or_default(),
        prompts,
        providers,
        tests,
        max_concurrency: raw.evaluate_options.and_then(|o| o.max_concurrency),
    })
}

fn empty_test() -> TestCase {
    TestCase {
        description: None,
        vars: BTreeMap::new(),
        assertions: Vec::new(),
        threshold: None,
        grader: None,
    }
}

fn to_test(t: RawTest) -> TestCase {
    TestCase {
        description: t.description,
        vars: t.vars.into_iter().map(|(k, v)| (k, v.0)).collect(),
        assertions: t.assert,
        threshold: t.threshold,
        grader: t.options.and_then(|o| o.provider),
    }
}

/// promptfoo's merge: the test's vars over the default's, the default's assertions first.
fn with_default(test: TestCase, default: &TestCase) -> TestCase {
    let default = default.clone();
    let mut vars = default.vars;
    vars.extend(test.vars);
    let mut assertions = default.assertions;
    assertions.extend(test.assertions);
    TestCase {
        description: test.description,
        vars,
        assertions,
        threshold: test.threshold.or(default.threshold),
        grader: test.grader.or(default.grader),
    }
}

pub(super) fn chat_messages(text: &str) -> Option<Vec<(String, String)>> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct M {
        role: String,
        content: String,
    }
    let list: Vec<M> = serde_json::from_str(text.trim()).ok()?;
    (!list.is_empty()).then(|| list.into_iter().map(|m| (m.role, m.content)).collect())
}

/// `parley://NAME[@VERSION]`: a saved prompt, read from the library before the run.
fn saved_prompt(p: &RawPrompt, config: &str, name: &str) -> Result<Option<Prompt>> {
    let Some(parsed) = saved::parse_ref(&p.text) else {
        return Ok(None);
    };
    let at = match saved::line_of(config, p.text.trim()) {
        Some(line) => format!("{name} line {line}"),
        None => name.to_string(),
    };
    let (prompt, version) = parsed.map_err(|e| e.map_text(|t| format!("{at}: {t}")))?;
    Ok(Some(Prompt {
        label: p.label.clone().unwrap_or_else(|| p.text.trim().to_string()),
        body: PromptBody::Saved(saved::SavedPrompt {
            name: prompt,
            version,
            at,
            found: None,
        }),
    }))
}

fn resolve_prompt(p: RawPrompt, reader: &mut Reader) -> Result<Vec<Prompt>> {
    if !p.text.starts_with("file://") {
        let label = p.label.unwrap_or_else(|| one_line(&p.text, 60));
        let body = match chat_messages(&p.text) {
            Some(m) => PromptBody::Chat(m),
            None => PromptBody::Text(p.text),
        };
        return Ok(vec![Prompt { label, body }]);
    }
    let (path, text) = reader.read(&p.text)?;
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    if path.extension().is_some_and(|e| e == "json") {
        let messages = chat_messages(&text).ok_or_else(|| {
            Error::invalid(format!(
                "{}: a .json prompt must be a list of {{\"role\", \"content\"}} messages",
                path.display()
            ))
        })?;
        let label = p.label.unwrap_or(file);
        return Ok(vec![Prompt {
            label,
            body: PromptBody::Chat(messages),
        }]);
    }
    // promptfoo: several prompts in one text file, separated by a line `---`.
    let parts: Vec<&str> = text
        .split("\n---\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let many = parts.len() > 1;
    Ok(parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let base = p.label.clone().unwrap_or_else(|| file.clone());
            Prompt {
                label: if many {
                    format!("{base} #{}", i + 1)
                } else {
                    base
                },
                body: PromptBody::Text(part.to_string()),
            }
        })
        .collect())
}

/// Every prompt's and assertion's `{{var}}` must be given by every test.
pub(super) fn check_templates(prompts: &[Prompt], tests: &[TestCase]) -> Result<()> {
    for p in prompts {
        let texts: Vec<&str> = match &p.body {
            PromptBody::Text(t) => vec![t],
            PromptBody::Chat(m) => m.iter().map(|(_, c)| c.as_str()).collect(),
            // Checked with the library's own rules when it is read (saved.rs).
            PromptBody::Saved(_) => continue,
        };
        for text in texts {
            let used = template::variables(text)
                .map_err(|e| Error::invalid(format!("prompt \"{}\": {e}", p.label)))?;
            for (i, t) in tests.iter().enumerate() {
                if let Some(v) = used.iter().find(|v| !t.vars.contains_key(*v)) {
                    return Err(Error::invalid(format!(
                        "prompt \"{}\" uses {{{{{v}}}}} but test {} ({}) has no variable `{v}`",
                        p.label,
                        i + 1,
                        t.name(i)
                    )));
                }
            }
        }
    }
    for (i, t) in tests.iter().enumerate() {
        for a in &t.assertions {
            for text in a.templates() {
                for v in template::variables(text)? {
                    if !t.vars.contains_key(&v) {
                        return Err(Error::invalid(format!(
                            "test {} ({}): its `{}` assertion uses {{{{{v}}}}}, which the test \
                             does not define",
                            i + 1,
                            t.name(i),
                            a.kind()
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
