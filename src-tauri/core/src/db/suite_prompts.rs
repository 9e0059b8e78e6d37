//! Which saved prompt version each prompt of an evaluation run was (`parley://NAME@VERSION`), so
//! every cell's version is known (its run and prompt index), and each version's suite pass rate:
//! its latest run's cells passed, and how many runs used it.

use rusqlite::{params, Connection};

use crate::error::Result;

pub(crate) const MIGRATION: &str = r#"
    CREATE TABLE eval_prompt_versions (
        run_id     INTEGER NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
        prompt_idx INTEGER NOT NULL,
        version_id INTEGER NOT NULL REFERENCES prompt_versions(id) ON DELETE CASCADE,
        PRIMARY KEY (run_id, prompt_idx)
    ) WITHOUT ROWID;
    CREATE INDEX eval_prompt_versions_by_version ON eval_prompt_versions(version_id);
"#;

/// Stores (prompt index, `prompt_versions.id`) for a run.
pub fn record(conn: &Connection, run_id: i64, versions: &[(usize, i64)]) -> Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT OR REPLACE INTO eval_prompt_versions(run_id, prompt_idx, version_id)
         VALUES (?1, ?2, ?3)",
    )?;
    for (idx, version_id) in versions {
        st.execute(params![run_id, *idx as i64, version_id])?;
    }
    Ok(())
}

/// One version's suite results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VersionRuns {
    pub version: i64,
    /// Runs with at least one cell of this version.
    pub runs: i64,
    /// The newest of them, and its cells of this version: how many, how many passed.
    pub latest_run: i64,
    pub cells: i64,
    pub passed: i64,
}

/// Suite results of every version of prompt `prompt_id` that a run used (newest version first).
pub fn by_version(conn: &Connection, prompt_id: i64) -> Result<Vec<VersionRuns>> {
    let mut st = conn.prepare_cached(
        "WITH uses AS (
            SELECT e.run_id, e.prompt_idx, e.version_id, v.version
            FROM eval_prompt_versions e JOIN prompt_versions v ON v.id = e.version_id
            WHERE v.prompt_id = ?1 AND EXISTS (SELECT 1 FROM eval_results r
                WHERE r.run_id = e.run_id AND r.prompt_idx = e.prompt_idx)
         ), latest AS (
            SELECT version_id, version, count(DISTINCT run_id) AS runs, max(run_id) AS run
            FROM uses GROUP BY version_id
         )
         SELECT l.version, l.runs, l.run, count(*), sum(r.pass)
         FROM latest l JOIN uses u ON u.version_id = l.version_id AND u.run_id = l.run
         JOIN eval_results r ON r.run_id = u.run_id AND r.prompt_idx = u.prompt_idx
         GROUP BY l.version_id ORDER BY l.version DESC",
    )?;
    let rows = st.query_map([prompt_id], |r| {
        Ok(VersionRuns {
            version: r.get(0)?,
            runs: r.get(1)?,
            latest_run: r.get(2)?,
            cells: r.get(3)?,
            passed: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
