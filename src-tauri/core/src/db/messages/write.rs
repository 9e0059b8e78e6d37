//! Writing messages: the user's message, tool results, a reply's placeholder, its append-only
//! checkpoints and its final state; and the selection stamps that make a new message the active one.

use super::*;

/// A stamp newer than every child of `parent` (every root when `None`), even within one
/// millisecond: a new message is the active one among its siblings. Only the siblings are read
/// (through an index), so this costs the same in a 100,000-message conversation.
fn next_stamp(conn: &Connection, conversation_id: i64, parent: Option<i64>) -> Result<i64> {
    let newest: Option<i64> = match parent {
        Some(p) => conn.query_row(
            "SELECT max(coalesce(selected_at, created_at)) FROM messages WHERE parent_id = ?1",
            [p],
            |r| r.get(0),
        )?,
        None => conn.query_row(
            "SELECT max(coalesce(selected_at, created_at)) FROM messages
             WHERE conversation_id = ?1 AND parent_id IS NULL",
            [conversation_id],
            |r| r.get(0),
        )?,
    };
    Ok(newest.map_or(0, |n| n + 1).max(now_ms()))
}

/// Replies made together (a group) share the first one's stamp, so until one is chosen the first
/// column is the active one (ties go to the first made), not whichever was saved last.
fn group_stamp(conn: &Connection, origin: &ReplyOrigin) -> Result<Option<i64>> {
    let Some(group) = origin.group_id.as_deref() else {
        return Ok(None);
    };
    Ok(conn.query_row(
        "SELECT min(selected_at) FROM messages WHERE group_id = ?1",
        [group],
        |r| r.get(0),
    )?)
}

/// Saves the user's message (its own short transaction, committed before any network call).
pub(crate) fn insert_user(
    conn: &mut Connection,
    conversation_id: i64,
    parent_id: Option<i64>,
    content: &str,
) -> Result<Message> {
    let tx = conn.transaction()?;
    conversations::get(&tx, conversation_id)?;
    let stamp = next_stamp(&tx, conversation_id, parent_id)?;
    tx.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at, selected_at)
         VALUES (?1, ?2, 'user', ?3, 'done', ?4, ?5)",
        params![conversation_id, parent_id, content, now_ms(), stamp],
    )?;
    let id = tx.last_insert_rowid();
    conversations::title_if_untitled(&tx, conversation_id, content)?;
    conversations::touch(&tx, conversation_id)?;
    tx.commit()?;
    get(conn, id)
}

/// Saves the results the user typed for a reply's tool calls: one `tool` message per call, each
/// under the one before (the first under the reply), in one transaction. Every result must answer
/// one of the reply's calls. Returns the messages, the last one being where the next reply goes.
pub fn insert_tool_results(
    conn: &mut Connection,
    reply_id: i64,
    results: &[(String, String)],
) -> Result<Vec<Message>> {
    let reply = get(conn, reply_id)?;
    if reply.role != Role::Assistant || reply.tool_calls.is_empty() {
        return Err(Error::invalid(
            "Tool results answer a reply that called tools; this one did not.",
        ));
    }
    for (id, _) in results {
        if !reply.tool_calls.iter().any(|c| &c.id == id) {
            return Err(Error::invalid(format!(
                "The reply made no tool call with the id \"{id}\"."
            )));
        }
    }
    let tx = conn.transaction()?;
    let mut parent = reply.id;
    let mut ids = Vec::with_capacity(results.len());
    for (call_id, content) in results {
        let stamp = next_stamp(&tx, reply.conversation_id, Some(parent))?;
        tx.execute(
            "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at, selected_at, tool_call_id)
             VALUES (?1, ?2, 'tool', ?3, 'done', ?4, ?5, ?6)",
            params![reply.conversation_id, parent, content, now_ms(), stamp, call_id],
        )?;
        parent = tx.last_insert_rowid();
        ids.push(parent);
    }
    conversations::touch(&tx, reply.conversation_id)?;
    tx.commit()?;
    ids.into_iter().map(|id| get(conn, id)).collect()
}

/// Creates the reply row, empty and `streaming`, under the user message it answers.
pub(crate) fn insert_reply_placeholder(
    conn: &Connection,
    user_message: &Message,
    origin: &ReplyOrigin,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at, writer,
                              group_id, choice_index, endpoint, profile_name, selected_at)
         VALUES (?1, ?2, 'assistant', '', 'streaming', nullif(?3, ''), ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            user_message.conversation_id,
            user_message.id,
            origin.model,
            now_ms(),
            process_tag(),
            origin.group_id,
            origin.choice_index,
            origin.endpoint,
            origin.profile_name,
            group_stamp(conn, origin)?.map_or_else(
                || next_stamp(conn, user_message.conversation_id, Some(user_message.id)),
                Ok
            )?
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Saves the partial text of a reply that is still streaming (called every few hundred ms, not per token).
/// Appends the text that arrived since the last checkpoint of a streaming reply: one small row,
/// so a checkpoint costs what is new, not the whole reply (before: every 750 ms the whole text was
/// rewritten — 133 MB took 316 s). `finish` and `mark_interrupted` fold the pieces back in.
pub fn checkpoint(conn: &Connection, id: i64, new_text: &str) -> Result<()> {
    if new_text.is_empty() {
        return Ok(());
    }
    conn.execute(
        "INSERT INTO reply_chunks(message_id, seq, text)
         SELECT ?1, coalesce((SELECT max(seq) FROM reply_chunks WHERE message_id = ?1), 0) + 1, ?2
         WHERE EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND status = 'streaming')",
        params![id, new_text],
    )?;
    Ok(())
}

/// Saves the reasoning streamed so far of a reply that is still streaming (whole: it is bounded
/// like the reply, and most replies have none).
pub fn checkpoint_reasoning(conn: &Connection, id: i64, reasoning: &str) -> Result<()> {
    conn.execute(
        "UPDATE messages SET reasoning = ?2 WHERE id = ?1 AND status = 'streaming'",
        params![id, reasoning],
    )?;
    Ok(())
}

/// Writes the final state of a reply in one transaction (D1): its checkpointed pieces go only
/// with the whole text in place, so a failed write (a full disk, a lock held too long) leaves the
/// pieces for the recovery at the next start. A savepoint: also inside a caller's transaction.
pub fn finish(conn: &Connection, id: i64, o: &Outcome) -> Result<Message> {
    conn.execute_batch("SAVEPOINT finish_reply")?;
    let written = finish_in(conn, id, o).and_then(|m| {
        conn.execute_batch("RELEASE finish_reply")?;
        Ok(m)
    });
    if written.is_err() {
        let _ = conn.execute_batch("ROLLBACK TO finish_reply; RELEASE finish_reply");
    }
    written
}

fn finish_in(conn: &Connection, id: i64, o: &Outcome) -> Result<Message> {
    let status = o.status.unwrap_or(Status::Done);
    // The whole text is here: the checkpointed pieces go. The model asked for stays in `model`;
    // the one the server claimed is kept beside it when it differs.
    conn.execute("DELETE FROM reply_chunks WHERE message_id = ?1", [id])?;
    conn.execute(
        "UPDATE messages SET content = ?2, status = ?3,
             served_model = CASE WHEN ?4 IS NOT NULL AND ?4 IS NOT model THEN ?4 END,
             model = coalesce(model, ?4), error_kind = ?5,
             error_message = ?6, prompt_tokens = ?7, completion_tokens = ?8, ttft_ms = ?9, total_ms = ?10,
             finish_reason = ?11, tokens_counted = ?12, cost_usd = ?13, omitted = ?14,
             reasoning = ?15, reasoning_tokens = ?16, reasoning_cost_usd = ?17, thinking_ms = ?18,
             tool_calls = ?19, logprobs = ?20, mean_logprob = ?21,
             schema_check = ?22
         WHERE id = ?1",
        params![
            id,
            o.content,
            status.as_str(),
            o.model,
            o.error_kind,
            o.error_message.as_deref().map(|m| redact(m, None)),
            o.prompt_tokens,
            o.completion_tokens,
            o.ttft_ms,
            o.total_ms,
            o.finish_reason,
            o.tokens_counted as i64,
            o.cost_usd,
            o.omitted,
            o.reasoning,
            o.reasoning_tokens,
            o.reasoning_cost_usd,
            o.thinking_ms,
            (!o.tool_calls.is_empty())
                .then(|| serde_json::to_string(&o.tool_calls).unwrap_or_default()),
            (!o.logprobs.is_empty())
                .then(|| serde_json::to_string(&o.logprobs).unwrap_or_default()),
            crate::openai::logprobs::stats(&o.logprobs).map(|s| s.mean_logprob),
            o.schema_check
                .as_ref()
                .map(|c| serde_json::to_string(c).unwrap_or_default())
        ],
    )?;
    let message = get(conn, id)?;
    conversations::touch(conn, message.conversation_id)?;
    Ok(message)
}
