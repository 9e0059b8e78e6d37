//! Attaching images and text files in the composer. The file's bytes come as the raw body of the
//! call (no base64 round trip), its name in the `x-parley-name` header, percent-encoded.

use tauri::ipc::{InvokeBody, Request};
use tauri::State;

use crate::commands::state::AppState;
use parley_core::api::{AttachedImage, AttachmentLimits, TextFile};
use parley_core::error::{Error, Result};

/// The raw bytes and the file name of an attach call.
fn file_of<'a>(request: &'a Request<'_>) -> Result<(String, &'a [u8])> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(Error::invalid("The file must be sent as raw bytes."));
    };
    let name = request
        .headers()
        .get("x-parley-name")
        .and_then(|v| v.to_str().ok())
        .map(parley_core::attachments::percent_decoded)
        .unwrap_or_default();
    Ok((name, bytes))
}

/// Checks, downscales and stores an image; returns its reference and thumbnail.
#[tauri::command]
pub async fn attach_image(
    state: State<'_, AppState>,
    request: Request<'_>,
) -> Result<AttachedImage> {
    let (name, bytes) = file_of(&request)?;
    state.service()?.attach_image(&name, bytes.to_vec()).await
}

/// Checks a text file (UTF-8, size) for sending as a fenced block.
#[tauri::command]
pub async fn attach_file(state: State<'_, AppState>, request: Request<'_>) -> Result<TextFile> {
    let (name, bytes) = file_of(&request)?;
    state.service()?.attach_file(&name, bytes)
}

#[tauri::command(async)]
pub fn attachment_limits(state: State<'_, AppState>) -> Result<AttachmentLimits> {
    state.service()?.attachment_limits()
}

#[tauri::command(async)]
pub fn set_image_max_edge(state: State<'_, AppState>, edge: u32) -> Result<AttachmentLimits> {
    state.service()?.set_image_max_edge(edge)
}
