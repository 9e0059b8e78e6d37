//! The provider profile and its key, as the settings dialog and `parley key` see them.

use serde::Deserialize;

use super::profile::{self, ProfileView};
use super::ChatService;
use crate::db::profiles::{self, ProfileRow, DEFAULT_PROFILE};
use crate::error::Result;
use crate::secrets::ApiKey;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileUpdate {
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub default_model: Option<String>,
}

impl ChatService {
    pub(super) fn profile_row(&self) -> Result<ProfileRow> {
        self.db
            .with(|c| profiles::get_or_create(c, DEFAULT_PROFILE))
    }

    /// Keyring calls block on D-Bus: keep them off the async workers.
    async fn stored_key(&self, profile: &str) -> Result<Option<ApiKey>> {
        let secrets = self.secrets.clone();
        let profile = profile.to_string();
        crate::secrets::blocking(move || secrets.get(&profile)).await
    }

    pub async fn profile(&self) -> Result<ProfileView> {
        let row = self.profile_row()?;
        let stored = self.stored_key(&row.name).await;
        Ok(profile::view(&row, &self.env, stored))
    }

    pub async fn update_profile(&self, update: ProfileUpdate) -> Result<ProfileView> {
        // Saved normalised (a pasted endpoint becomes its base), so the UI shows what is used.
        let base = update
            .base_url
            .filter(|s| !s.trim().is_empty())
            .map(|s| crate::openai::client::parse_base_url(&s).map(|u| u.to_string()))
            .transpose()?;
        let model = update
            .default_model
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        self.db
            .with(|c| profiles::update(c, DEFAULT_PROFILE, base.as_deref(), model.as_deref()))?;
        self.profile().await
    }

    /// Stores the key in the keyring, bound to the origin of the profile's current base URL.
    pub async fn set_key(&self, raw: &str) -> Result<ProfileView> {
        let key = ApiKey::new(raw)?;
        let row = self.profile_row()?;
        let origin = profile::origin_of(&profile::effective_base_url(&row, &self.env, None)?);
        // The keyring first: if it fails, the old key keeps its old origin (never the new one).
        let secrets = self.secrets.clone();
        crate::secrets::blocking(move || secrets.set(DEFAULT_PROFILE, &key)).await?;
        self.db
            .with(|c| profiles::set_key_origin(c, &row.name, Some(&origin)))?;
        self.profile().await
    }

    pub async fn clear_key(&self) -> Result<ProfileView> {
        let secrets = self.secrets.clone();
        crate::secrets::blocking(move || secrets.delete(DEFAULT_PROFILE)).await?;
        self.db
            .with(|c| profiles::set_key_origin(c, DEFAULT_PROFILE, None))?;
        self.profile().await
    }

    pub(super) async fn endpoint(
        &self,
        override_url: Option<&str>,
    ) -> Result<(ProfileRow, crate::openai::Endpoint)> {
        let row = self.profile_row()?;
        let stored = self.stored_key(&row.name).await;
        let ep = profile::endpoint(&row, &self.env, stored, override_url)?;
        Ok((row, ep))
    }

    /// The endpoint of a named profile (`None` = the default one). Until several profiles exist,
    /// only the default profile is known.
    pub(super) async fn endpoint_for(
        &self,
        profile: Option<&str>,
        override_url: Option<&str>,
    ) -> Result<(ProfileRow, crate::openai::Endpoint)> {
        match profile {
            Some(name) if name != DEFAULT_PROFILE => {
                Err(crate::error::Error::not_found(format!("profile {name}")))
            }
            _ => self.endpoint(override_url).await,
        }
    }

    pub async fn list_models(&self) -> Result<Vec<String>> {
        let (_, ep) = self.endpoint(None).await?;
        self.client.list_models(&ep).await
    }
}
