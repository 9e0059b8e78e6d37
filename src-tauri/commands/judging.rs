//! The LLM judge (issue 4): rubrics, judging a reply or a pair, and a reply's verdicts.

use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::{JudgeKind, Rubric, Verdict, VerdictFilter};
use parley_core::chat::JudgeTarget;
use parley_core::error::Result;

/// The latest version of every rubric.
#[tauri::command(async)]
pub fn list_rubrics(state: State<'_, AppState>) -> Result<Vec<Rubric>> {
    state.service()?.rubrics()
}

/// Saves a rubric as a new version of `name`.
#[tauri::command(async)]
pub fn save_rubric(
    state: State<'_, AppState>,
    name: String,
    kind: JudgeKind,
    body: String,
) -> Result<Rubric> {
    state.service()?.save_rubric(&name, kind, &body)
}

/// Grades one reply 1–10 (`rubric_id` None: the default rubric).
#[tauri::command]
pub async fn judge_reply(
    state: State<'_, AppState>,
    message_id: i64,
    rubric_id: Option<i64>,
    judge: JudgeTarget,
) -> Result<Verdict> {
    let service = state.service()?;
    service.judge_single(message_id, rubric_id, &judge).await
}

/// Compares two replies to the same message, in both orders.
#[tauri::command]
pub async fn judge_pair(
    state: State<'_, AppState>,
    a_id: i64,
    b_id: i64,
    rubric_id: Option<i64>,
    judge: JudgeTarget,
) -> Result<Verdict> {
    let service = state.service()?;
    service.judge_pair(a_id, b_id, rubric_id, &judge).await
}

/// Every verdict about a reply, newest first.
#[tauri::command(async)]
pub fn list_verdicts(state: State<'_, AppState>, message_id: i64) -> Result<Vec<Verdict>> {
    state.service()?.verdicts_of(message_id)
}

/// Every verdict about any of these replies (one call per page of a conversation).
#[tauri::command(async)]
pub fn verdicts_of_messages(
    state: State<'_, AppState>,
    message_ids: Vec<i64>,
) -> Result<Vec<Verdict>> {
    state.service()?.verdicts_of_messages(&message_ids)
}

/// The verdicts the ratings view lists (tag, since, kind), newest first.
#[tauri::command(async)]
pub fn list_all_verdicts(
    state: State<'_, AppState>,
    filter: VerdictFilter,
) -> Result<Vec<Verdict>> {
    state.service()?.list_verdicts(&filter)
}
