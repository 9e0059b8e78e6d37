//! A profile's key read from the keyring ahead of its request (issue 15): `parley ask` starts the
//! read as soon as it knows the profile, so its D-Bus round trips (~7 ms) overlap the database
//! writes that come before the request instead of following them. Same read, same binding rule.

use tokio::task::JoinHandle;

use super::ChatService;
use crate::db::profiles::ProfileRow;
use crate::error::{Error, Result};
use crate::secrets::{SecretStore, StoredKey};

/// A read under way: for which keyring entry, with which origin the database recorded for it.
pub(super) struct KeyPrefetch {
    profile: String,
    recorded: Option<String>,
    read: JoinHandle<Result<Option<StoredKey>>>,
}

/// The profile's keyring entry (blocks on D-Bus: call it off the async workers). An entry from
/// before keys were bound carries no origin: it is bound, once, to the origin the database
/// recorded for it; with none recorded it stays unbound and is never sent unasked.
pub(super) fn read_stored(
    secrets: &dyn SecretStore,
    profile: &str,
    recorded: Option<String>,
) -> Result<Option<StoredKey>> {
    let stored = secrets.get(profile)?;
    match (stored, recorded) {
        (Some(StoredKey { key, origin: None }), Some(origin)) => {
            secrets.set(profile, &key, &origin)?;
            Ok(Some(StoredKey {
                key,
                origin: Some(origin),
            }))
        }
        (stored, _) => Ok(stored),
    }
}

/// Waits for a keyring read on the blocking pool.
pub(super) async fn joined(
    read: JoinHandle<Result<Option<StoredKey>>>,
) -> Result<Option<StoredKey>> {
    read.await.map_err(|e| Error::Keyring {
        message: format!("the keyring call did not finish: {e}"),
    })?
}

impl ChatService {
    /// Starts reading the key of a profile (`None`: the default one) on a blocking thread. The
    /// next request with that profile takes the answer instead of asking the keyring again; one
    /// with another profile (or after the profile's entry changed in the database) asks as
    /// before. Outside a Tokio runtime it does nothing. One read is kept; a new call replaces it.
    pub fn prefetch_key(&self, profile_id: Option<i64>) -> Result<()> {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let row = self.profile_row(profile_id)?;
        let secrets = self.secrets.clone();
        let (profile, recorded) = (row.name.clone(), row.key_origin.clone());
        let read =
            runtime.spawn_blocking(move || read_stored(&*secrets, &row.name, row.key_origin));
        *self.prefetched.lock().unwrap() = Some(KeyPrefetch {
            profile,
            recorded,
            read,
        });
        Ok(())
    }

    /// The read started for this profile, taken (it answers one request); `None` when none was
    /// started for it.
    pub(super) fn take_prefetched(
        &self,
        row: &ProfileRow,
    ) -> Option<JoinHandle<Result<Option<StoredKey>>>> {
        let mut slot = self.prefetched.lock().unwrap();
        match slot.take() {
            Some(p) if p.profile == row.name && p.recorded == row.key_origin => Some(p.read),
            other => {
                *slot = other;
                None
            }
        }
    }
}
