//! Runs a suite's grid (prompts × providers × tests): each provider's cells at most `concurrency`
//! at a time (the providers in parallel), the client's retries (429 / 5xx, SECURITY.md N1), the
//! cache (a cell whose exact request was answered before is not sent again, unless `use_cache`
//! is off), results written in batches of [`WRITE_BATCH`] or every [`WRITE_EVERY`], and Cancel,
//! which stops every request at once and keeps every finished cell.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use super::cell::{self, Answer, Resolved};
use super::{saved, Suite};
use crate::db::suite_prompts;
use crate::db::suites::{self, Grid, ResultRow};
use crate::db::Db;
use crate::error::{Error, Result};

/// Cells written per transaction, at most.
pub const WRITE_BATCH: usize = 256;
/// Longest wait before finished cells are written.
pub const WRITE_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Requests in flight per provider.
    pub concurrency: usize,
    pub use_cache: bool,
    /// Only the tests whose name (description, else vars) matches.
    pub filter: Option<regex::Regex>,
    pub config_path: Option<String>,
}

/// Where a run stands, after each cell.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    /// Cells whose request failed (counted in `failed` too).
    pub errors: usize,
    pub cached: usize,
    pub elapsed: Duration,
}

impl Progress {
    /// Time left, from the pace so far.
    pub fn eta(&self) -> Option<Duration> {
        (self.done > 0 && self.done < self.total).then(|| {
            self.elapsed
                .mul_f64((self.total - self.done) as f64 / self.done as f64)
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub run_id: i64,
    pub progress: Progress,
    pub cancelled: bool,
}

/// The grid's labels (stored with the run).
pub fn grid(suite: &Suite) -> Grid {
    Grid {
        prompts: suite.prompts.iter().map(|p| p.label.clone()).collect(),
        providers: suite.providers.iter().map(|p| p.label.clone()).collect(),
        tests: suite
            .tests
            .iter()
            .enumerate()
            .map(|(i, t)| t.name(i))
            .collect(),
    }
}

/// The cells to run: (prompt, provider, test), grouped by provider.
pub(super) fn cells(
    suite: &Suite,
    filter: Option<&regex::Regex>,
) -> Vec<Vec<(usize, usize, usize)>> {
    let tests: Vec<usize> = (0..suite.tests.len())
        .filter(|&i| filter.is_none_or(|re| re.is_match(&suite.tests[i].name(i))))
        .collect();
    (0..suite.providers.len())
        .map(|v| {
            let mut out = Vec::with_capacity(tests.len() * suite.prompts.len());
            for &t in &tests {
                for p in 0..suite.prompts.len() {
                    out.push((p, v, t));
                }
            }
            out
        })
        .collect()
}

struct Ctx<'a> {
    suite: &'a Suite,
    targets: &'a [Resolved],
    db: &'a Db,
    use_cache: bool,
    cancel: &'a CancellationToken,
}

/// One cell: `None` when it was cancelled before it finished.
async fn run_cell(
    ctx: &Ctx<'_>,
    (p, v, t): (usize, usize, usize),
) -> Option<(ResultRow, Option<(String, String)>)> {
    let (suite, target) = (ctx.suite, &ctx.targets[v]);
    let (provider, test) = (&suite.providers[v], &suite.tests[t]);
    let body = match cell::request(&suite.prompts[p], provider, test) {
        Ok(b) => b,
        Err(e) => return Some((cell::failed((p, v, t), e.to_string()), None)),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    let key = cell::cache_key(&target.origin(), &json);
    let hit: Option<Answer> = if ctx.use_cache {
        ctx.db
            .with(|c| suites::cache_get(c, &key))
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok())
    } else {
        None
    };
    let cached = hit.is_some();
    let answer = match hit {
        Some(a) => a,
        None => match cell::call(target, &body, ctx.cancel).await {
            Ok(a) => a,
            Err(Error::Cancelled) => return None,
            Err(e) => return Some((cell::failed((p, v, t), e.to_string()), None)),
        },
    };
    let cost = match (
        &target.price,
        answer.prompt_tokens,
        answer.completion_tokens,
    ) {
        (Some(price), Some(i), Some(o)) => price.cost(i, o),
        _ => None,
    };
    let grader = cell::grader(suite, ctx.targets, test, v);
    let (outcomes, pass, score) = cell::check(test, &body, &answer, cost, grader, ctx.cancel).await;
    if ctx.cancel.is_cancelled() {
        return None;
    }
    let row = ResultRow {
        prompt: p,
        provider: v,
        test: t,
        output: answer.text.clone(),
        error: None,
        pass,
        score,
        assertions: serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into()),
        latency_ms: Some(answer.latency_ms),
        prompt_tokens: answer.prompt_tokens,
        completion_tokens: answer.completion_tokens,
        cost_usd: cost,
        cached,
    };
    let store = (!cached).then(|| (key, serde_json::to_string(&answer).unwrap_or_default()));
    Some((row, store))
}

pub(super) fn flush(
    db: &Db,
    run_id: i64,
    rows: &mut Vec<ResultRow>,
    cache: &mut Vec<(String, String)>,
) {
    if rows.is_empty() && cache.is_empty() {
        return;
    }
    let result = db.with(|c| {
        suites::insert_results(c, run_id, rows)?;
        suites::cache_put(c, cache)
    });
    if let Err(e) = result {
        crate::trace(&format!("suite results not written: {e}"));
    }
    rows.clear();
    cache.clear();
}

/// Runs the grid; `targets[i]` is `suite.providers[i]` resolved.
pub async fn run(
    db: &Db,
    suite: &Suite,
    targets: &[Resolved],
    opts: &RunOptions,
    cancel: &CancellationToken,
    on_progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Finished> {
    if targets.len() != suite.providers.len() {
        return Err(Error::invalid(
            "every provider must be resolved before a run",
        ));
    }
    let groups = cells(suite, opts.filter.as_ref());
    let total: usize = groups.iter().map(Vec::len).sum();
    let run_id = db.with(|c| {
        let id = suites::create_run(
            c,
            &suite.description,
            opts.config_path.as_deref(),
            &grid(suite),
            total as i64,
        )?;
        suite_prompts::record(c, id, &saved::versions(suite))?;
        Ok(id)
    })?;
    let ctx = Ctx {
        suite,
        targets,
        db,
        use_cache: opts.use_cache,
        cancel,
    };
    let j = opts.concurrency.max(1);
    let ctx = &ctx;
    let streams = groups.into_iter().map(|cells| {
        stream::iter(cells)
            .map(move |c| run_cell(ctx, c))
            .buffer_unordered(j)
            .boxed_local()
    });
    let mut all = stream::select_all(streams);
    let started = Instant::now();
    let mut progress = Progress {
        total,
        ..Default::default()
    };
    on_progress(&progress);
    let (mut rows, mut cache) = (Vec::new(), Vec::new());
    let mut last_write = Instant::now();
    let mut cancelled = false;
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => { cancelled = true; break; }
            n = all.next() => n,
        };
        let Some(result) = next else { break };
        let Some((row, store)) = result else {
            cancelled = true;
            break;
        };
        progress.done += 1;
        if row.pass {
            progress.passed += 1;
        } else {
            progress.failed += 1;
        }
        progress.errors += usize::from(row.error.is_some());
        progress.cached += usize::from(row.cached);
        progress.elapsed = started.elapsed();
        rows.push(row);
        cache.extend(store);
        if rows.len() >= WRITE_BATCH || last_write.elapsed() >= WRITE_EVERY {
            flush(db, run_id, &mut rows, &mut cache);
            last_write = Instant::now();
        }
        on_progress(&progress);
    }
    drop(all);
    flush(db, run_id, &mut rows, &mut cache);
    let status = if cancelled { "cancelled" } else { "done" };
    db.with(|c| {
        suites::finish_run(c, run_id, status, None)?;
        suites::cache_prune(c)
    })?;
    progress.elapsed = started.elapsed();
    Ok(Finished {
        run_id,
        progress,
        cancelled,
    })
}
