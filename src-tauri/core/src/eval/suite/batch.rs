//! Large suites through the OpenAI Batch API (or any server with `/files` and `/batches`, such as
//! vLLM): one batch per provider. The JSONL of every cell's request is uploaded, the batch
//! created and its id stored with the run (so `parley eval resume RUN` picks it up after the app
//! was closed), polled with backoff (from `PARLEY_BATCH_POLL_MS`, default 2 s, doubling up to
//! 60 s), and the output and error files downloaded and mapped back to cells by `custom_id`.
//! Costs are shown at the batch discount ([`BATCH_DISCOUNT`]). The cache is not used: a batch
//! is sent whole. Latency is unknown for a batched cell (a `latency` assertion fails).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::cell::{self, Answer, Resolved};
use super::runner::{self, Finished, Progress, RunOptions};
use super::{saved, Suite};
use crate::db::suite_prompts;
use crate::db::suites::{self, ResultRow};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::openai::types::ChatCompletion;

/// Batch prices are half the synchronous ones (OpenAI's Batch API).
pub const BATCH_DISCOUNT: f64 = 0.5;
/// The longest wait between two polls.
pub const MAX_POLL: Duration = Duration::from_secs(60);

/// The batches of a run, as stored (`eval_runs.batch_id`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Submitted {
    provider: usize,
    batch: String,
}

fn custom_id((p, v, t): (usize, usize, usize)) -> String {
    format!("cell-{p}-{v}-{t}")
}

fn parse_custom_id(id: &str) -> Option<(usize, usize, usize)> {
    let mut it = id.strip_prefix("cell-")?.split('-').map(|n| n.parse().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

/// Uploads every provider's JSONL and creates its batch; the run's id. Cells whose request
/// cannot be built are stored as failed now.
pub async fn submit(
    db: &Db,
    suite: &Suite,
    targets: &[Resolved],
    opts: &RunOptions,
    cancel: &CancellationToken,
) -> Result<i64> {
    let groups = runner::cells(suite, opts.filter.as_ref());
    let total: usize = groups.iter().map(Vec::len).sum();
    let run_id = db.with(|c| {
        let grid = runner::grid(suite);
        let path = opts.config_path.as_deref();
        let id = suites::create_run(c, &suite.description, path, &grid, total as i64)?;
        suite_prompts::record(c, id, &saved::versions(suite))?;
        Ok(id)
    })?;
    let mut submitted = Vec::new();
    let mut failed = Vec::new();
    for (v, cells) in groups.into_iter().enumerate() {
        if cells.is_empty() {
            continue;
        }
        let mut jsonl = String::new();
        for (p, _, t) in cells {
            match cell::request(&suite.prompts[p], &suite.providers[v], &suite.tests[t]) {
                Ok(body) => {
                    let line = json!({"custom_id": custom_id((p, v, t)), "method": "POST",
                                      "url": format!("/v1/{}", body.path()), "body": body});
                    jsonl.push_str(&line.to_string());
                    jsonl.push('\n');
                }
                Err(e) => failed.push(cell::failed((p, v, t), e.to_string())),
            }
        }
        if jsonl.is_empty() {
            continue;
        }
        let target = &targets[v];
        let (ep, client) = (&target.endpoint, &target.client);
        let file = client
            .upload_batch_file(ep, "parley-suite.jsonl", jsonl.as_bytes(), cancel)
            .await?;
        let endpoint = if jsonl.contains("\"url\":\"/v1/completions\"") {
            "/v1/completions"
        } else {
            "/v1/chat/completions"
        };
        let batch = client
            .create_batch(
                ep,
                &json!({"input_file_id": file, "endpoint": endpoint, "completion_window": "24h"}),
                cancel,
            )
            .await?;
        let id = batch["id"]
            .as_str()
            .ok_or_else(|| Error::invalid("the server's batch object has no id"))?;
        submitted.push(Submitted {
            provider: v,
            batch: id.to_string(),
        });
        let stored = serde_json::to_string(&submitted).unwrap_or_default();
        db.with(|c| suites::set_batch_id(c, run_id, &stored))?;
    }
    db.with(|c| suites::insert_results(c, run_id, &failed))?;
    Ok(run_id)
}

fn poll_start() -> Duration {
    let ms = std::env::var("PARLEY_BATCH_POLL_MS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(2_000);
    Duration::from_millis(ms.max(1))
}

/// Waits for a batch to end: its final object.
async fn wait(target: &Resolved, id: &str, cancel: &CancellationToken) -> Result<Value> {
    let mut delay = poll_start();
    loop {
        let b = target
            .client
            .get_batch(&target.endpoint, id, cancel)
            .await?;
        match b["status"].as_str().unwrap_or("") {
            "completed" => return Ok(b),
            s @ ("failed" | "expired" | "cancelled" | "cancelling") => {
                return Err(Error::invalid(format!(
                    "the batch {id} ended as {s}: {}",
                    b["errors"]
                )))
            }
            _ => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(Error::Cancelled),
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(MAX_POLL);
    }
}

/// A line of a batch's output or error file: its cell, and the answer or the error.
type LineAnswer = ((usize, usize, usize), std::result::Result<Answer, String>);

/// One output line → (cell, answer or error).
fn read_line(line: &str) -> Option<LineAnswer> {
    let v: Value = serde_json::from_str(line).ok()?;
    let cell = parse_custom_id(v["custom_id"].as_str()?)?;
    if !v["error"].is_null() {
        let e = &v["error"];
        let msg = e["message"]
            .as_str()
            .map_or_else(|| e.to_string(), str::to_string);
        return Some((cell, Err(msg)));
    }
    let status = v["response"]["status_code"].as_u64().unwrap_or(0);
    let body = &v["response"]["body"];
    if status != 200 {
        return Some((
            cell,
            Err(format!("status {status}: {}", body["error"]["message"])),
        ));
    }
    let answer = serde_json::from_value::<ChatCompletion>(body.clone())
        .map_err(|e| format!("the answer was not understood: {e}"))
        .map(|c| {
            let choice = c.choices.into_iter().find(|ch| ch.index == 0);
            Answer {
                text: choice
                    .and_then(|ch| ch.message.content.or(ch.text))
                    .unwrap_or_default(),
                prompt_tokens: c.usage.as_ref().map(|u| u.prompt_tokens),
                completion_tokens: c.usage.as_ref().map(|u| u.completion_tokens),
                latency_ms: 0.0,
                logprobs: Vec::new(),
            }
        });
    Some((cell, answer))
}

/// Waits for a run's batches, then maps every line back into the run and finishes it.
pub async fn collect(
    db: &Db,
    suite: &Suite,
    targets: &[Resolved],
    run_id: i64,
    cancel: &CancellationToken,
    on_progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Finished> {
    let started = Instant::now();
    let run = db.with(|c| suites::get_run(c, run_id))?;
    let submitted: Vec<Submitted> = run
        .batch_id
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| Error::invalid(format!("Run {run_id} has no batch to wait for.")))?;
    let mut progress = Progress {
        total: run.total as usize,
        ..Default::default()
    };
    let mut rows: Vec<ResultRow> = db.with(|c| suites::results(c, run_id))?;
    for s in &submitted {
        let target = targets
            .get(s.provider)
            .ok_or_else(|| Error::invalid("the suite changed since the batch was sent"))?;
        let b = match wait(target, &s.batch, cancel).await {
            Err(Error::Cancelled) => {
                return Ok(Finished {
                    run_id,
                    progress,
                    cancelled: true,
                })
            }
            other => other?,
        };
        let mut answers = HashMap::new();
        for key in ["output_file_id", "error_file_id"] {
            if let Some(file) = b[key].as_str() {
                let bytes = target
                    .client
                    .file_content(&target.endpoint, file, cancel)
                    .await?;
                for line in String::from_utf8_lossy(&bytes).lines() {
                    answers.extend(read_line(line));
                }
            }
        }
        let cells = runner::cells(suite, None)
            .into_iter()
            .nth(s.provider)
            .unwrap_or_default();
        for (p, v, t) in cells {
            if rows
                .iter()
                .any(|r| (r.prompt, r.provider, r.test) == (p, v, t))
            {
                continue;
            }
            let Some(answer) = answers.remove(&(p, v, t)) else {
                continue;
            };
            let row = match answer {
                Err(e) => cell::failed((p, v, t), e),
                Ok(a) => score(suite, targets, (p, v, t), a, cancel).await?,
            };
            // Stopped while a judge graded: that cell is not stored, `eval resume` scores it.
            if cancel.is_cancelled() {
                return Ok(Finished {
                    run_id,
                    progress,
                    cancelled: true,
                });
            }
            rows.push(row.clone());
            progress.done += 1;
            progress.passed += usize::from(row.pass);
            progress.failed += usize::from(!row.pass);
            progress.errors += usize::from(row.error.is_some());
            progress.elapsed = started.elapsed();
            db.with(|c| suites::insert_results(c, run_id, std::slice::from_ref(&row)))?;
            on_progress(&progress);
        }
    }
    db.with(|c| suites::finish_run(c, run_id, "done", None))?;
    progress.elapsed = started.elapsed();
    Ok(Finished {
        run_id,
        progress,
        cancelled: false,
    })
}

async fn score(
    suite: &Suite,
    targets: &[Resolved],
    (p, v, t): (usize, usize, usize),
    answer: Answer,
    cancel: &CancellationToken,
) -> Result<ResultRow> {
    let (provider, test) = (&suite.providers[v], &suite.tests[t]);
    let body = cell::request(&suite.prompts[p], provider, test)?;
    let cost = match (
        &targets[v].price,
        answer.prompt_tokens,
        answer.completion_tokens,
    ) {
        (Some(price), Some(i), Some(o)) => price.cost(i, o).map(|c| c * BATCH_DISCOUNT),
        _ => None,
    };
    let (outcomes, pass, score) = cell::check(
        test,
        &body,
        &answer,
        cost,
        cell::grader(suite, targets, test, v),
        cancel,
    )
    .await;
    Ok(ResultRow {
        prompt: p,
        provider: v,
        test: t,
        output: answer.text,
        error: None,
        pass,
        score,
        assertions: serde_json::to_string(&outcomes).unwrap_or_else(|_| "[]".into()),
        latency_ms: None,
        prompt_tokens: answer.prompt_tokens,
        completion_tokens: answer.completion_tokens,
        cost_usd: cost,
        cached: false,
    })
}
