//! A suite run's cells as real replies: the message a cell was turned into (so it can be rated and
//! judged like any reply), and the judge's latest grade on each of a run's replies.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// One column on `eval_results`: the assistant message a cell became (None until it is opened;
/// back to None when that message is deleted, so opening again makes a new one).
pub(crate) const SUITE_REPLIES_MIGRATION: &str = r#"
    ALTER TABLE eval_results ADD COLUMN message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
    CREATE INDEX eval_results_by_message ON eval_results(message_id) WHERE message_id IS NOT NULL;
"#;

/// A cell: run, prompt, provider, test.
pub type CellKey = (i64, usize, usize, usize);

/// The reply a cell became, when it still exists in a conversation that is not deleted:
/// (conversation id, message id).
pub fn message_of(conn: &Connection, cell: CellKey) -> Result<Option<(i64, i64)>> {
    Ok(conn
        .query_row(
            "SELECT m.conversation_id, m.id FROM eval_results e
             JOIN messages m ON m.id = e.message_id
             JOIN conversations c ON c.id = m.conversation_id AND c.deleted_at IS NULL
             WHERE e.run_id = ?1 AND e.prompt_idx = ?2 AND e.provider_idx = ?3 AND e.test_idx = ?4",
            params![cell.0, cell.1 as i64, cell.2 as i64, cell.3 as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Links a cell to its reply.
pub fn set_message(conn: &Connection, cell: CellKey, message_id: i64) -> Result<()> {
    conn.execute(
        "UPDATE eval_results SET message_id = ?5
         WHERE run_id = ?1 AND prompt_idx = ?2 AND provider_idx = ?3 AND test_idx = ?4",
        params![
            cell.0,
            cell.1 as i64,
            cell.2 as i64,
            cell.3 as i64,
            message_id
        ],
    )?;
    Ok(())
}

/// The judge's latest single grade (1–10) on each cell's reply, by (prompt, provider, test).
pub fn judge_grades(conn: &Connection, run_id: i64) -> Result<HashMap<(usize, usize, usize), i64>> {
    let mut st = conn.prepare_cached(
        "SELECT e.prompt_idx, e.provider_idx, e.test_idx,
                (SELECT v.score FROM judge_verdicts v
                 WHERE v.message_id = e.message_id AND v.kind = 'single' AND v.score IS NOT NULL
                 ORDER BY v.created_at DESC, v.id DESC LIMIT 1)
         FROM eval_results e WHERE e.run_id = ?1 AND e.message_id IS NOT NULL",
    )?;
    let rows = st.query_map([run_id], |r| {
        Ok((
            (
                r.get::<_, i64>(0)? as usize,
                r.get::<_, i64>(1)? as usize,
                r.get::<_, i64>(2)? as usize,
            ),
            r.get::<_, Option<i64>>(3)?,
        ))
    })?;
    let mut out = HashMap::new();
    for row in rows {
        let (k, grade) = row?;
        if let Some(g) = grade {
            out.insert(k, g);
        }
    }
    Ok(out)
}
