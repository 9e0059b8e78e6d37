//! Evaluation suite runs: one row per run, one per cell (prompt × provider × test), written in
//! batches; and the cache of answers keyed by a digest of the exact request.
//!
//! Limits: the cache keeps at most [`CACHE_MAX_ROWS`] answers (the oldest go first, pruned after
//! each run); a run's cells are as many as its grid (the suite's limits bound it).

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Answers kept in the cache, at most.
pub const CACHE_MAX_ROWS: i64 = 200_000;

pub(crate) const SUITES_MIGRATION: &str = r#"
    CREATE TABLE eval_runs (
        id          INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        config_path TEXT,
        -- The grid's labels: {"prompts": [..], "providers": [..], "tests": [..]}.
        grid        TEXT NOT NULL,
        total       INTEGER NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'error')),
        error       TEXT,
        -- A Batch API run: the batch's id, so the run can be resumed.
        batch_id    TEXT,
        created_at  INTEGER NOT NULL,
        finished_at INTEGER
    );
    CREATE TABLE eval_results (
        run_id            INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        prompt_idx        INTEGER NOT NULL,
        provider_idx      INTEGER NOT NULL,
        test_idx          INTEGER NOT NULL,
        output            TEXT NOT NULL,
        error             TEXT,
        pass              INTEGER NOT NULL CHECK (pass IN (0, 1)),
        score             REAL NOT NULL,
        assertions        TEXT NOT NULL,
        latency_ms        REAL,
        prompt_tokens     INTEGER,
        completion_tokens INTEGER,
        cost_usd          REAL,
        cached            INTEGER NOT NULL CHECK (cached IN (0, 1)),
        PRIMARY KEY (run_id, prompt_idx, provider_idx, test_idx)
    ) WITHOUT ROWID;
    CREATE TABLE eval_cache (
        key        TEXT PRIMARY KEY,
        response   TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX eval_cache_by_age ON eval_cache(created_at);
"#;

/// Migration 23: the process writing a run (as `messages.writer`: pid and start time).
pub(crate) const RUN_WRITER_MIGRATION: &str = "ALTER TABLE eval_runs ADD COLUMN writer TEXT;";

/// The labels of a run's grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub prompts: Vec<String>,
    pub providers: Vec<String>,
    pub tests: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRow {
    pub id: i64,
    pub description: String,
    pub config_path: Option<String>,
    pub grid: Grid,
    pub total: i64,
    pub status: String,
    pub error: Option<String>,
    pub batch_id: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// Cells stored so far, and how many passed.
    pub done: i64,
    pub passed: i64,
}

/// One cell's stored result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultRow {
    pub prompt: usize,
    pub provider: usize,
    pub test: usize,
    pub output: String,
    pub error: Option<String>,
    pub pass: bool,
    pub score: f64,
    /// The assertions' outcomes, JSON.
    pub assertions: String,
    pub latency_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
    pub cached: bool,
}

pub fn create_run(
    conn: &Connection,
    description: &str,
    config_path: Option<&str>,
    grid: &Grid,
    total: i64,
) -> Result<i64> {
    let grid = serde_json::to_string(grid).map_err(|e| Error::invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO eval_runs(description, config_path, grid, total, status, created_at, writer)
         VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
        params![
            description,
            config_path,
            grid,
            total,
            super::now_ms(),
            super::messages::process_tag()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn finish_run(conn: &Connection, id: i64, status: &str, error: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE eval_runs SET status = ?2, error = ?3, finished_at = ?4 WHERE id = ?1",
        params![id, status, error, super::now_ms()],
    )?;
    Ok(())
}

/// At start: runs left `running` by a process that is gone (killed, or the machine stopped)
/// become `cancelled`, their finished cells kept; a `--batch` run stays resumable (its batch ids
/// are kept). Runs another live Parley is writing are left alone. Returns how many were marked.
pub fn mark_interrupted_runs(conn: &Connection) -> Result<usize> {
    let orphans: Vec<(i64, bool)> = {
        let mut st = conn.prepare(
            "SELECT id, writer, batch_id IS NOT NULL FROM eval_runs WHERE status = 'running'",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .filter(|(_, writer, _)| !super::messages::writer_alive(writer.as_deref()))
            .map(|(id, _, batch)| (id, batch))
            .collect()
    };
    for (id, batch) in &orphans {
        let why = if *batch {
            format!(
                "Parley stopped while waiting for this run's batches; its finished cells are kept. \
                 `parley eval resume {id}` waits for the rest."
            )
        } else {
            "Parley stopped before this run was complete; its finished cells are kept.".to_string()
        };
        conn.execute(
            "UPDATE eval_runs SET status = 'cancelled', error = ?2, finished_at = ?3
             WHERE id = ?1 AND status = 'running'",
            params![id, why, super::now_ms()],
        )?;
    }
    Ok(orphans.len())
}

pub fn set_batch_id(conn: &Connection, id: i64, batch_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE eval_runs SET batch_id = ?2 WHERE id = ?1",
        params![id, batch_id],
    )?;
    Ok(())
}

/// Stores a batch of cells in one transaction (a cell stored again replaces the old one).
pub fn insert_results(conn: &mut Connection, run_id: i64, rows: &[ResultRow]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare_cached(
            "INSERT OR REPLACE INTO eval_results(run_id, prompt_idx, provider_idx, test_idx, output,
                error, pass, score, assertions, latency_ms, prompt_tokens, completion_tokens,
                cost_usd, cached)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for r in rows {
            st.execute(params![
                run_id,
                r.prompt as i64,
                r.provider as i64,
                r.test as i64,
                r.output,
                r.error,
                r.pass,
                r.score,
                r.assertions,
                r.latency_ms,
                r.prompt_tokens,
                r.completion_tokens,
                r.cost_usd,
                r.cached
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

const RUN_COLUMNS: &str = "r.id, r.description, r.config_path, r.grid, r.total, r.status, r.error,
    r.batch_id, r.created_at, r.finished_at,
    (SELECT count(*) FROM eval_results e WHERE e.run_id = r.id),
    (SELECT count(*) FROM eval_results e WHERE e.run_id = r.id AND e.pass = 1)";

fn run_row(r: &rusqlite::Row) -> rusqlite::Result<RunRow> {
    let grid: String = r.get(3)?;
    Ok(RunRow {
        id: r.get(0)?,
        description: r.get(1)?,
        config_path: r.get(2)?,
        grid: serde_json::from_str(&grid).unwrap_or_default(),
        total: r.get(4)?,
        status: r.get(5)?,
        error: r.get(6)?,
        batch_id: r.get(7)?,
        created_at: r.get(8)?,
        finished_at: r.get(9)?,
        done: r.get(10)?,
        passed: r.get(11)?,
    })
}

/// Runs, newest first (at most `limit`).
pub fn list_runs(conn: &Connection, limit: i64) -> Result<Vec<RunRow>> {
    let mut st = conn.prepare(&format!(
        "SELECT {RUN_COLUMNS} FROM eval_runs r ORDER BY r.id DESC LIMIT ?1"
    ))?;
    let rows = st.query_map([limit], run_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get_run(conn: &Connection, id: i64) -> Result<RunRow> {
    conn.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM eval_runs r WHERE r.id = ?1"),
        [id],
        run_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("There is no evaluation run {id}.")))
}

/// A run's cells in grid order.
pub fn results(conn: &Connection, run_id: i64) -> Result<Vec<ResultRow>> {
    let mut st = conn.prepare(
        "SELECT prompt_idx, provider_idx, test_idx, output, error, pass, score, assertions,
                latency_ms, prompt_tokens, completion_tokens, cost_usd, cached
         FROM eval_results WHERE run_id = ?1 ORDER BY test_idx, prompt_idx, provider_idx",
    )?;
    let rows = st.query_map([run_id], |r| {
        Ok(ResultRow {
            prompt: r.get::<_, i64>(0)? as usize,
            provider: r.get::<_, i64>(1)? as usize,
            test: r.get::<_, i64>(2)? as usize,
            output: r.get(3)?,
            error: r.get(4)?,
            pass: r.get(5)?,
            score: r.get(6)?,
            assertions: r.get(7)?,
            latency_ms: r.get(8)?,
            prompt_tokens: r.get(9)?,
            completion_tokens: r.get(10)?,
            cost_usd: r.get(11)?,
            cached: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn cache_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT response FROM eval_cache WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Stores answers in one transaction.
pub fn cache_put(conn: &mut Connection, entries: &[(String, String)]) -> Result<()> {
    let tx = conn.transaction()?;
    {
        let mut st = tx.prepare_cached(
            "INSERT OR REPLACE INTO eval_cache(key, response, created_at) VALUES (?1, ?2, ?3)",
        )?;
        let now = super::now_ms();
        for (k, v) in entries {
            st.execute(params![k, v, now])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Keeps the newest [`CACHE_MAX_ROWS`] answers.
pub fn cache_prune(conn: &Connection) -> Result<()> {
    conn.execute(
        "DELETE FROM eval_cache WHERE key IN (SELECT key FROM eval_cache
         ORDER BY created_at DESC LIMIT -1 OFFSET ?1)",
        [CACHE_MAX_ROWS],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn row(test: usize, pass: bool) -> ResultRow {
        ResultRow {
            prompt: 0,
            provider: 0,
            test,
            output: format!("out {test}"),
            error: None,
            pass,
            score: f64::from(u8::from(pass)),
            assertions: "[]".into(),
            latency_ms: Some(5.0),
            prompt_tokens: Some(3),
            completion_tokens: Some(2),
            cost_usd: None,
            cached: false,
        }
    }

    #[test]
    fn runs_store_their_cells_in_batches_and_count_passes() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let grid = Grid {
                prompts: vec!["p".into()],
                providers: vec!["m".into()],
                tests: vec!["a".into(), "b".into()],
            };
            let id = create_run(c, "d", None, &grid, 2)?;
            insert_results(c, id, &[row(0, true), row(1, false)])?;
            finish_run(c, id, "done", None)?;
            let run = get_run(c, id)?;
            assert_eq!((run.done, run.passed, run.status.as_str()), (2, 1, "done"));
            assert_eq!(run.grid, grid);
            assert_eq!(results(c, id)?.len(), 2);
            assert_eq!(list_runs(c, 10)?.len(), 1);
            assert!(get_run(c, id + 1).is_err());
            cache_put(c, &[("k".into(), "v".into())])?;
            assert_eq!(cache_get(c, "k")?.as_deref(), Some("v"));
            cache_prune(c)?;
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_run_left_running_by_a_dead_process_is_cancelled_and_keeps_its_cells() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let grid = Grid::default();
            let dead = create_run(c, "dead", None, &grid, 3)?;
            let batch = create_run(c, "batch", None, &grid, 3)?;
            let alive = create_run(c, "alive", None, &grid, 3)?;
            insert_results(c, dead, &[row(0, true)])?;
            set_batch_id(c, batch, "[]")?;
            c.execute(
                "UPDATE eval_runs SET writer = '1:no-such-start' WHERE id IN (?1, ?2)",
                [dead, batch],
            )?;
            assert_eq!(mark_interrupted_runs(c)?, 2);
            let (d, b, a) = (get_run(c, dead)?, get_run(c, batch)?, get_run(c, alive)?);
            assert_eq!((d.status.as_str(), d.done), ("cancelled", 1));
            assert!(b
                .error
                .unwrap()
                .contains(&format!("parley eval resume {batch}")));
            assert_eq!(a.status, "running", "this process's run is left alone");
            Ok(())
        })
        .unwrap();
    }
}
