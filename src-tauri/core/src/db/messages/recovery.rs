//! After a crash: replies left `streaming` by a writer that is gone become `interrupted` (their
//! checkpointed text kept); a live writer's (another `parley` still streaming) are left alone.

use rusqlite::Connection;

use crate::error::Result;

/// This process, as written in `messages.writer`: the pid, and on Linux its start time too, so a
/// reused pid is not mistaken for the writer.
pub fn process_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let pid = std::process::id();
        match start_time(pid) {
            Some(t) => format!("{pid}:{t}"),
            None => pid.to_string(),
        }
    })
}

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot); None elsewhere.
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19).map(str::to_owned)
}

/// Is the process that wrote `tag` still running? Where that cannot be known, only this process is.
pub(crate) fn writer_alive(tag: Option<&str>) -> bool {
    let Some(tag) = tag else { return false };
    if tag == process_tag() {
        return true;
    }
    let mut parts = tag.splitn(2, ':');
    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (pid, parts.next()) {
        (Some(pid), Some(started)) => start_time(pid).as_deref() == Some(started),
        _ => false,
    }
}

/// At start: replies whose writer died mid-stream are kept, marked interrupted. Replies another
/// running Parley is streaming are left alone.
pub fn mark_interrupted(conn: &mut Connection) -> Result<usize> {
    let orphans: Vec<i64> = {
        let mut st = conn.prepare("SELECT id, writer FROM messages WHERE status = 'streaming'")?;
        let rows = st
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .filter(|(_, writer)| !writer_alive(writer.as_deref()))
            .map(|(id, _)| id)
            .collect()
    };
    let tx = conn.transaction()?;
    for id in &orphans {
        tx.execute(
            "UPDATE messages SET status = 'interrupted', error_kind = 'interrupted',
                 error_message = 'Parley stopped before this reply was complete.',
                 content = content || coalesce((SELECT group_concat(text, '' ORDER BY seq)
                     FROM reply_chunks WHERE message_id = ?1), '')
             WHERE id = ?1 AND status = 'streaming'",
            [id],
        )?;
        tx.execute("DELETE FROM reply_chunks WHERE message_id = ?1", [id])?;
    }
    tx.commit()?;
    Ok(orphans.len())
}
