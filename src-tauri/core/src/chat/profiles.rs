//! Provider profiles and their keys, as the settings dialog and `parley profiles` / `parley key`
//! see them. `None` for a profile id means the default profile.

use serde::{Deserialize, Serialize};

use super::key_prefetch;
use super::provider::{self, ProfileView};
use super::ChatService;
use crate::db::profiles::{self, ProfileDefaults, ProfileKind, ProfileRow};
use crate::error::{Error, Result};
use crate::openai::client::{parse_base_url, parse_proxy_url};
use crate::openai::probe::{self, LocalServer};
use crate::openai::{Client, Endpoint, Proxy};
use crate::secrets::{ApiKey, StoredKey};

/// Longest connect / idle timeout a profile may set (an hour).
const MAX_TIMEOUT_MS: i64 = 3_600_000;

/// A profile's editable fields. On update every field is replaced, except `kind` (kept when
/// absent) and `name` (only used when creating: it names the keyring entry).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<ProfileKind>,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub default_model: Option<String>,
    #[serde(default)]
    pub azure_deployment: Option<String>,
    #[serde(default)]
    pub api_version: Option<String>,
    /// `None`: the app-wide proxy.
    #[serde(default)]
    pub proxy: Option<Proxy>,
    /// Servers on this machine through the proxy too; `None`: the app-wide setting.
    #[serde(default)]
    pub proxy_local: Option<bool>,
    #[serde(default)]
    pub connect_timeout_ms: Option<i64>,
    #[serde(default)]
    pub idle_timeout_ms: Option<i64>,
    #[serde(default)]
    pub defaults: ProfileDefaults,
}

/// Everything the profiles list shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilesOverview {
    pub profiles: Vec<ProfileView>,
    pub default_id: i64,
    /// Used by every profile that sets no proxy of its own.
    pub app_proxy: Proxy,
    /// Servers on this machine go through the proxy too (off: loopback bypasses it).
    pub proxy_local: bool,
}

fn trimmed(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn check_proxy(proxy: Option<Proxy>) -> Result<Option<Proxy>> {
    match proxy {
        Some(Proxy::Custom(url)) => Ok(Some(Proxy::Custom(parse_proxy_url(&url)?.to_string()))),
        other => Ok(other),
    }
}

fn check_timeout(name: &str, ms: Option<i64>) -> Result<Option<i64>> {
    match ms {
        Some(v) if !(100..=MAX_TIMEOUT_MS).contains(&v) => Err(Error::invalid(format!(
            "The {name} timeout must be between 0.1 and 3600 seconds."
        ))),
        other => Ok(other),
    }
}

/// Applies an update to a row, checking every field; nothing is saved on a bad value.
fn apply(mut row: ProfileRow, u: ProfileUpdate) -> Result<ProfileRow> {
    if let Some(kind) = u.kind {
        row.kind = kind;
    }
    // Saved normalised (a pasted endpoint becomes its base), so the UI shows what is used.
    row.base_url = trimmed(u.base_url)
        .map(|s| parse_base_url(&s).map(|u| u.to_string()))
        .transpose()?;
    row.default_model = trimmed(u.default_model);
    row.azure_deployment = trimmed(u.azure_deployment)
        .map(|d| provider::check_deployment(&d))
        .transpose()?;
    row.api_version = trimmed(u.api_version)
        .map(|v| provider::check_api_version(&v))
        .transpose()?;
    if row.kind == ProfileKind::Azure {
        if row.base_url.is_none() {
            return Err(Error::invalid(
                "An Azure profile needs its resource endpoint, e.g. https://NAME.openai.azure.com.",
            ));
        }
        if row.azure_deployment.is_none() {
            return Err(Error::invalid("An Azure profile needs a deployment name."));
        }
    }
    if row.kind == ProfileKind::Compatible && row.base_url.is_none() {
        return Err(Error::invalid(
            "An OpenAI-compatible profile needs the server's base URL, e.g. http://127.0.0.1:11434/v1.",
        ));
    }
    row.proxy = check_proxy(u.proxy)?;
    row.proxy_local = u.proxy_local;
    row.connect_timeout_ms = check_timeout("connect", u.connect_timeout_ms)?;
    row.idle_timeout_ms = check_timeout("idle", u.idle_timeout_ms)?;
    row.defaults = u.defaults.validate()?;
    Ok(row)
}

impl ChatService {
    /// A profile by id, or the default one.
    pub(crate) fn profile_row(&self, id: Option<i64>) -> Result<ProfileRow> {
        self.db.with(|c| match id {
            Some(id) => profiles::get(c, id),
            None => profiles::default_profile(c),
        })
    }

    /// The id of the profile called `name` (`None`: the default profile).
    pub fn profile_id_by_name(&self, name: Option<&str>) -> Result<Option<i64>> {
        let Some(name) = name else { return Ok(None) };
        self.db.with(|c| {
            profiles::by_name(c, name)?
                .map(|p| Some(p.id))
                .ok_or_else(|| Error::not_found(format!("profile \"{}\"", name.trim())))
        })
    }

    /// The profile's keyring entry (keyring calls block on D-Bus: kept off the async workers),
    /// bound as `key_prefetch::read_stored` says; the read `prefetch_key` started, if any.
    pub(crate) async fn stored_key(&self, row: &ProfileRow) -> Result<Option<StoredKey>> {
        if let Some(read) = self.take_prefetched(row) {
            return key_prefetch::joined(read).await;
        }
        key_prefetch::joined(key_prefetch::spawn_read(self.secrets.clone(), row)).await
    }

    async fn view_of(&self, row: &ProfileRow, default_id: i64) -> ProfileView {
        let stored = self.stored_key(row).await;
        let mut v = provider::view(row, &self.env, stored);
        v.is_default = row.id == default_id;
        v
    }

    pub async fn profile(&self, id: Option<i64>) -> Result<ProfileView> {
        let row = self.profile_row(id)?;
        let default_id = self.db.with(|c| profiles::default_id(c))?;
        Ok(self.view_of(&row, default_id).await)
    }

    pub async fn profiles(&self) -> Result<ProfilesOverview> {
        let (rows, default_id, app_proxy, proxy_local) = self.db.with(|c| {
            let default_id = profiles::default_id(c)?;
            Ok((
                profiles::list(c)?,
                default_id,
                profiles::app_proxy(c)?,
                profiles::proxy_local(c)?,
            ))
        })?;
        let mut views = Vec::with_capacity(rows.len());
        for row in &rows {
            views.push(self.view_of(row, default_id).await);
        }
        Ok(ProfilesOverview {
            profiles: views,
            default_id,
            app_proxy,
            proxy_local,
        })
    }

    pub async fn create_profile(&self, update: ProfileUpdate) -> Result<ProfileView> {
        let name = profiles::clean_name(update.name.as_deref().unwrap_or(""))?;
        let row = apply(
            ProfileRow {
                name,
                ..Default::default()
            },
            update,
        )?;
        let row = self.db.with(|c| profiles::create(c, &row))?;
        // A key left in the keyring under this name (by hand, or by an old install) has no recorded
        // origin; it is not adopted silently.
        let secrets = self.secrets.clone();
        let name = row.name.clone();
        let _ = crate::secrets::blocking(move || secrets.delete(&name)).await;
        self.profile(Some(row.id)).await
    }

    /// What the user must confirm natively before `update` is saved (SECURITY.md W8): a changed
    /// proxy, or a changed server for a profile that has a key or a history. `None`: nothing to ask.
    pub async fn update_needs_consent(
        &self,
        id: Option<i64>,
        update: &ProfileUpdate,
    ) -> Result<Option<String>> {
        let old = self.profile_row(id)?;
        let new = apply(old.clone(), update.clone())?;
        // Every change that needs the user, in one question (asking about the first only let the
        // others through unread).
        let mut asks = Vec::new();
        if new.proxy_local == Some(true) && old.proxy_local != Some(true) {
            asks.push("send its requests to servers on this machine through the proxy too (the proxy sees them)".to_string());
        }
        if new.proxy != old.proxy {
            let shown = match &new.proxy {
                None => "the app-wide setting".to_string(),
                Some(Proxy::None) => "no proxy".to_string(),
                Some(Proxy::System) => "the system proxy".to_string(),
                Some(Proxy::Custom(url)) => url.clone(),
            };
            asks.push(format!(
                "send its requests through {shown} (a proxy sees where they go)"
            ));
        }
        if new.base_url != old.base_url || new.kind != old.kind {
            // Any key in the keyring counts, also one held for another server or never bound:
            // confirming it later would send it to the new server.
            let view = self.profile(Some(old.id)).await?;
            let has_key = view.has_key || view.key_held_for.is_some() || view.key_unbound;
            if has_key || self.follows_history(old.id)? {
                asks.push(format!(
                    "point it at {} (its conversations will be sent there{})",
                    new.base_url.as_deref().unwrap_or("the default server"),
                    if has_key {
                        "; its key is withheld until you set or confirm it for that server"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok((!asks.is_empty())
            .then(|| format!("Change profile \"{}\": {}?", old.name, asks.join("; and "))))
    }

    /// Whether conversations follow the profile: set to it, or naming none while it is the default.
    fn follows_history(&self, id: i64) -> Result<bool> {
        self.db.with(|c| {
            let is_default = profiles::default_profile(c)?.id == id;
            Ok(c.query_row(
                "SELECT count(*) FROM conversations
                 WHERE profile_id = ?1 OR (?2 AND profile_id IS NULL)",
                rusqlite::params![id, is_default],
                |r| r.get::<_, i64>(0),
            )? > 0)
        })
    }

    /// What the user confirms natively before the stored key goes to the profile's current server
    /// (SECURITY.md K4, W8: the page alone cannot send a key somewhere new).
    /// `None`: nothing to confirm (the key is already the current server's); no key: `NoKey`.
    pub async fn confirm_key_question(&self, id: Option<i64>) -> Result<Option<String>> {
        let view = self.profile(id).await?;
        let row = self.profile_row(id)?;
        if view.has_key {
            return Ok(None);
        }
        if view.key_held_for.is_none() && !view.key_unbound {
            return Err(Error::NoKey { profile: row.name });
        }
        let origin = provider::origin_of(&provider::effective_base_url(&row, &self.env, None)?);
        let from = (view.key_held_for).unwrap_or_else(|| "no particular server".to_string());
        Ok(Some(format!(
            "Send the API key of profile \"{}\", saved for {from}, to {origin}?",
            row.name
        )))
    }

    /// What the user confirms natively before profile `id` becomes the default: the conversations
    /// that name no profile follow the default, so they would go to its server, through its proxy.
    /// `None` when nothing moves.
    pub async fn default_change_question(&self, id: i64) -> Result<Option<String>> {
        let (old, new) = (self.profile_row(None)?, self.profile_row(Some(id))?);
        // A server that cannot be worked out (an unfinished profile) counts as another one.
        let url = |row: &ProfileRow| {
            provider::effective_base_url(row, &self.env, None).map_or_else(
                |_| format!("the server of \"{}\"", row.name),
                |u| u.to_string(),
            )
        };
        let (old_url, new_url) = (url(&old), url(&new));
        if old.id == new.id || (old_url == new_url && old.proxy == new.proxy) {
            return Ok(None);
        }
        let unassigned: i64 = self.db.with(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM conversations WHERE profile_id IS NULL",
                [],
                |r| r.get(0),
            )?)
        })?;
        Ok((unassigned > 0).then(|| {
            format!(
                "Make \"{}\" the default profile? {unassigned} conversations that name no profile \
                 will be sent to {new_url}{}.",
                new.name,
                match &new.proxy {
                    Some(Proxy::Custom(url)) => format!(" through the proxy {url}"),
                    _ => String::new(),
                }
            )
        }))
    }

    pub async fn update_profile(
        &self,
        id: Option<i64>,
        update: ProfileUpdate,
    ) -> Result<ProfileView> {
        let row = apply(self.profile_row(id)?, update)?;
        self.db.with(|c| profiles::save(c, &row))?;
        self.profile(Some(row.id)).await
    }

    /// Removes a profile and its keyring entry (the keyring first: a key is never left behind
    /// without its profile). Its conversations move to the default profile.
    pub async fn delete_profile(&self, id: i64) -> Result<()> {
        let row = self.db.with(|c| profiles::check_deletable(c, id))?;
        let secrets = self.secrets.clone();
        let name = row.name.clone();
        crate::secrets::blocking(move || secrets.delete(&name)).await?;
        self.db.with(|c| profiles::delete(c, id).map(drop))
    }

    pub async fn set_default_profile(&self, id: i64) -> Result<ProfilesOverview> {
        self.db.with(|c| profiles::set_default(c, id))?;
        self.profiles().await
    }

    /// The proxy of every profile that sets none.
    pub async fn set_app_proxy(&self, proxy: Proxy) -> Result<ProfilesOverview> {
        let proxy = check_proxy(Some(proxy))?.unwrap_or_default();
        self.db.with(|c| profiles::set_app_proxy(c, &proxy))?;
        self.profiles().await
    }

    /// Whether servers on this machine (127.0.0.0/8, ::1, localhost) go through the proxy too;
    /// off by default, as curl's `NO_PROXY` convention has it.
    pub async fn set_proxy_local(&self, on: bool) -> Result<ProfilesOverview> {
        self.db.with(|c| profiles::set_proxy_local(c, on))?;
        self.profiles().await
    }

    /// Stores the key in the profile's keyring entry, bound to the origin of its current base URL.
    pub async fn set_key(&self, id: Option<i64>, raw: &str) -> Result<ProfileView> {
        let key = ApiKey::new(raw)?;
        let row = self.profile_row(id)?;
        let origin = provider::origin_of(&provider::effective_base_url(&row, &self.env, None)?);
        // The keyring first: if it fails, the old key keeps its old origin (never the new one).
        let secrets = self.secrets.clone();
        let name = row.name.clone();
        let bound = origin.clone();
        crate::secrets::blocking(move || secrets.set(&name, &key, &bound)).await?;
        // Informational only (and what an entry from before binding is migrated against).
        self.db
            .with(|c| profiles::set_key_origin(c, &row.name, Some(&origin)))?;
        self.profile(Some(row.id)).await
    }

    /// The user's answer to `key_unconfirmed`: the stored key (saved for another or an unknown
    /// server) may go to the profile's current server. Binds it there, in the keyring.
    pub async fn confirm_key(&self, id: Option<i64>) -> Result<ProfileView> {
        let row = self.profile_row(id)?;
        let origin = provider::origin_of(&provider::effective_base_url(&row, &self.env, None)?);
        let secrets = self.secrets.clone();
        let name = row.name.clone();
        let bound = origin.clone();
        crate::secrets::blocking(move || match secrets.get(&name)? {
            Some(stored) => secrets.set(&name, &stored.key, &bound),
            None => Err(Error::NoKey { profile: name }),
        })
        .await?;
        self.db
            .with(|c| profiles::set_key_origin(c, &row.name, Some(&origin)))?;
        self.profile(Some(row.id)).await
    }

    pub async fn clear_key(&self, id: Option<i64>) -> Result<ProfileView> {
        let row = self.profile_row(id)?;
        let secrets = self.secrets.clone();
        let name = row.name.clone();
        crate::secrets::blocking(move || secrets.delete(&name)).await?;
        self.db
            .with(|c| profiles::set_key_origin(c, &row.name, None))?;
        self.profile(Some(row.id)).await
    }

    /// The HTTP client for a profile's proxy and timeouts; one per distinct setting, kept.
    pub(crate) fn client_for(&self, row: &ProfileRow) -> Result<Client> {
        let (app_proxy, proxy_local) = self
            .db
            .with(|c| Ok((profiles::app_proxy(c)?, profiles::proxy_local(c)?)))?;
        let options = provider::client_options(row, &app_proxy, proxy_local, self.client.options());
        let mut clients = self.clients.lock().unwrap();
        if let Some(client) = clients.get(&options) {
            return Ok(client.clone());
        }
        let client = Client::new(options.clone())?;
        clients.insert(options, client.clone());
        Ok(client)
    }

    /// How many HTTP clients exist (one per distinct proxy / timeout setting in use).
    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap().len()
    }

    /// Where a reply of this profile goes (`None`: the default profile), with which key and client.
    /// The returned row's default model is the one the profile uses (an Azure deployment's name
    /// when none is set).
    pub async fn endpoint_for(
        &self,
        profile_id: Option<i64>,
        override_url: Option<&str>,
    ) -> Result<(ProfileRow, Endpoint, Client)> {
        let mut row = self.profile_row(profile_id)?;
        let stored = self.stored_key(&row).await;
        crate::trace("keyring asked");
        let ep = provider::endpoint(&row, &self.env, stored, override_url)?;
        let client = self.client_for(&row)?;
        crate::trace("endpoint and client ready");
        row.default_model = provider::default_model(&row);
        Ok((row, ep, client))
    }

    pub async fn list_models(&self, id: Option<i64>) -> Result<Vec<String>> {
        let (_, ep, client) = self.endpoint_for(id, None).await?;
        client.list_models(&ep).await
    }

    /// Looks for Ollama, LM Studio, llama.cpp and vLLM on this machine.
    pub async fn probe_local_servers(&self) -> Result<Vec<LocalServer>> {
        probe::probe(&probe::default_candidates(), probe::PROBE_TIMEOUT).await
    }
}
