//! API keys live only in the OS keyring (Secret Service, Keychain, Credential Manager), each stored
//! together with the origin it was given for, inside the secret itself: whatever the database says
//! (fresh, replaced, restored from an old backup), a key is only ever sent where it was saved for.
//! Only the HTTP client ever sees a key's value.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use crate::error::{Error, Result};

pub mod redact;
#[cfg(target_os = "linux")]
mod secret_service;

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

/// A key as the keyring holds it: the key and the origin (`scheme://host[:port]`) it was saved for.
/// `origin` is `None` for an entry with no origin inside (written by hand, e.g. with secret-tool, or
/// by a Parley before keys were bound): such a key is never sent until the user confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub key: ApiKey,
    pub origin: Option<String>,
}

/// The secret's text: `{"parley":1,"origin":"…","key":"…"}`. Anything else is a bare key (unbound).
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    parley: u32,
    origin: String,
    key: String,
}

const PAYLOAD_VERSION: u32 = 1;

fn encode(key: &ApiKey, origin: &str) -> String {
    serde_json::to_string(&Payload {
        parley: PAYLOAD_VERSION,
        origin: origin.to_string(),
        key: key.expose().to_string(),
    })
    .expect("a payload of strings always serializes")
}

fn decode(secret: &str) -> Result<StoredKey> {
    let bad = || Error::Keyring {
        message: "the stored key is not a valid API key; set it again".into(),
    };
    let trimmed = secret.trim();
    if trimmed.starts_with('{') {
        let p: Payload = serde_json::from_str(trimmed).map_err(|_| bad())?;
        if p.parley != PAYLOAD_VERSION || p.origin.trim().is_empty() {
            return Err(bad());
        }
        return Ok(StoredKey {
            key: ApiKey::new(&p.key).map_err(|_| bad())?,
            origin: Some(p.origin),
        });
    }
    // Written by hand or by an older Parley: check it like a typed key; its origin is unknown.
    Ok(StoredKey {
        key: ApiKey::new(secret).map_err(|_| bad())?,
        origin: None,
    })
}

/// Where keys are kept, one entry per provider profile, each bound to an origin.
pub trait SecretStore: Send + Sync {
    fn get(&self, profile: &str) -> Result<Option<StoredKey>>;
    /// Stores `key` for `origin` (replacing what was there, origin included).
    fn set(&self, profile: &str, key: &ApiKey, origin: &str) -> Result<()>;
    /// Deleting a key that is not there is not an error.
    fn delete(&self, profile: &str) -> Result<()>;
    /// A hint that a read is coming and likely finds a key: a store may prepare for it (the
    /// Secret Service's encrypted session). Nothing by default.
    fn prepare_read(&self) {}
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

    /// Connects to the Secret Service and makes the session's key pair for a read to come
    /// (Linux; elsewhere nothing): `parley ask` calls it first thing; the session itself opens
    /// on [`SecretStore::prepare_read`].
    pub fn warm_up(&self) {
        #[cfg(target_os = "linux")]
        if !session_bus_missing() {
            secret_service::warm_up();
        }
    }

    fn entry(&self, profile: &str) -> Result<keyring::Entry> {
        if cfg!(target_os = "linux") && session_bus_missing() {
            // Without a session bus libdbus would try to autolaunch one (tens of ms at every
            // start of `parley` on a CI server) only to find no Secret Service in it.
            return Err(Error::Keyring {
                message: "the keyring is locked or absent (no D-Bus session bus: \
                          DBUS_SESSION_BUS_ADDRESS is not set)"
                    .into(),
            });
        }
        keyring::Entry::new(&self.service, profile).map_err(keyring_error)
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

fn session_bus_missing() -> bool {
    no_session_bus(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS"),
        std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from),
    )
}

/// No session bus to reach the Secret Service: no `DBUS_SESSION_BUS_ADDRESS`, and no
/// `$XDG_RUNTIME_DIR/bus` (where libdbus looks next, as systemd sessions provide it).
fn no_session_bus(
    address: Option<std::ffi::OsString>,
    runtime_dir: Option<std::path::PathBuf>,
) -> bool {
    address.is_none_or(|a| a.is_empty()) && runtime_dir.is_none_or(|d| !d.join("bus").exists())
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
    fn get(&self, profile: &str) -> Result<Option<StoredKey>> {
        let entry = self.entry(profile)?;
        #[cfg(target_os = "linux")]
        let read = linux::read(entry, &self.service, profile);
        #[cfg(not(target_os = "linux"))]
        let read = entry.get_password();
        match read {
            Ok(secret) => decode(&secret).map(Some),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn set(&self, profile: &str, key: &ApiKey, origin: &str) -> Result<()> {
        self.entry(profile)?
            .set_password(&encode(key, origin))
            .map_err(keyring_error)
    }

    /// Opens the Secret Service's encrypted session for the next read before it is asked for
    /// (Linux; elsewhere nothing): its Diffie–Hellman then runs while the database is opened.
    fn prepare_read(&self) {
        #[cfg(target_os = "linux")]
        if !session_bus_missing() {
            secret_service::open_session_ahead();
        }
    }

    fn delete(&self, profile: &str) -> Result<()> {
        match self.entry(profile)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::secret_service::{self, Read};

    /// The Secret Service read of `secret_service.rs` (one session, its steps overlapped); what
    /// it does not handle, the `keyring` crate reads as before.
    pub(super) fn read(
        entry: keyring::Entry,
        service: &str,
        user: &str,
    ) -> keyring::Result<String> {
        match secret_service::read(service, user) {
            Read::Secret(secret) => Ok(secret),
            Read::Nothing => Err(keyring::Error::NoEntry),
            Read::Ask => entry.get_password(),
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
/// Holds the same text the keyring would, so both read back alike.
#[derive(Default)]
pub struct MemoryStore {
    keys: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    /// Puts a bare key in, as a hand-written or older entry would be (tests of unbound keys).
    pub fn put_raw(&self, profile: &str, secret: &str) {
        self.keys
            .lock()
            .unwrap()
            .insert(profile.to_string(), secret.to_string());
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, profile: &str) -> Result<Option<StoredKey>> {
        let secret = self.keys.lock().unwrap().get(profile).cloned();
        secret.map(|s| decode(&s)).transpose()
    }
    fn set(&self, profile: &str, key: &ApiKey, origin: &str) -> Result<()> {
        self.put_raw(profile, &encode(key, origin));
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
    fn without_a_session_bus_the_keyring_is_not_asked() {
        let dir = std::env::temp_dir().join(format!("parley-bus-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(no_session_bus(None, None));
        assert!(no_session_bus(Some("".into()), Some(dir.clone())));
        assert!(!no_session_bus(Some("unix:path=/x".into()), None));
        std::fs::write(dir.join("bus"), b"").unwrap();
        assert!(!no_session_bus(None, Some(dir.clone())));
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
        s.set("p", &ApiKey::new("k1").unwrap(), "http://127.0.0.1:8080")
            .unwrap();
        let got = s.get("p").unwrap().unwrap();
        assert_eq!(got.key.expose(), "k1");
        assert_eq!(got.origin.as_deref(), Some("http://127.0.0.1:8080"));
        s.delete("p").unwrap();
        s.delete("p").unwrap();
        assert!(s.get("p").unwrap().is_none());
    }

    #[test]
    fn a_key_is_stored_with_its_origin_and_a_bare_key_has_none() {
        let bound = decode(&encode(&ApiKey::new("sk-a").unwrap(), "https://x.test")).unwrap();
        assert_eq!(bound.key.expose(), "sk-a");
        assert_eq!(bound.origin.as_deref(), Some("https://x.test"));
        let bare = decode("sk-by-hand\n").unwrap();
        assert_eq!((bare.key.expose(), bare.origin), ("sk-by-hand", None));
        // A damaged payload is an error, never a key with a guessed origin.
        assert_eq!(
            decode("{\"parley\":1,\"key\":\"sk\"}").unwrap_err().kind(),
            "keyring"
        );
        assert_eq!(
            decode("{\"parley\":1,\"origin\":\"\",\"key\":\"sk\"}")
                .unwrap_err()
                .kind(),
            "keyring"
        );
    }
}
