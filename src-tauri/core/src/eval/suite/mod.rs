//! Evaluation suites in promptfoo's config format: prompts × providers × tests with assertions,
//! read from `promptfooconfig.yaml` (config.rs, csv_tests.rs), checked (assertions.rs), run
//! concurrently with a cache (runner.rs), stored (db/suites.rs) and reported (report.rs).
//!
//! What is supported is listed in config.rs; anything else is an error naming the key and its
//! line, never skipped. Templating is the `{{var}}` subset of nunjucks (template.rs).

pub mod assertions;
pub mod batch;
pub mod cell;
pub mod config;
mod csv_tests;
pub mod doc;
pub mod grid;
mod providers;
pub mod report;
pub mod runner;
pub mod saved;
mod scoring;
pub mod template;
pub mod writer;
mod yaml;

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::db::suites::{Grid, ResultRow, RunRow};
use crate::params::Params;
pub use assertions::{Assertion, Check};

/// A loaded suite: everything resolved (files read, CSV parsed, defaultTest merged).
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub description: String,
    pub prompts: Vec<Prompt>,
    pub providers: Vec<Provider>,
    pub tests: Vec<TestCase>,
    /// `evaluateOptions.maxConcurrency`, when given (`-j` wins).
    pub max_concurrency: Option<usize>,
}

/// One prompt of the grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prompt {
    /// What the reports call it: its `label`, else its text (shortened) or file name.
    pub label: String,
    pub body: PromptBody,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum PromptBody {
    /// A text with `{{vars}}`: one user message for a chat provider, the prompt for a completion one.
    Text(String),
    /// A chat-style message list (`[{"role": …, "content": …}]`), each content templated.
    Chat(Vec<(String, String)>),
    /// `parley://NAME[@VERSION]`: a saved prompt's version (its system prompt, then its body),
    /// read from the library before a run (saved.rs).
    Saved(saved::SavedPrompt),
}

/// Which API a provider calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Chat,
    Completion,
}

/// Where a provider's requests go.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Target {
    /// `openai:…`: the default profile's server and key, or `config.apiBaseUrl` (its key only if
    /// one is bound to that origin, SECURITY.md K4).
    OpenAi { base_url: Option<String> },
    /// `parley:PROFILE:MODEL`: a saved profile.
    Profile { name: String },
}

/// One provider of the grid (`openai:chat:MODEL`, `openai:completion:MODEL`, `parley:PROFILE:MODEL`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provider {
    /// The id as written (`openai:chat:gpt-4o-mini`).
    pub id: String,
    pub label: String,
    pub api: Api,
    pub model: String,
    pub target: Target,
    pub params: Params,
    /// `logprobs: true` (chat) / alternatives (`top_logprobs`); needed by `perplexity`.
    pub logprobs: bool,
    pub top_logprobs: Option<i64>,
}

/// One test case (a row of the dataset): its variables and what its outputs must satisfy.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub description: Option<String>,
    pub vars: BTreeMap<String, String>,
    pub assertions: Vec<Assertion>,
    /// Pass when the weighted score reaches this, whatever single assertions say (promptfoo).
    pub threshold: Option<f64>,
    /// The provider id or label that grades `llm-rubric` (`options.provider`); else the cell's own.
    pub grader: Option<String>,
}

impl TestCase {
    /// What reports call the case: its description, else its variables.
    pub fn name(&self, index: usize) -> String {
        if let Some(d) = &self.description {
            return d.clone();
        }
        if self.vars.is_empty() {
            return format!("test {}", index + 1);
        }
        let vars: Vec<String> = self.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        crate::eval::suite::template::one_line(&vars.join(", "), 80)
    }
}
