//! The provider profile as the user sees it, and how a request finds its base URL and key:
//! the profile's own settings first, then `OPENAI_BASE_URL` / `OPENAI_API_KEY`, then OpenAI's default.

use serde::Serialize;
use url::Url;

use crate::db::profiles::ProfileRow;
use crate::error::{Error, Result};
use crate::openai::client::{insecure_warning, is_loopback, parse_base_url};
use crate::openai::{Endpoint, DEFAULT_BASE_URL};
use crate::secrets::ApiKey;

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
    pub base_url: Option<String>,
    pub effective_base_url: String,
    pub default_model: Option<String>,
    pub has_key: bool,
    pub key_source: KeySource,
    pub base_url_warning: Option<String>,
    /// Set when the keyring could not be asked (no Secret Service, locked…).
    pub keyring_error: Option<String>,
    /// A key is stored, but for this other origin: it is not sent to the current base URL.
    pub key_held_for: Option<String>,
}

pub fn effective_base_url(
    row: &ProfileRow,
    env: &EnvFallback,
    override_url: Option<&str>,
) -> Result<Url> {
    let raw = override_url
        .or(row.base_url.as_deref())
        .or(env.base_url.as_deref())
        .unwrap_or(DEFAULT_BASE_URL);
    parse_base_url(raw)
}

pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The origin the environment's key belongs to: `OPENAI_BASE_URL`'s, else OpenAI's.
fn env_origin(env: &EnvFallback) -> Option<String> {
    let raw = env.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    parse_base_url(raw).ok().map(|u| origin_of(&u))
}

/// The key a request to `base` may carry (K4: a key goes only to the origin it was given for).
/// `trusted` is true for a base URL typed for this one request on the command line; a URL saved
/// in the profile (which the window can change) only gets keys bound to its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChoice {
    pub key: Option<ApiKey>,
    pub source: KeySource,
    /// A stored key exists but belongs to this other origin, so it is not sent here.
    pub held_for: Option<String>,
}

pub fn choose_key(
    row: &ProfileRow,
    env: &EnvFallback,
    stored: &Result<Option<ApiKey>>,
    base: &Url,
    trusted: bool,
) -> KeyChoice {
    let origin = origin_of(base);
    // A key with no recorded origin (stored by hand, e.g. with secret-tool) is taken to be OpenAI's.
    let key_origin = row
        .key_origin
        .clone()
        .or_else(|| parse_base_url(DEFAULT_BASE_URL).ok().map(|u| origin_of(&u)));
    let stored_fits = trusted || key_origin.as_deref() == Some(origin.as_str());
    let env_fits = trusted || env_origin(env).as_deref() == Some(origin.as_str());
    match stored {
        Ok(Some(k)) if stored_fits => {
            return KeyChoice {
                key: Some(k.clone()),
                source: KeySource::Keyring,
                held_for: None,
            }
        }
        _ => {}
    }
    let held_for = match stored {
        Ok(Some(_)) => key_origin,
        _ => None,
    };
    match &env.api_key {
        Some(k) if env_fits => KeyChoice {
            key: Some(k.clone()),
            source: KeySource::Env,
            held_for,
        },
        _ => KeyChoice {
            key: None,
            source: KeySource::None,
            held_for,
        },
    }
}

pub fn endpoint(
    row: &ProfileRow,
    env: &EnvFallback,
    stored: Result<Option<ApiKey>>,
    override_url: Option<&str>,
) -> Result<Endpoint> {
    let base_url = effective_base_url(row, env, override_url)?;
    let choice = choose_key(row, env, &stored, &base_url, override_url.is_some());
    if choice.key.is_none() {
        // A broken keyring is worth saying, except for a server on this machine, which usually
        // needs no key.
        if let Err(e) = stored {
            if !is_loopback(&base_url) {
                return Err(e);
            }
        }
        if base_url.host_str() == Some("api.openai.com") {
            return Err(Error::NoKey {
                profile: row.name.clone(),
            });
        }
    }
    Ok(Endpoint {
        base_url,
        key: choice.key,
    })
}

pub fn view(row: &ProfileRow, env: &EnvFallback, stored: Result<Option<ApiKey>>) -> ProfileView {
    let base = effective_base_url(row, env, None);
    let choice = base
        .as_ref()
        .ok()
        .map(|b| choose_key(row, env, &stored, b, false));
    ProfileView {
        id: row.id,
        name: row.name.clone(),
        base_url: row.base_url.clone(),
        effective_base_url: base
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e.to_string()),
        default_model: row.default_model.clone(),
        has_key: choice.as_ref().is_some_and(|c| c.key.is_some()),
        key_source: choice.as_ref().map_or(KeySource::None, |c| c.source),
        key_held_for: choice.and_then(|c| c.held_for),
        base_url_warning: base.ok().as_ref().and_then(insecure_warning),
        keyring_error: stored.err().map(|e| e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(base: Option<&str>) -> ProfileRow {
        ProfileRow {
            id: 1,
            name: "default".into(),
            base_url: base.map(Into::into),
            default_model: None,
            key_origin: None,
        }
    }
    fn key(s: &str) -> ApiKey {
        ApiKey::new(s).unwrap()
    }

    #[test]
    fn profile_settings_win_over_environment_over_default() {
        let env = EnvFallback {
            api_key: Some(key("sk-env")),
            base_url: Some("http://127.0.0.1:9/v1".into()),
        };
        assert_eq!(
            effective_base_url(&row(None), &EnvFallback::default(), None)
                .unwrap()
                .as_str(),
            "https://api.openai.com/v1"
        );
        assert_eq!(
            effective_base_url(&row(None), &env, None).unwrap().as_str(),
            "http://127.0.0.1:9/v1"
        );
        assert_eq!(
            effective_base_url(&row(Some("https://x.test/v1")), &env, None)
                .unwrap()
                .as_str(),
            "https://x.test/v1"
        );
        let mut bound = row(None);
        bound.key_origin = Some("http://127.0.0.1:9".into());
        let ep = endpoint(&bound, &env, Ok(Some(key("sk-ring"))), None).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-ring");
        // A key with no recorded origin is OpenAI's: not sent to this other server.
        let ep = endpoint(&row(None), &env, Ok(Some(key("sk-ring"))), None).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-env");
        let ep = endpoint(&row(None), &env, Ok(None), None).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-env");
    }

    #[test]
    fn openai_without_a_key_is_a_clear_error_but_local_servers_need_none() {
        let none = EnvFallback::default();
        assert_eq!(
            endpoint(&row(None), &none, Ok(None), None)
                .unwrap_err()
                .kind(),
            "no_key"
        );
        let broken = || {
            Err(Error::Keyring {
                message: "no bus".into(),
            })
        };
        assert_eq!(
            endpoint(&row(None), &none, broken(), None)
                .unwrap_err()
                .kind(),
            "keyring"
        );
        let local = endpoint(
            &row(Some("http://127.0.0.1:8080/v1")),
            &none,
            broken(),
            None,
        )
        .unwrap();
        assert!(local.key.is_none());
        let v = view(&row(None), &none, broken());
        assert_eq!((v.has_key, v.key_source), (false, KeySource::None));
        assert!(v.keyring_error.unwrap().contains("no bus"));
    }

    #[test]
    fn the_view_never_contains_the_key() {
        let mut lan = row(Some("http://192.168.1.10:8000/v1"));
        lan.key_origin = Some("http://192.168.1.10:8000".into());
        let v = view(
            &lan,
            &EnvFallback::default(),
            Ok(Some(key("sk-very-secret"))),
        );
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("sk-very-secret"));
        assert!(v.has_key && v.base_url_warning.is_some());
    }

    #[test]
    fn a_key_goes_only_to_the_origin_it_was_saved_for() {
        let none = EnvFallback::default();
        let mut moved = row(Some("https://attacker.example/v1"));
        moved.key_origin = Some("https://api.openai.com".into());
        let stored = || Ok(Some(key("sk-openai")));
        // The profile's URL was changed (the window can do that): the key stays home.
        let ep = endpoint(&moved, &none, stored(), None).unwrap();
        assert!(ep.key.is_none());
        let v = view(&moved, &none, stored());
        assert!(!v.has_key);
        assert_eq!(v.key_held_for.as_deref(), Some("https://api.openai.com"));
        // Same origin, other path: fine.
        let mut same = row(Some("https://api.openai.com/v1/"));
        same.key_origin = Some("https://api.openai.com".into());
        assert!(endpoint(&same, &none, stored(), None)
            .unwrap()
            .key
            .is_some());
        // A URL typed for one request on the command line is the user's own choice.
        let ep = endpoint(&moved, &none, stored(), Some("http://127.0.0.1:8080/v1")).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-openai");
    }

    #[test]
    fn the_environment_key_goes_only_to_the_environment_url() {
        let env = EnvFallback {
            api_key: Some(key("sk-env")),
            base_url: Some("http://127.0.0.1:9/v1".into()),
        };
        assert!(endpoint(&row(None), &env, Ok(None), None)
            .unwrap()
            .key
            .is_some());
        let elsewhere = row(Some("https://attacker.example/v1"));
        assert!(endpoint(&elsewhere, &env, Ok(None), None)
            .unwrap()
            .key
            .is_none());
        // Without OPENAI_BASE_URL the environment key is OpenAI's.
        let openai_env = EnvFallback {
            api_key: Some(key("sk-env")),
            base_url: None,
        };
        assert!(endpoint(&row(None), &openai_env, Ok(None), None)
            .unwrap()
            .key
            .is_some());
        assert!(endpoint(&elsewhere, &openai_env, Ok(None), None)
            .unwrap()
            .key
            .is_none());
    }
}
