//! The provider profile as the user sees it, and how a request finds its base URL and key:
//! the profile's own settings first, then `OPENAI_BASE_URL` / `OPENAI_API_KEY`, then OpenAI's default.

use serde::Serialize;
use url::Url;

use crate::db::conversations::ConversationSettings;
use crate::db::profiles::{ProfileDefaults, ProfileKind, ProfileRow};
use crate::error::{Error, Result};
use crate::openai::client::{insecure_warning, is_loopback, parse_base_url};
use crate::openai::{ClientOptions, Endpoint, Flavor, Proxy, DEFAULT_BASE_URL};
use crate::params::Params;
use crate::secrets::{ApiKey, StoredKey};

/// The Azure OpenAI data-plane version used when a profile names none (GA, supports streaming).
pub(crate) const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

/// Read once at start, like the official SDKs do.
#[derive(Debug, Clone, Default)]
pub struct EnvFallback {
    pub api_key: Option<ApiKey>,
    pub base_url: Option<String>,
}

impl EnvFallback {
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        EnvFallback {
            api_key: var("OPENAI_API_KEY").and_then(|k| ApiKey::new(&k).ok()),
            base_url: var("OPENAI_BASE_URL"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    Keyring,
    Env,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: i64,
    pub name: String,
    pub kind: ProfileKind,
    pub is_default: bool,
    pub base_url: Option<String>,
    pub azure_deployment: Option<String>,
    pub api_version: Option<String>,
    /// `None`: the app-wide proxy applies.
    pub proxy: Option<Proxy>,
    /// Servers on this machine through the proxy too; `None`: the app-wide setting applies.
    pub proxy_local: Option<bool>,
    pub connect_timeout_ms: Option<i64>,
    pub idle_timeout_ms: Option<i64>,
    pub defaults: ProfileDefaults,
    pub effective_base_url: String,
    pub default_model: Option<String>,
    pub has_key: bool,
    pub key_source: KeySource,
    pub base_url_warning: Option<String>,
    /// Set when the keyring could not be asked (no Secret Service, locked…).
    pub keyring_error: Option<String>,
    /// A key is stored, but for this other origin: it is not sent to the current base URL.
    pub key_held_for: Option<String>,
    /// A key is stored with no origin (by hand, or by an older Parley): it is not sent until the
    /// user confirms it for this server.
    pub key_unbound: bool,
    /// The origin of the effective base URL (what a key set or confirmed now is bound to).
    pub origin: Option<String>,
}

pub fn effective_base_url(
    row: &ProfileRow,
    env: &EnvFallback,
    override_url: Option<&str>,
) -> Result<Url> {
    if row.kind == ProfileKind::Azure && override_url.is_none() {
        let raw = row.base_url.as_deref().ok_or_else(|| {
            Error::invalid(format!(
                "The Azure profile \"{}\" needs its resource endpoint, e.g. https://NAME.openai.azure.com.",
                row.name
            ))
        })?;
        return parse_base_url(raw);
    }
    let raw = override_url
        .or(row.base_url.as_deref())
        .or(env.base_url.as_deref())
        .unwrap_or(DEFAULT_BASE_URL);
    parse_base_url(raw)
}

pub(crate) fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The origin the environment's key belongs to: `OPENAI_BASE_URL`'s, else OpenAI's.
fn env_origin(env: &EnvFallback) -> Option<String> {
    let raw = env.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    parse_base_url(raw).ok().map(|u| origin_of(&u))
}

/// The key a request to `base` may carry (K4: a key goes only to the origin it was given for).
/// `trusted` is true for a base URL typed for this one request on the command line; a URL saved
/// in the profile (which the window can change, and a restored database can bring back) only gets
/// a key whose keyring entry is bound to its origin. The database's record is never trusted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyChoice {
    pub key: Option<ApiKey>,
    pub source: KeySource,
    /// A stored key exists but belongs to this other origin, so it is not sent here.
    pub held_for: Option<String>,
    /// A stored key exists whose origin is unknown, so it is not sent here.
    pub unbound: bool,
}

pub(crate) fn choose_key(
    env: &EnvFallback,
    stored: &Result<Option<StoredKey>>,
    base: &Url,
    trusted: bool,
) -> KeyChoice {
    let origin = origin_of(base);
    let env_fits = trusted || env_origin(env).as_deref() == Some(origin.as_str());
    let (held_for, unbound) = match stored {
        // A stored key goes only to the origin it was stored for (K4), also to a URL typed for one
        // request: `trusted` lets only the environment's key follow such a URL.
        Ok(Some(k)) if k.origin.as_deref() == Some(origin.as_str()) => {
            return KeyChoice {
                key: Some(k.key.clone()),
                source: KeySource::Keyring,
                held_for: None,
                unbound: false,
            }
        }
        Ok(Some(k)) => (k.origin.clone(), k.origin.is_none()),
        _ => (None, false),
    };
    match &env.api_key {
        Some(k) if env_fits => KeyChoice {
            key: Some(k.clone()),
            source: KeySource::Env,
            held_for,
            unbound,
        },
        _ => KeyChoice {
            key: None,
            source: KeySource::None,
            held_for,
            unbound,
        },
    }
}

/// Checks an Azure deployment name (it becomes a URL path segment).
pub(crate) fn check_deployment(raw: &str) -> Result<String> {
    let d = raw.trim();
    let ok = !d.is_empty()
        && d.len() <= 64
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(Error::invalid(format!(
            "\"{d}\" is not an Azure deployment name (letters, digits, - _ . ; at most 64)."
        )));
    }
    Ok(d.to_string())
}

/// Checks an Azure api-version such as `2024-10-21` or `2025-01-01-preview`.
pub(crate) fn check_api_version(raw: &str) -> Result<String> {
    let v = raw.trim();
    let ok = v.len() >= 10
        && v.len() <= 32
        && v.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(Error::invalid(format!(
            "\"{v}\" is not an Azure api-version (like {AZURE_DEFAULT_API_VERSION})."
        )));
    }
    Ok(v.to_string())
}

/// How requests of this profile are sent.
pub fn flavor(row: &ProfileRow) -> Result<Flavor> {
    match row.kind {
        ProfileKind::Azure => {
            let deployment = row.azure_deployment.as_deref().ok_or_else(|| {
                Error::invalid(format!(
                    "The Azure profile \"{}\" needs a deployment name.",
                    row.name
                ))
            })?;
            Ok(Flavor::Azure {
                deployment: check_deployment(deployment)?,
                api_version: check_api_version(
                    row.api_version
                        .as_deref()
                        .unwrap_or(AZURE_DEFAULT_API_VERSION),
                )?,
            })
        }
        ProfileKind::OpenAi | ProfileKind::Compatible => Ok(Flavor::OpenAi),
    }
}

/// The model a profile uses when a conversation names none (an Azure deployment is its model).
pub fn default_model(row: &ProfileRow) -> Option<String> {
    row.default_model.clone().or_else(|| match row.kind {
        ProfileKind::Azure => row.azure_deployment.clone(),
        _ => None,
    })
}

/// The HTTP client settings of a profile: its own proxy and timeouts, else the app's.
pub(crate) fn client_options(
    row: &ProfileRow,
    app_proxy: &Proxy,
    proxy_local: bool,
    base: &ClientOptions,
) -> ClientOptions {
    let ms = |v: Option<i64>| {
        v.filter(|ms| *ms > 0)
            .map(|ms| std::time::Duration::from_millis(ms as u64))
    };
    ClientOptions {
        connect_timeout: ms(row.connect_timeout_ms).unwrap_or(base.connect_timeout),
        idle_timeout: ms(row.idle_timeout_ms).unwrap_or(base.idle_timeout),
        proxy: row.proxy.clone().unwrap_or_else(|| app_proxy.clone()),
        proxy_local: row.proxy_local.unwrap_or(proxy_local),
    }
}

/// The parameters a reply is sent with: the conversation's own values, else the profile's defaults.
pub(crate) fn effective_settings(
    conv: &ConversationSettings,
    profile: &ProfileRow,
) -> ConversationSettings {
    ConversationSettings {
        model: conv.model.clone().or_else(|| default_model(profile)),
        params: Params::merge(&conv.params, &profile.defaults),
        ..conv.clone()
    }
}

pub fn endpoint(
    row: &ProfileRow,
    env: &EnvFallback,
    stored: Result<Option<StoredKey>>,
    override_url: Option<&str>,
) -> Result<Endpoint> {
    let base_url = effective_base_url(row, env, override_url)?;
    let flavor = match override_url {
        Some(_) => Flavor::OpenAi,
        None => flavor(row)?,
    };
    let choice = choose_key(env, &stored, &base_url, override_url.is_some());
    if choice.key.is_none()
        && (choice.unbound || choice.held_for.is_some())
        && override_url.is_none()
    {
        // The user meant to use a key, but not this one here: ask, never send it, never send
        // without it (that would only fail, or succeed against a server the user did not intend).
        // A URL typed for one request (`parley ask --base-url`) goes without the profile's key.
        return Err(Error::KeyNotConfirmed {
            profile: row.name.clone(),
            origin: origin_of(&base_url),
            held_for: choice.held_for,
        });
    }
    if choice.key.is_none() {
        // A broken keyring is worth saying, except for a server on this machine, which usually
        // needs no key.
        if let Err(e) = stored {
            if !is_loopback(&base_url) {
                return Err(e);
            }
        }
        let azure = matches!(flavor, Flavor::Azure { .. }) && !is_loopback(&base_url);
        if base_url.host_str() == Some("api.openai.com") || azure {
            return Err(Error::NoKey {
                profile: row.name.clone(),
            });
        }
    }
    Ok(Endpoint {
        base_url,
        key: choice.key,
        flavor,
    })
}

pub fn view(row: &ProfileRow, env: &EnvFallback, stored: Result<Option<StoredKey>>) -> ProfileView {
    let base = effective_base_url(row, env, None);
    let choice = base
        .as_ref()
        .ok()
        .map(|b| choose_key(env, &stored, b, false));
    ProfileView {
        id: row.id,
        name: row.name.clone(),
        kind: row.kind,
        is_default: false,
        base_url: row.base_url.clone(),
        azure_deployment: row.azure_deployment.clone(),
        api_version: row.api_version.clone(),
        proxy: row.proxy.clone(),
        proxy_local: row.proxy_local,
        connect_timeout_ms: row.connect_timeout_ms,
        idle_timeout_ms: row.idle_timeout_ms,
        defaults: row.defaults.clone(),
        effective_base_url: base
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e.to_string()),
        default_model: row.default_model.clone(),
        has_key: choice.as_ref().is_some_and(|c| c.key.is_some()),
        key_source: choice.as_ref().map_or(KeySource::None, |c| c.source),
        key_unbound: choice.as_ref().is_some_and(|c| c.unbound),
        key_held_for: choice.and_then(|c| c.held_for),
        origin: base.as_ref().ok().map(origin_of),
        base_url_warning: base.ok().as_ref().and_then(insecure_warning),
        keyring_error: stored.err().map(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests;
