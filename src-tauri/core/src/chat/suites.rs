//! Evaluation suites over the chat service: each provider resolved to a server, key and client
//! (keys only to their own origin, K4), saved prompts (`parley://NAME@VERSION`) read from the
//! library, and runs started, listed and read.

use std::borrow::Cow;

use tokio_util::sync::CancellationToken;

use super::{provider, ChatService};
use crate::db::profiles::ProfileKind;
use crate::db::suites::{self, ResultRow, RunRow};
use crate::error::Result;
use crate::eval::suite::cell::Resolved;
use crate::eval::suite::runner::{self, Finished, Progress, RunOptions};
use crate::eval::suite::{batch, saved};
use crate::eval::suite::{Provider, Suite, Target};

impl ChatService {
    /// Where a suite provider's requests go. `openai:` uses the default profile's server and key;
    /// with `apiBaseUrl`, that server, and a key only when one is bound to its origin (a suite
    /// file never sends a key elsewhere). `parley:PROFILE:` uses that saved profile.
    pub async fn resolve_suite_provider(&self, p: &Provider) -> Result<Resolved> {
        let mut row = match &p.target {
            Target::Profile { name } => {
                let id = self.profile_id_by_name(Some(name))?;
                self.profile_row(id)?
            }
            Target::OpenAi { .. } => self.profile_row(None)?,
        };
        if let Target::OpenAi {
            base_url: Some(url),
        } = &p.target
        {
            row.base_url = Some(url.clone());
            row.kind = ProfileKind::Compatible;
        }
        let stored = self.stored_key(&row).await;
        let endpoint = provider::endpoint(&row, &self.env, stored, None)?;
        let client = self.client_for(&row)?;
        let price = self
            .db
            .with(|c| crate::db::pricing::lookup(c, &p.model))
            .ok()
            .flatten();
        Ok(Resolved {
            endpoint,
            client,
            price,
        })
    }

    /// Every provider of a suite, resolved (the first failure is the error, with its label).
    pub async fn resolve_suite(
        &self,
        suite: &Suite,
    ) -> std::result::Result<Vec<Resolved>, (String, crate::error::Error)> {
        let mut out = Vec::with_capacity(suite.providers.len());
        for p in &suite.providers {
            out.push(
                self.resolve_suite_provider(p)
                    .await
                    .map_err(|e| (p.label.clone(), e))?,
            );
        }
        Ok(out)
    }

    /// Reads the suite's saved prompts (`parley://NAME[@VERSION]`) from the library: an unknown
    /// name or version is an error naming the config's line.
    pub fn read_saved_prompts(&self, suite: &mut Suite) -> Result<()> {
        if saved::pending(suite) {
            self.db.with(|c| saved::resolve(c, suite))?;
        }
        Ok(())
    }

    /// The suite with its saved prompts read (borrowed when it has none left to read).
    fn with_saved_prompts<'a>(&self, suite: &'a Suite) -> Result<Cow<'a, Suite>> {
        if !saved::pending(suite) {
            return Ok(Cow::Borrowed(suite));
        }
        let mut owned = suite.clone();
        self.read_saved_prompts(&mut owned)?;
        Ok(Cow::Owned(owned))
    }

    /// What every run starts with: the saved prompts read, then each provider resolved.
    async fn prepare_suite<'a>(&self, suite: &'a Suite) -> Result<(Cow<'a, Suite>, Vec<Resolved>)> {
        let read = self.with_saved_prompts(suite)?;
        let targets = self.resolve_suite(&read).await.map_err(|(_, e)| e)?;
        Ok((read, targets))
    }

    /// Runs a suite's grid, storing every finished cell.
    pub async fn run_suite(
        &self,
        suite: &Suite,
        opts: &RunOptions,
        cancel: &CancellationToken,
        on_progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<Finished> {
        let (read, targets) = self.prepare_suite(suite).await?;
        let suite = &*read;
        runner::run(&self.db, suite, &targets, opts, cancel, on_progress).await
    }

    /// Runs a suite through the Batch API: submits, then waits for the batches and stores every
    /// cell (the batch ids are stored first, so [`ChatService::resume_suite_batch`] can finish a
    /// run whose wait was interrupted).
    pub async fn run_suite_batch(
        &self,
        suite: &Suite,
        opts: &RunOptions,
        cancel: &CancellationToken,
        on_progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<Finished> {
        let (read, targets) = self.prepare_suite(suite).await?;
        let suite = &*read;
        let run_id = batch::submit(&self.db, suite, &targets, opts, cancel).await?;
        batch::collect(&self.db, suite, &targets, run_id, cancel, on_progress).await
    }

    /// Waits again for the batches of an interrupted run (the suite as it was run).
    pub async fn resume_suite_batch(
        &self,
        suite: &Suite,
        run_id: i64,
        cancel: &CancellationToken,
        on_progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<Finished> {
        let (read, targets) = self.prepare_suite(suite).await?;
        let suite = &*read;
        batch::collect(&self.db, suite, &targets, run_id, cancel, on_progress).await
    }

    /// Evaluation runs, newest first.
    pub fn suite_runs(&self, limit: i64) -> Result<Vec<RunRow>> {
        self.db.with(|c| suites::list_runs(c, limit))
    }

    /// One run and its cells.
    pub fn suite_run(&self, id: i64) -> Result<(RunRow, Vec<ResultRow>)> {
        self.db
            .with(|c| Ok((suites::get_run(c, id)?, suites::results(c, id)?)))
    }
}
