//! Sending, retrying and stopping replies; events stream back over a channel (text joined to
//! one message per frame, `batch.rs`).

use tauri::ipc::Channel;
use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::Message;
use parley_core::chat::{ChatEvent, RetryRequest, SendRequest, TokenBranchRequest};
use parley_core::error::Result;

#[tauri::command]
pub async fn send_message(
    state: State<'_, AppState>,
    request: SendRequest,
    on_event: Channel<ChatEvent>,
) -> Result<Vec<Message>> {
    let service = state.service()?;
    service
        .send_all(request, crate::batch::batched(on_event))
        .await
}

#[tauri::command]
pub async fn retry_message(
    state: State<'_, AppState>,
    request: RetryRequest,
    on_event: Channel<ChatEvent>,
) -> Result<Vec<Message>> {
    let service = state.service()?;
    service
        .retry_all(request, crate::batch::batched(on_event))
        .await
}

/// Legacy completions: the reply's text up to a token plus one of its alternatives, continued
/// as a new branch.
#[tauri::command]
pub async fn continue_from_token(
    state: State<'_, AppState>,
    request: TokenBranchRequest,
    on_event: Channel<ChatEvent>,
) -> Result<Message> {
    let service = state.service()?;
    service
        .continue_from_token(request, crate::batch::batched(on_event))
        .await
}

#[tauri::command(async)]
pub fn cancel_stream(state: State<'_, AppState>, stream_id: String) -> Result<bool> {
    Ok(state.service()?.cancel(&stream_id))
}
