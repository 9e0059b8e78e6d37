//! The suite library over the chat service: suites listed, opened in the editor's form, saved
//! (written as promptfoo YAML and read back before they are stored), imported from a
//! `promptfooconfig.yaml` (its `file://` references read from the file's folder and inlined),
//! exported, and run in the background with progress and a Stop that keeps every finished cell
//! (the run's cancel token is registered like a reply's, so `cancel` stops it).

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::ChatService;
use crate::db::suite_library;
pub use crate::db::suite_library::SuiteInfo;
use crate::error::{Error, Result};
use crate::eval::suite::doc::{self, SuiteDoc};
use crate::eval::suite::runner::{Progress, RunOptions};
use crate::eval::suite::{config, writer, Suite};

/// A library suite as the editor opens it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSuite {
    pub info: SuiteInfo,
    pub doc: SuiteDoc,
    pub yaml: String,
    /// Prompts × providers × cases: the cells a run sends.
    pub cells: usize,
}

/// Where a window run stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProgress {
    pub done: usize,
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub cached: usize,
    pub elapsed_ms: u64,
    /// Time left at the pace so far (none before the first cell and after the last).
    pub eta_ms: Option<u64>,
}

impl From<&Progress> for RunProgress {
    fn from(p: &Progress) -> Self {
        RunProgress {
            done: p.done,
            total: p.total,
            passed: p.passed,
            failed: p.failed,
            errors: p.errors,
            cached: p.cached,
            elapsed_ms: p.elapsed.as_millis() as u64,
            eta_ms: p.eta().map(|d| d.as_millis() as u64),
        }
    }
}

/// How a window run ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: i64,
    pub progress: RunProgress,
    pub cancelled: bool,
}

/// What a window run asks.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRequest {
    pub suite_id: i64,
    /// Requests in flight per provider (default 4, at most 64).
    #[serde(default)]
    pub concurrency: Option<usize>,
    #[serde(default = "yes")]
    pub use_cache: bool,
    /// The id Stop names (`cancel`).
    pub run_key: String,
}

fn yes() -> bool {
    true
}

/// The most requests in flight per provider a window run may ask for.
pub const MAX_CONCURRENCY: usize = 64;

/// Reads a stored suite (it holds no `file://`: files are inlined when imported).
fn read_stored(yaml: &str) -> Result<Suite> {
    Ok(config::parse_str(yaml, Path::new("/nonexistent-parley-suite-dir"))?.suite)
}

/// The suite as stored: written, and read back to be sure it reads as the same suite.
fn stored_yaml(suite: &Suite) -> Result<String> {
    let yaml = writer::to_yaml(suite)?;
    if read_stored(&yaml)? != *suite {
        return Err(Error::invalid(
            "the suite does not read back the same once written (a prompt that looks like a \
             message list or starts with file://?)",
        ));
    }
    Ok(yaml)
}

impl ChatService {
    /// The library, by name.
    pub fn list_suites(&self) -> Result<Vec<SuiteInfo>> {
        self.db.with(|c| suite_library::list(c))
    }

    /// One suite in the editor's form, with its YAML.
    pub fn load_suite(&self, id: i64) -> Result<SavedSuite> {
        let (info, yaml) = self.db.with(|c| suite_library::get(c, id))?;
        let suite = read_stored(&yaml)?;
        let cells = suite.prompts.len() * suite.providers.len() * suite.tests.len();
        Ok(SavedSuite {
            info,
            doc: doc::from_suite(&suite),
            yaml,
            cells,
        })
    }

    /// Saves the editor's suite (new when `id` is `None`); every error names its place.
    pub fn save_suite(&self, id: Option<i64>, name: &str, doc: &SuiteDoc) -> Result<SavedSuite> {
        let suite = doc::to_suite(doc)?;
        let yaml = stored_yaml(&suite)?;
        let id = self.db.with(|c| match id {
            Some(id) => suite_library::update(c, id, name, &yaml).map(|_| id),
            None => suite_library::create(c, name, &yaml),
        })?;
        self.load_suite(id)
    }

    pub fn delete_suite(&self, id: i64) -> Result<()> {
        self.db.with(|c| suite_library::delete(c, id))
    }

    /// Imports a `promptfooconfig.yaml` (its `file://` paths from its folder) under a free name:
    /// its description, else the file's name.
    pub fn import_suite(&self, path: &Path) -> Result<SuiteInfo> {
        let loaded = config::load(path)?;
        let yaml = stored_yaml(&loaded.suite)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let base = match loaded.suite.description.trim() {
            "" => stem,
            d => d.chars().take(80).collect(),
        };
        self.db.with(|c| {
            let name = suite_library::free_name(c, &base)?;
            let id = suite_library::create(c, &name, &yaml)?;
            Ok(suite_library::get(c, id)?.0)
        })
    }

    /// A suite's YAML and a readable file name for it (`Capitals quiz.promptfooconfig.yaml`).
    pub fn export_suite(&self, id: i64) -> Result<(String, String)> {
        let (info, yaml) = self.db.with(|c| suite_library::get(c, id))?;
        let safe: String = info
            .name
            .chars()
            .map(|c| {
                if c.is_control() || "/\\:*?\"<>|".contains(c) {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        let safe = safe.trim().trim_start_matches('.').to_string();
        let safe = if safe.is_empty() {
            "suite".into()
        } else {
            safe
        };
        Ok((format!("{safe}.promptfooconfig.yaml"), yaml))
    }

    /// Runs a library suite on its own thread; `on_progress` hears where it stands (at most about
    /// ten times a second, and always the first and the last). `cancel(run_key)` stops it at once,
    /// keeping every finished cell.
    pub fn spawn_suite_run(
        self: &Arc<Self>,
        req: RunRequest,
        on_progress: impl Fn(RunProgress) + Send + Sync + 'static,
    ) -> tokio::sync::oneshot::Receiver<Result<RunSummary>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let service = Arc::clone(self);
        std::thread::spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::from)
                .and_then(|rt| rt.block_on(service.run_library_suite(req, &on_progress)));
            let _ = tx.send(result);
        });
        rx
    }

    async fn run_library_suite(
        &self,
        req: RunRequest,
        on_progress: &(dyn Fn(RunProgress) + Send + Sync),
    ) -> Result<RunSummary> {
        let (guard, cancel) = self.register_stream(Some(req.run_key.clone()))?;
        let (info, yaml) = self.db.with(|c| suite_library::get(c, req.suite_id))?;
        let mut suite = read_stored(&yaml)?;
        if suite.description.trim().is_empty() {
            suite.description = info.name.clone();
        }
        let concurrency = req
            .concurrency
            .or(suite.max_concurrency)
            .unwrap_or(4)
            .clamp(1, MAX_CONCURRENCY);
        let opts = RunOptions {
            concurrency,
            use_cache: req.use_cache,
            filter: None,
            config_path: Some(format!("library:{}", info.name)),
        };
        let mut last: Option<std::time::Instant> = None;
        let mut progress = |p: &Progress| {
            let due = last.is_none_or(|t| t.elapsed().as_millis() >= 100);
            if due || p.done == p.total {
                last = Some(std::time::Instant::now());
                on_progress(p.into());
            }
        };
        let finished = self
            .run_suite(&suite, &opts, &cancel, &mut progress)
            .await?;
        drop(guard);
        let summary = RunSummary {
            run_id: finished.run_id,
            progress: (&finished.progress).into(),
            cancelled: finished.cancelled,
        };
        on_progress(summary.progress);
        Ok(summary)
    }
}
