//! API keys live only in the OS keyring (Secret Service, Keychain, Credential Manager).
//! The store can set, clear and check a key; only the HTTP client ever sees its value.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// An API key. Debug and Display never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Trims surrounding whitespace (a pasted newline is the usual suspect) and rejects empty or
    /// multi-line input, which no provider issues and which would break the HTTP header.
    pub fn new(raw: &str) -> Result<ApiKey> {
        let key = raw.trim();
        if key.is_empty() {
            return Err(Error::invalid("The API key is empty."));
        }
        if !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::invalid(
                "The API key may only contain visible ASCII characters (no spaces, line breaks or accents).",
            ));
        }
        if key.len() > 4096 {
            return Err(Error::invalid(
                "The API key is longer than 4096 characters.",
            ));
        }
        Ok(ApiKey(key.to_string()))
    }

    /// The secret itself, for the Authorization header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where keys are kept, one entry per provider profile.
pub trait SecretStore: Send + Sync {
    fn get(&self, profile: &str) -> Result<Option<ApiKey>>;
    fn set(&self, profile: &str, key: &ApiKey) -> Result<()>;
    /// Deleting a key that is not there is not an error.
    fn delete(&self, profile: &str) -> Result<()>;
}

/// The OS keyring through the `keyring` crate. Service name `parley`, user = profile name.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// Service `parley`, or `PARLEY_KEYRING_SERVICE` when set (separate installs, tests).
    pub fn new() -> Self {
        let service = std::env::var("PARLEY_KEYRING_SERVICE")
            .ok()
            .filter(|s| !s.trim().is_empty());
        Self::with_service(service.as_deref().unwrap_or("parley"))
    }

    pub fn with_service(service: &str) -> Self {
        KeyringStore {
            service: service.to_string(),
        }
    }

    fn entry(&self, profile: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, profile).map_err(keyring_error)
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

fn keyring_error(e: keyring::Error) -> Error {
    let message = match &e {
        keyring::Error::PlatformFailure(inner) => format!("platform failure ({inner})"),
        keyring::Error::NoStorageAccess(inner) => {
            format!("the keyring is locked or absent ({inner})")
        }
        other => other.to_string(),
    };
    Error::Keyring { message }
}

impl SecretStore for KeyringStore {
    fn get(&self, profile: &str) -> Result<Option<ApiKey>> {
        match self.entry(profile)?.get_password() {
            // Written by Parley or by hand (secret-tool): check it like a typed key.
            Ok(secret) => ApiKey::new(&secret).map(Some).map_err(|_| Error::Keyring {
                message: "the stored key is not a valid API key; set it again".into(),
            }),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, profile: &str, key: &ApiKey) -> Result<()> {
        self.entry(profile)?
            .set_password(key.expose())
            .map_err(keyring_error)
    }

    fn delete(&self, profile: &str) -> Result<()> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// Runs a store call off the async workers: keyring calls block on D-Bus (or the OS equivalent).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Keyring {
            message: format!("the keyring call did not finish: {e}"),
        })?
}

/// For tests and for machines where the user opted out of persistence: nothing leaves memory.
#[derive(Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, ApiKey>>,
}

impl SecretStore for MemoryStore {
    fn get(&self, profile: &str) -> Result<Option<ApiKey>> {
        Ok(self.keys.lock().unwrap().get(profile).cloned())
    }
    fn set(&self, profile: &str, key: &ApiKey) -> Result<()> {
        self.keys
            .lock()
            .unwrap()
            .insert(profile.to_string(), key.clone());
        Ok(())
    }
    fn delete(&self, profile: &str) -> Result<()> {
        self.keys.lock().unwrap().remove(profile);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_redacted_in_debug_and_display() {
        let key = ApiKey::new("  sk-secret-123\n").unwrap();
        assert_eq!(key.expose(), "sk-secret-123");
        assert!(!format!("{key:?}").contains("sk-secret"));
        assert!(!format!("{key}").contains("sk-secret"));
    }

    #[test]
    fn rejects_empty_and_multiline_keys() {
        assert_eq!(ApiKey::new("   ").unwrap_err().kind(), "invalid");
        assert_eq!(ApiKey::new("sk-a\nsk-b").unwrap_err().kind(), "invalid");
    }

    #[test]
    fn memory_store_round_trip() {
        let s = MemoryStore::default();
        assert!(s.get("p").unwrap().is_none());
        s.set("p", &ApiKey::new("k1").unwrap()).unwrap();
        assert_eq!(s.get("p").unwrap().unwrap().expose(), "k1");
        s.delete("p").unwrap();
        s.delete("p").unwrap();
        assert!(s.get("p").unwrap().is_none());
    }
}
