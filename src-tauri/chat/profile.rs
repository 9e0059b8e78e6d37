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

/// Which key a request uses. `stored` is what the keyring answered.
pub fn choose_key(
    row: &ProfileRow,
    env: &EnvFallback,
    stored: Result<Option<ApiKey>>,
    base: &Url,
) -> Result<(Option<ApiKey>, KeySource)> {
    let key = match stored {
        Ok(Some(k)) => (Some(k), KeySource::Keyring),
        Ok(None) => match &env.api_key {
            Some(k) => (Some(k.clone()), KeySource::Env),
            None => (None, KeySource::None),
        },
        Err(e) => match &env.api_key {
            Some(k) => (Some(k.clone()), KeySource::Env),
            // A server on this machine usually needs no key: a broken keyring must not block it.
            None if is_loopback(base) => (None, KeySource::None),
            None => return Err(e),
        },
    };
    if key.0.is_none() && base.host_str() == Some("api.openai.com") {
        return Err(Error::NoKey {
            profile: row.name.clone(),
        });
    }
    Ok(key)
}

pub fn endpoint(
    row: &ProfileRow,
    env: &EnvFallback,
    stored: Result<Option<ApiKey>>,
    override_url: Option<&str>,
) -> Result<Endpoint> {
    let base_url = effective_base_url(row, env, override_url)?;
    let (key, _) = choose_key(row, env, stored, &base_url)?;
    Ok(Endpoint { base_url, key })
}

pub fn view(row: &ProfileRow, env: &EnvFallback, stored: Result<Option<ApiKey>>) -> ProfileView {
    let base = effective_base_url(row, env, None);
    let (has_key, key_source, keyring_error) = match &stored {
        Ok(Some(_)) => (true, KeySource::Keyring, None),
        Ok(None) => (
            env.api_key.is_some(),
            if env.api_key.is_some() {
                KeySource::Env
            } else {
                KeySource::None
            },
            None,
        ),
        Err(e) => (
            env.api_key.is_some(),
            if env.api_key.is_some() {
                KeySource::Env
            } else {
                KeySource::None
            },
            Some(e.to_string()),
        ),
    };
    ProfileView {
        id: row.id,
        name: row.name.clone(),
        base_url: row.base_url.clone(),
        effective_base_url: base
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|e| e.to_string()),
        default_model: row.default_model.clone(),
        has_key,
        key_source,
        base_url_warning: base.ok().as_ref().and_then(insecure_warning),
        keyring_error,
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
        let ep = endpoint(&row(None), &env, Ok(Some(key("sk-ring"))), None).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-ring");
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
        let v = view(
            &row(Some("http://192.168.1.10:8000/v1")),
            &EnvFallback::default(),
            Ok(Some(key("sk-very-secret"))),
        );
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("sk-very-secret"));
        assert!(v.has_key && v.base_url_warning.is_some());
    }
}
