//! Suite runs in the window: the runs list, a run's grid, a cell opened as a rateable reply,
//! the runs a run can be compared with, and two runs compared.

use tauri::State;

use crate::commands::state::AppState;
use parley_core::chat::suite_runs::CellReply;
use parley_core::error::Result;
use parley_core::eval::suite::grid::{CompareGrid, RunGrid};
use parley_core::eval::suite::RunRow;

/// Runs listed, at most.
const MAX_RUNS: i64 = 500;

#[tauri::command(async)]
pub fn list_suite_runs(state: State<'_, AppState>) -> Result<Vec<RunRow>> {
    state.service()?.suite_runs(MAX_RUNS)
}

#[tauri::command(async)]
pub fn suite_run_grid(state: State<'_, AppState>, run_id: i64) -> Result<RunGrid> {
    state.service()?.suite_run_grid(run_id)
}

#[tauri::command(async)]
pub fn open_suite_cell(
    state: State<'_, AppState>,
    run_id: i64,
    prompt: usize,
    provider: usize,
    test: usize,
) -> Result<CellReply> {
    state
        .service()?
        .suite_cell_reply(run_id, prompt, provider, test)
}

#[tauri::command(async)]
pub fn suite_runs_like(state: State<'_, AppState>, run_id: i64) -> Result<Vec<RunRow>> {
    state.service()?.suite_runs_like(run_id)
}

#[tauri::command(async)]
pub fn compare_suite_runs(
    state: State<'_, AppState>,
    before: i64,
    after: i64,
) -> Result<CompareGrid> {
    state.service()?.suite_compare(before, after)
}
