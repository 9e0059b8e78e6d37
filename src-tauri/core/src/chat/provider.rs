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
pub const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

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
/// in the profile (which the window can change, and a restored database can bring back) only gets
/// a key whose keyring entry is bound to its origin. The database's record is never trusted.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyChoice {
    pub key: Option<ApiKey>,
    pub source: KeySource,
    /// A stored key exists but belongs to this other origin, so it is not sent here.
    pub held_for: Option<String>,
    /// A stored key exists whose origin is unknown, so it is not sent here.
    pub unbound: bool,
}

pub fn choose_key(
    env: &EnvFallback,
    stored: &Result<Option<StoredKey>>,
    base: &Url,
    trusted: bool,
) -> KeyChoice {
    let origin = origin_of(base);
    let env_fits = trusted || env_origin(env).as_deref() == Some(origin.as_str());
    let (held_for, unbound) = match stored {
        Ok(Some(k)) if trusted || k.origin.as_deref() == Some(origin.as_str()) => {
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
pub fn check_deployment(raw: &str) -> Result<String> {
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
pub fn check_api_version(raw: &str) -> Result<String> {
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
pub fn client_options(row: &ProfileRow, app_proxy: &Proxy, base: &ClientOptions) -> ClientOptions {
    let ms = |v: Option<i64>| {
        v.filter(|ms| *ms > 0)
            .map(|ms| std::time::Duration::from_millis(ms as u64))
    };
    ClientOptions {
        connect_timeout: ms(row.connect_timeout_ms).unwrap_or(base.connect_timeout),
        idle_timeout: ms(row.idle_timeout_ms).unwrap_or(base.idle_timeout),
        proxy: row.proxy.clone().unwrap_or_else(|| app_proxy.clone()),
    }
}

/// The parameters a reply is sent with: the conversation's own values, else the profile's defaults.
pub fn effective_settings(
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
    if choice.key.is_none() && (choice.unbound || choice.held_for.is_some()) {
        // The user meant to use a key, but not this one here: ask, never send it, never send
        // without it (that would only fail, or succeed against a server the user did not intend).
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
mod tests {
    use super::*;

    fn row(base: Option<&str>) -> ProfileRow {
        ProfileRow {
            id: 1,
            name: "default".into(),
            base_url: base.map(Into::into),
            ..Default::default()
        }
    }
    fn key(s: &str) -> ApiKey {
        ApiKey::new(s).unwrap()
    }
    /// A keyring entry bound to `origin`.
    fn held(s: &str, origin: &str) -> StoredKey {
        StoredKey {
            key: key(s),
            origin: Some(origin.into()),
        }
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
        let ep = endpoint(
            &row(None),
            &env,
            Ok(Some(held("sk-ring", "http://127.0.0.1:9"))),
            None,
        )
        .unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-ring");
        // A key saved for another server is not sent here; the environment's key is.
        let ep = endpoint(
            &row(None),
            &env,
            Ok(Some(held("sk-ring", "https://api.openai.com"))),
            None,
        )
        .unwrap();
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
        let lan = row(Some("http://192.168.1.10:8000/v1"));
        let v = view(
            &lan,
            &EnvFallback::default(),
            Ok(Some(held("sk-very-secret", "http://192.168.1.10:8000"))),
        );
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("sk-very-secret"));
        assert!(v.has_key && v.base_url_warning.is_some());
    }

    #[test]
    fn a_key_goes_only_to_the_origin_it_was_saved_for() {
        let none = EnvFallback::default();
        let mut moved = row(Some("https://attacker.example/v1"));
        // What the database says plays no part: only the keyring entry's own origin does.
        moved.key_origin = Some("https://attacker.example".into());
        let stored = || Ok(Some(held("sk-openai", "https://api.openai.com")));
        // The profile's URL was changed (the window or a restored database can do that): the key
        // stays home and the user is asked.
        let err = endpoint(&moved, &none, stored(), None).unwrap_err();
        assert_eq!(err.kind(), "key_unconfirmed");
        assert!(err.to_string().contains("https://api.openai.com"), "{err}");
        let v = view(&moved, &none, stored());
        assert!(!v.has_key);
        assert_eq!(v.key_held_for.as_deref(), Some("https://api.openai.com"));
        // Same origin, other path: fine.
        let same = row(Some("https://api.openai.com/v1/"));
        assert!(endpoint(&same, &none, stored(), None)
            .unwrap()
            .key
            .is_some());
        // A URL typed for one request on the command line is the user's own choice.
        let ep = endpoint(&moved, &none, stored(), Some("http://127.0.0.1:8080/v1")).unwrap();
        assert_eq!(ep.key.unwrap().expose(), "sk-openai");
    }

    #[test]
    fn a_key_of_unknown_origin_is_never_sent_anywhere_not_even_to_openai() {
        let none = EnvFallback::default();
        let bare = || {
            Ok(Some(StoredKey {
                key: key("sk-by-hand"),
                origin: None,
            }))
        };
        for base in [None, Some("http://127.0.0.1:8080/v1")] {
            let err = endpoint(&row(base), &none, bare(), None).unwrap_err();
            assert_eq!(err.kind(), "key_unconfirmed");
            let v = view(&row(base), &none, bare());
            assert!(!v.has_key && v.key_unbound && v.key_held_for.is_none());
        }
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

    fn azure_row() -> ProfileRow {
        ProfileRow {
            name: "az".into(),
            kind: ProfileKind::Azure,
            base_url: Some("https://res.openai.azure.com".into()),
            azure_deployment: Some("gpt4o".into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_azure_profile_maps_to_its_deployment_with_the_api_key_header() {
        let none = EnvFallback::default();
        let az = "https://res.openai.azure.com";
        let ep = endpoint(&azure_row(), &none, Ok(Some(held("az-key", az))), None).unwrap();
        assert_eq!(
            ep.url("chat/completions").as_str(),
            "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(ep.auth_header().unwrap().unwrap().0.as_str(), "api-key");
        assert_eq!(default_model(&azure_row()).as_deref(), Some("gpt4o"));
        // No key for a remote Azure resource is said up front.
        assert_eq!(
            endpoint(&azure_row(), &none, Ok(None), None)
                .unwrap_err()
                .kind(),
            "no_key"
        );
        let mut missing = azure_row();
        missing.azure_deployment = None;
        assert_eq!(
            endpoint(&missing, &none, Ok(Some(held("k", az))), None)
                .unwrap_err()
                .kind(),
            "invalid"
        );
        let mut no_url = azure_row();
        no_url.base_url = None;
        assert_eq!(
            endpoint(&no_url, &none, Ok(Some(held("k", az))), None)
                .unwrap_err()
                .kind(),
            "invalid"
        );
        let mut bad_version = azure_row();
        bad_version.api_version = Some("latest&x=1".into());
        assert_eq!(
            endpoint(&bad_version, &none, Ok(Some(held("k", az))), None)
                .unwrap_err()
                .kind(),
            "invalid"
        );
        assert!(check_deployment("a/b").is_err() && check_deployment("gpt-4o_mini.2").is_ok());
        assert!(check_api_version("2025-01-01-preview").is_ok());
    }

    #[test]
    fn conversation_values_win_over_profile_defaults() {
        let profile = ProfileRow {
            default_model: Some("profile-model".into()),
            defaults: ProfileDefaults {
                temperature: Some(0.3),
                top_p: Some(0.8),
                max_tokens: Some(100),
                frequency_penalty: Some(0.1),
                presence_penalty: Some(0.2),
                seed: Some(5),
                stop: Some(vec!["P".into()]),
                ..Default::default()
            },
            ..Default::default()
        };
        let empty = ConversationSettings {
            system_prompt: "sys".into(),
            ..Default::default()
        };
        let merged = effective_settings(&empty, &profile);
        assert_eq!(
            merged,
            ConversationSettings {
                system_prompt: "sys".into(),
                model: Some("profile-model".into()),
                params: profile.defaults.clone(),
                ..Default::default()
            }
        );
        let own = ConversationSettings {
            system_prompt: "mine".into(),
            model: Some("conv-model".into()),
            params: Params {
                temperature: Some(1.5),
                max_tokens: Some(7),
                top_p: Some(0.1),
                frequency_penalty: Some(-1.0),
                presence_penalty: Some(-1.0),
                stop: Some(vec!["C".into()]),
                seed: Some(-3),
                n: Some(2),
            },
            endpoint: crate::db::conversations::EndpointKind::Completions,
        };
        assert_eq!(effective_settings(&own, &profile), own);
        // Only the missing values are filled in.
        let some = ConversationSettings {
            params: Params {
                temperature: Some(0.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let merged = effective_settings(&some, &profile);
        assert_eq!(
            (merged.params.temperature, merged.params.top_p),
            (Some(0.0), Some(0.8))
        );
        assert_eq!(effective_settings(&some, &ProfileRow::default()), some);
    }

    #[test]
    fn a_profile_proxy_wins_over_the_app_proxy() {
        let base = ClientOptions::default();
        let app = Proxy::Custom("http://127.0.0.1:3128".into());
        let plain = client_options(&ProfileRow::default(), &app, &base);
        assert_eq!(plain.proxy, app);
        assert_eq!(plain.connect_timeout, base.connect_timeout);
        let own = ProfileRow {
            proxy: Some(Proxy::None),
            connect_timeout_ms: Some(1500),
            idle_timeout_ms: Some(30_000),
            ..Default::default()
        };
        let o = client_options(&own, &app, &base);
        assert_eq!(o.proxy, Proxy::None);
        assert_eq!(o.connect_timeout, std::time::Duration::from_millis(1500));
        assert_eq!(o.idle_timeout, std::time::Duration::from_secs(30));
    }
}
