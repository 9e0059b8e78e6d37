//! Rating, choosing, the arena, the leaderboard, rating summaries and exports, judge agreement.

use tauri::ipc::Channel;
use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::ThreadMessage;
use parley_core::chat::arena::{ArenaRequest, ArenaReveal, ArenaRound};
use parley_core::chat::ChatEvent;
use parley_core::error::Result;
use parley_core::eval::agreement::JudgeAgreement;
use parley_core::eval::arena::{BattleFilter, Winner};
use parley_core::eval::ratings::{Rating, RatingState};
use parley_core::eval::stats::{Leaderboard, LeaderboardOptions};
use parley_core::eval::summary::{ExportFormat, ModelRatings, RatingFilter};

#[tauri::command(async)]
pub fn rate_reply(
    state: State<'_, AppState>,
    message_id: i64,
    rating: Rating,
) -> Result<RatingState> {
    state.service()?.rate_reply(message_id, rating)
}

#[tauri::command(async)]
pub fn get_rating(state: State<'_, AppState>, message_id: i64) -> Result<RatingState> {
    state.service()?.rating(message_id)
}

#[tauri::command(async)]
pub fn list_rating_reasons(state: State<'_, AppState>) -> Result<Vec<String>> {
    state.service()?.rating_reasons()
}

#[tauri::command(async)]
pub fn set_rating_reasons(state: State<'_, AppState>, reasons: Vec<String>) -> Result<Vec<String>> {
    state.service()?.set_rating_reasons(reasons)
}

/// "Continue with this" among replies made together (counts as a vote when models differ).
#[tauri::command(async)]
pub fn choose_reply(state: State<'_, AppState>, message_id: i64) -> Result<Vec<ThreadMessage>> {
    state.service()?.choose_reply(message_id)
}

#[tauri::command]
pub async fn arena_round(
    state: State<'_, AppState>,
    request: ArenaRequest,
    on_event: Channel<ChatEvent>,
) -> Result<ArenaRound> {
    let service = state.service()?;
    service
        .arena_round(request, crate::batch::batched(on_event))
        .await
}

#[tauri::command(async)]
pub fn arena_vote(
    state: State<'_, AppState>,
    battle_id: i64,
    winner: Winner,
) -> Result<ArenaReveal> {
    state.service()?.arena_vote(battle_id, winner)
}

/// Bradley–Terry ranking with bootstrap intervals from every vote that passes the filter.
#[tauri::command]
pub async fn leaderboard(state: State<'_, AppState>, filter: BattleFilter) -> Result<Leaderboard> {
    let service = state.service()?;
    service
        .leaderboard(filter, LeaderboardOptions::default())
        .await
}

#[tauri::command(async)]
pub fn ratings_by_model(
    state: State<'_, AppState>,
    filter: RatingFilter,
) -> Result<Vec<ModelRatings>> {
    state.service()?.ratings_by_model(&filter)
}

/// Saves the ratings, votes and verdicts where the user chooses (the system save dialog); returns
/// the path, or `None` if the user cancelled.
#[tauri::command]
pub async fn export_ratings<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    filter: RatingFilter,
    format: ExportFormat,
) -> Result<Option<std::path::PathBuf>> {
    let service = state.service()?;
    let (text, ext) = service.ratings_export(filter, format).await?;
    let name = format!("parley-ratings-{}.{ext}", parley_core::transfer::today());
    let Some(path) = super::organise::save_path(&app, &name)? else {
        return Ok(None);
    };
    parley_core::transfer::write_private(&path, |out| Ok(out.write_all(text.as_bytes())?))?;
    Ok(Some(path))
}

/// How well each judge model and rubric agrees with the user's own ratings and votes.
#[tauri::command]
pub async fn judge_agreement(state: State<'_, AppState>) -> Result<Vec<JudgeAgreement>> {
    let service = state.service()?;
    service.judge_agreement().await
}
