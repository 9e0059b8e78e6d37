//! Provider profiles: kind, server, Azure deployment, proxy, timeouts, default model and sampling
//! parameters. The key is not here: it lives in the keyring, one entry per profile name.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::error::{Error, Result};
use crate::openai::Proxy;
use crate::params::Params;

pub const DEFAULT_PROFILE: &str = "default";
/// `settings` key holding the id of the profile used when a conversation names none.
const DEFAULT_PROFILE_SETTING: &str = "default_profile";
/// `settings` key holding the app-wide proxy (JSON), used by profiles that set none.
const APP_PROXY_SETTING: &str = "proxy";
/// "1": servers on this machine go through the proxy too (off: loopback bypasses it).
const PROXY_LOCAL_SETTING: &str = "proxy_local";
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileKind {
    /// api.openai.com (or `OPENAI_BASE_URL`).
    #[default]
    OpenAi,
    /// Azure OpenAI: resource endpoint + deployment + api-version, `api-key` header.
    Azure,
    /// Any OpenAI-compatible base URL (DeepSeek, Qwen, vLLM, Ollama, LM Studio…).
    Compatible,
}

impl ProfileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileKind::OpenAi => "openai",
            ProfileKind::Azure => "azure",
            ProfileKind::Compatible => "compatible",
        }
    }

    pub fn parse(s: &str) -> Result<ProfileKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openai" => Ok(ProfileKind::OpenAi),
            "azure" => Ok(ProfileKind::Azure),
            "compatible" => Ok(ProfileKind::Compatible),
            other => Err(Error::invalid(format!(
                "Unknown profile kind \"{other}\": use openai, azure or compatible."
            ))),
        }
    }
}

/// Default parameters of a profile (only those the table marks `profile_default`); a
/// conversation's own values win over these.
pub type ProfileDefaults = Params;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileRow {
    pub id: i64,
    pub name: String,
    pub kind: ProfileKind,
    /// `None`: not set by the user (then `OPENAI_BASE_URL`, then the OpenAI default apply).
    /// For Azure: the resource endpoint, e.g. `https://NAME.openai.azure.com`.
    pub base_url: Option<String>,
    pub default_model: Option<String>,
    /// The origin the keyring key was saved for (`None`: saved before Parley recorded it).
    pub key_origin: Option<String>,
    pub azure_deployment: Option<String>,
    pub api_version: Option<String>,
    /// `None`: the app-wide proxy setting applies.
    pub proxy: Option<Proxy>,
    /// Servers on this machine through the proxy too; `None`: the app-wide setting applies.
    pub proxy_local: Option<bool>,
    pub connect_timeout_ms: Option<i64>,
    pub idle_timeout_ms: Option<i64>,
    pub defaults: ProfileDefaults,
}

const COLUMNS: &str = "id, name, base_url, default_model, key_origin, kind, azure_deployment, \
     api_version, proxy_mode, proxy_url, connect_timeout_ms, idle_timeout_ms, params, proxy_local";

fn from_row(r: &Row) -> rusqlite::Result<ProfileRow> {
    let proxy_url: Option<String> = r.get(9)?;
    let params: Option<String> = r.get(12)?;
    Ok(ProfileRow {
        id: r.get(0)?,
        name: r.get(1)?,
        base_url: r.get(2)?,
        default_model: r.get(3)?,
        key_origin: r.get(4)?,
        kind: super::stored(r, 5, "profiles.kind", |s| ProfileKind::parse(s).ok())?,
        azure_deployment: r.get(6)?,
        api_version: r.get(7)?,
        proxy: super::stored_opt(r, 8, "profiles.proxy_mode", |mode| match mode {
            "system" => Some(Proxy::System),
            "none" => Some(Proxy::None),
            "custom" => Some(Proxy::Custom(proxy_url.clone().unwrap_or_default())),
            _ => None,
        })?,
        connect_timeout_ms: r.get(10)?,
        idle_timeout_ms: r.get(11)?,
        defaults: Params::from_stored(params.as_deref()).defaults_only(),
        proxy_local: r.get(13)?,
    })
}

/// A profile's name: trimmed, visible characters, unique (it names the keyring entry too).
pub fn clean_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid("A profile needs a name."));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "A profile name has at most {MAX_NAME_CHARS} characters and no control characters."
        )));
    }
    Ok(name.to_string())
}

pub fn get_or_create(conn: &Connection, name: &str) -> Result<ProfileRow> {
    conn.execute(
        "INSERT INTO profiles(name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
        params![name, now_ms()],
    )?;
    by_name(conn, name)?.ok_or_else(|| Error::not_found(format!("profile {name}")))
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<ProfileRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM profiles WHERE name = ?1"),
            [name.trim()],
            from_row,
        )
        .optional()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<ProfileRow> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM profiles WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("profile {id}")))
}

/// Every profile, by name.
pub fn list(conn: &Connection) -> Result<Vec<ProfileRow>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM profiles ORDER BY name COLLATE NOCASE, id"
    ))?;
    let rows = st
        .query_map([], from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Creates a profile with `row`'s settings (its id and key origin are ignored).
pub fn create(conn: &Connection, row: &ProfileRow) -> Result<ProfileRow> {
    let name = clean_name(&row.name)?;
    if by_name(conn, &name)?.is_some() {
        return Err(Error::invalid(format!(
            "A profile named \"{name}\" already exists."
        )));
    }
    conn.execute(
        "INSERT INTO profiles(name, created_at) VALUES (?1, ?2)",
        params![name, now_ms()],
    )?;
    let id = conn.last_insert_rowid();
    save(
        conn,
        &ProfileRow {
            id,
            name,
            ..row.clone()
        },
    )
}

/// Writes every editable field of `row` (by id). The name and the key origin are not changed here.
pub fn save(conn: &Connection, row: &ProfileRow) -> Result<ProfileRow> {
    let d = row.defaults.clone().validate_defaults()?;
    let (proxy_mode, proxy_url) = match &row.proxy {
        None => (None, None),
        Some(Proxy::System) => (Some("system"), None),
        Some(Proxy::None) => (Some("none"), None),
        Some(Proxy::Custom(url)) => (Some("custom"), Some(url.as_str())),
    };
    let n = conn.execute(
        "UPDATE profiles SET kind = ?2, base_url = ?3, default_model = ?4, azure_deployment = ?5,
             api_version = ?6, proxy_mode = ?7, proxy_url = ?8, connect_timeout_ms = ?9,
             idle_timeout_ms = ?10, params = ?11, proxy_local = ?12
         WHERE id = ?1",
        params![
            row.id,
            row.kind.as_str(),
            row.base_url,
            row.default_model,
            row.azure_deployment,
            row.api_version,
            proxy_mode,
            proxy_url,
            row.connect_timeout_ms,
            row.idle_timeout_ms,
            d.to_stored(),
            row.proxy_local
        ],
    )?;
    if n == 0 {
        return Err(Error::not_found(format!("profile {}", row.id)));
    }
    get(conn, row.id)
}

/// Removes a profile; its conversations fall back to the default profile (ON DELETE SET NULL).
/// The default profile itself cannot be removed while others exist: choose another default first.
pub fn delete(conn: &Connection, id: i64) -> Result<ProfileRow> {
    let row = check_deletable(conn, id)?;
    conn.execute("DELETE FROM profiles WHERE id = ?1", [id])?;
    Ok(row)
}

/// The profile, if it may be removed (see [`delete`]).
pub fn check_deletable(conn: &Connection, id: i64) -> Result<ProfileRow> {
    let row = get(conn, id)?;
    let count: i64 = conn.query_row("SELECT count(*) FROM profiles", [], |r| r.get(0))?;
    if default_id(conn)? == id && count > 1 {
        return Err(Error::invalid(format!(
            "\"{}\" is the default profile: make another profile the default before removing it.",
            row.name
        )));
    }
    Ok(row)
}

pub(crate) fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

pub(crate) fn set_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// The profile used when a conversation names none: the chosen one, else "default" (created on
/// first use, as before several profiles existed), else the oldest.
pub fn default_id(conn: &Connection) -> Result<i64> {
    let chosen = setting(conn, DEFAULT_PROFILE_SETTING)?.and_then(|v| v.parse::<i64>().ok());
    if let Some(id) = chosen {
        let exists: Option<i64> = conn
            .query_row("SELECT id FROM profiles WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        if let Some(id) = exists {
            return Ok(id);
        }
    }
    if let Some(row) = by_name(conn, DEFAULT_PROFILE)? {
        return Ok(row.id);
    }
    let oldest: Option<i64> = conn
        .query_row("SELECT min(id) FROM profiles", [], |r| r.get(0))
        .optional()?
        .flatten();
    match oldest {
        Some(id) => Ok(id),
        None => Ok(get_or_create(conn, DEFAULT_PROFILE)?.id),
    }
}

pub fn default_profile(conn: &Connection) -> Result<ProfileRow> {
    get(conn, default_id(conn)?)
}

pub fn set_default(conn: &Connection, id: i64) -> Result<ProfileRow> {
    let row = get(conn, id)?;
    set_setting(conn, DEFAULT_PROFILE_SETTING, &id.to_string())?;
    Ok(row)
}

/// The proxy of every profile that sets none (system by default).
pub fn app_proxy(conn: &Connection) -> Result<Proxy> {
    Ok(setting(conn, APP_PROXY_SETTING)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

pub fn set_app_proxy(conn: &Connection, proxy: &Proxy) -> Result<()> {
    let json = serde_json::to_string(proxy).map_err(|e| Error::invalid(e.to_string()))?;
    set_setting(conn, APP_PROXY_SETTING, &json)
}

/// Whether requests to this machine's own servers go through the proxy too (no by default).
pub fn proxy_local(conn: &Connection) -> Result<bool> {
    Ok(setting(conn, PROXY_LOCAL_SETTING)?.as_deref() == Some("1"))
}

pub fn set_proxy_local(conn: &Connection, on: bool) -> Result<()> {
    set_setting(conn, PROXY_LOCAL_SETTING, if on { "1" } else { "0" })
}

/// Records (or forgets, with `None`) the origin the stored key belongs to.
pub fn set_key_origin(conn: &Connection, name: &str, origin: Option<&str>) -> Result<()> {
    get_or_create(conn, name)?;
    conn.execute(
        "UPDATE profiles SET key_origin = ?2 WHERE name = ?1",
        params![name, origin],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn default_profile_is_created_once_and_updated() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let a = get_or_create(c, DEFAULT_PROFILE)?;
            let b = get_or_create(c, DEFAULT_PROFILE)?;
            assert_eq!(a.id, b.id);
            assert_eq!(a.base_url, None);
            assert_eq!(a.kind, ProfileKind::OpenAi);
            let u = save(
                c,
                &ProfileRow {
                    base_url: Some("http://127.0.0.1:8080/v1".into()),
                    default_model: Some("smollm2".into()),
                    kind: ProfileKind::Compatible,
                    ..a.clone()
                },
            )?;
            assert_eq!(u.base_url.as_deref(), Some("http://127.0.0.1:8080/v1"));
            assert_eq!(u.default_model.as_deref(), Some("smollm2"));
            assert_eq!(u.kind, ProfileKind::Compatible);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn profiles_round_trip_every_field_and_names_are_unique() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let row = ProfileRow {
                name: "  Azure prod ".into(),
                kind: ProfileKind::Azure,
                base_url: Some("https://res.openai.azure.com/".into()),
                azure_deployment: Some("gpt4o".into()),
                api_version: Some("2024-10-21".into()),
                proxy: Some(Proxy::Custom("socks5://127.0.0.1:1080".into())),
                connect_timeout_ms: Some(3000),
                idle_timeout_ms: Some(60000),
                defaults: ProfileDefaults {
                    temperature: Some(0.2),
                    top_p: Some(0.9),
                    max_tokens: Some(500),
                    frequency_penalty: Some(-0.5),
                    presence_penalty: Some(0.5),
                    seed: Some(7),
                    stop: Some(vec!["END".into(), "\n\n".into()]),
                    ..Default::default()
                },
                ..Default::default()
            };
            let saved = create(c, &row)?;
            assert_eq!(saved.name, "Azure prod");
            assert_eq!(
                saved,
                ProfileRow {
                    id: saved.id,
                    name: "Azure prod".into(),
                    ..row.clone()
                }
            );
            assert_eq!(get(c, saved.id)?, saved);
            assert_eq!(create(c, &row).unwrap_err().kind(), "invalid");
            let bad = ProfileRow {
                name: "hot".into(),
                defaults: ProfileDefaults {
                    temperature: Some(3.0),
                    ..Default::default()
                },
                ..Default::default()
            };
            assert_eq!(create(c, &bad).unwrap_err().kind(), "invalid");
            assert_eq!(clean_name(" \n ").unwrap_err().kind(), "invalid");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn the_default_profile_is_chosen_kept_and_cannot_be_removed_while_others_exist() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            // A fresh database gets "default" on first use.
            let first = default_profile(c)?;
            assert_eq!(first.name, DEFAULT_PROFILE);
            let other = create(
                c,
                &ProfileRow {
                    name: "other".into(),
                    ..Default::default()
                },
            )?;
            assert_eq!(default_id(c)?, first.id);
            assert_eq!(delete(c, first.id).unwrap_err().kind(), "invalid");
            set_default(c, other.id)?;
            assert_eq!(default_id(c)?, other.id);
            delete(c, first.id)?;
            assert_eq!(default_id(c)?, other.id);
            assert_eq!(list(c)?.len(), 1);
            // The last profile can go; "default" comes back when needed.
            delete(c, other.id)?;
            assert_eq!(default_profile(c)?.name, DEFAULT_PROFILE);
            assert_eq!(set_default(c, 999).unwrap_err().kind(), "not_found");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn the_app_proxy_is_saved() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            assert_eq!(app_proxy(c)?, Proxy::System);
            set_app_proxy(c, &Proxy::Custom("http://127.0.0.1:3128".into()))?;
            assert_eq!(app_proxy(c)?, Proxy::Custom("http://127.0.0.1:3128".into()));
            set_app_proxy(c, &Proxy::None)?;
            assert_eq!(app_proxy(c)?, Proxy::None);
            Ok(())
        })
        .unwrap();
    }
}
