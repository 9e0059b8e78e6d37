//! Profiles: endpoints, keys (write-only), models, the default profile, the proxy, local servers.

use tauri::{AppHandle, Runtime, State};

use super::consent;

use crate::commands::state::AppState;
use parley_core::chat::{ProfileUpdate, ProfileView, ProfilesOverview};
use parley_core::error::Result;
use parley_core::openai::probe::LocalServer;
use parley_core::openai::Proxy;

// `profile_id: None` = the default profile.

#[tauri::command]
pub async fn get_profile(
    state: State<'_, AppState>,
    profile_id: Option<i64>,
) -> Result<ProfileView> {
    state.service()?.profile(profile_id).await
}

/// A changed proxy, or a new server for a profile with a key or a history, is confirmed natively.
#[tauri::command]
pub async fn update_profile<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    profile_id: Option<i64>,
    update: ProfileUpdate,
) -> Result<ProfileView> {
    let service = state.service()?;
    if let Some(question) = service.update_needs_consent(profile_id, &update).await? {
        consent::ask(&app, "Change profile", question, "Change").await?;
    }
    service.update_profile(profile_id, update).await
}

/// Write-only: the key goes to the keyring and is never returned to the webview.
#[tauri::command]
pub async fn set_api_key(
    state: State<'_, AppState>,
    profile_id: Option<i64>,
    key: String,
) -> Result<ProfileView> {
    state.service()?.set_key(profile_id, &key).await
}

#[tauri::command]
pub async fn clear_api_key(
    state: State<'_, AppState>,
    profile_id: Option<i64>,
) -> Result<ProfileView> {
    state.service()?.clear_key(profile_id).await
}

/// The user's answer to `key_unconfirmed`: the stored key may go to the profile's current server.
/// Confirmed natively (the page alone never sends a key somewhere new).
#[tauri::command]
pub async fn confirm_api_key<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    profile_id: Option<i64>,
) -> Result<ProfileView> {
    let service = state.service()?;
    if let Some(question) = service.confirm_key_question(profile_id).await? {
        consent::ask(&app, "Use the key here", question, "Send the key").await?;
    }
    service.confirm_key(profile_id).await
}

#[tauri::command]
pub async fn list_models(
    state: State<'_, AppState>,
    profile_id: Option<i64>,
) -> Result<Vec<String>> {
    state.service()?.list_models(profile_id).await
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<ProfilesOverview> {
    state.service()?.profiles().await
}

/// A proxy of its own is confirmed natively (a proxy sees where every request goes).
#[tauri::command]
pub async fn create_profile<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    update: ProfileUpdate,
) -> Result<ProfileView> {
    if let Some(Proxy::Custom(url)) = &update.proxy {
        let question = format!(
            "Send the requests of the new profile through {url}? A proxy sees where they go."
        );
        consent::ask(&app, "New profile", question, "Create").await?;
    }
    state.service()?.create_profile(update).await
}

/// Also deletes the profile's keyring entry.
#[tauri::command]
pub async fn delete_profile(state: State<'_, AppState>, profile_id: i64) -> Result<()> {
    state.service()?.delete_profile(profile_id).await
}

/// Confirmed natively when conversations that name no profile would go to another server or proxy.
#[tauri::command]
pub async fn set_default_profile<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    profile_id: i64,
) -> Result<ProfilesOverview> {
    let service = state.service()?;
    if let Some(question) = service.default_change_question(profile_id).await? {
        consent::ask(&app, "Default profile", question, "Make default").await?;
    }
    service.set_default_profile(profile_id).await
}

/// Confirmed natively when it changes (a proxy sees where every request goes), and when servers
/// on this machine are to go through it too (`proxy_local`; absent: left as it is).
#[tauri::command]
pub async fn set_app_proxy<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    proxy: Proxy,
    proxy_local: Option<bool>,
) -> Result<ProfilesOverview> {
    let service = state.service()?;
    let overview = service.profiles().await?;
    if let Some(on) = proxy_local.filter(|on| *on != overview.proxy_local) {
        if on {
            let question = "Send requests to servers on this machine through the proxy too? The proxy sees them.";
            consent::ask(&app, "Change proxy", question.to_string(), "Change").await?;
        }
        service.set_proxy_local(on).await?;
    }
    if serde_json::to_value(&overview.app_proxy).ok() != serde_json::to_value(&proxy).ok() {
        let shown = match &proxy {
            Proxy::None => "no proxy".to_string(),
            Proxy::System => "the system proxy".to_string(),
            Proxy::Custom(url) => url.clone(),
        };
        let question = format!("Send every request through {shown}? A proxy sees where they go.");
        consent::ask(&app, "Change proxy", question, "Change").await?;
    }
    service.set_app_proxy(proxy).await
}

/// Probes 127.0.0.1 for Ollama, LM Studio, llama.cpp and vLLM (fixed ports; no URL from the webview).
#[tauri::command]
pub async fn find_local_servers(state: State<'_, AppState>) -> Result<Vec<LocalServer>> {
    state.service()?.probe_local_servers().await
}
