//! A profile's key read from the keyring ahead of its request (issue 15): `parley ask` starts the
//! read before the database is even checked, so its D-Bus round trips (~7-9 ms) overlap the
//! check and the writes that come before the request instead of following them. Same read, same
//! binding rule; the answer is used only for the profile row the request ends up with.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags};
use tokio::task::JoinHandle;

use super::ChatService;
use crate::db::profiles::ProfileRow;
use crate::error::{Error, Result};
use crate::secrets::{SecretStore, StoredKey};

/// A read under way: for which keyring entry, with which origin the database recorded for it.
pub struct KeyPrefetch {
    profile: String,
    recorded: Option<String>,
    read: JoinHandle<Result<Option<StoredKey>>>,
    /// The read-only connection that found the row, kept until the database is open (closing it
    /// first would make the next connection rebuild the WAL index again).
    _looked: Option<Connection>,
}

impl KeyPrefetch {
    fn spawn(
        secrets: Arc<dyn SecretStore>,
        row: &ProfileRow,
        looked: Option<Connection>,
    ) -> KeyPrefetch {
        KeyPrefetch {
            profile: row.name.clone(),
            recorded: row.key_origin.clone(),
            read: spawn_read(secrets, row),
            _looked: looked,
        }
    }

    /// Starts reading the key of profile `name` (`None`: the default one) before the database in
    /// `data_dir` is opened: the row is read on a read-only connection, and anything unusual (no
    /// file yet, an older or damaged one, a lock) just means no read ahead. Hand the result to
    /// [`ChatService::adopt_key_prefetch`]. Outside a Tokio runtime it does nothing.
    pub fn start(
        data_dir: &Path,
        name: Option<&str>,
        secrets: Arc<dyn SecretStore>,
    ) -> Option<KeyPrefetch> {
        tokio::runtime::Handle::try_current().ok()?;
        let conn = Connection::open_with_flags(
            data_dir.join(crate::db::DB_FILE),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        // It only reads: its close never checkpoints nor deletes the kept WAL.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .ok()?;
        crate::db::wal::persist(&conn).ok()?;
        let row = match name {
            Some(name) => crate::db::profiles::by_name(&conn, name).ok()??,
            None => crate::db::profiles::default_profile(&conn).ok()?,
        };
        Some(KeyPrefetch::spawn(secrets, &row, Some(conn)))
    }
}

/// Reads the profile's keyring entry ([`read_stored`]) on the blocking pool (call it inside a
/// Tokio runtime). A row that records
/// a key stored through Parley tells the store first, on this thread: it may open its encrypted
/// session while the read searches for the item (told from the blocking thread, it came 0.7 ms
/// later, the time that thread took to start).
pub(super) fn spawn_read(
    secrets: Arc<dyn SecretStore>,
    row: &ProfileRow,
) -> JoinHandle<Result<Option<StoredKey>>> {
    if row.key_origin.is_some() {
        secrets.prepare_read();
    }
    let (name, origin) = (row.name.clone(), row.key_origin.clone());
    tokio::task::spawn_blocking(move || read_stored(&*secrets, &name, origin))
}

/// The profile's keyring entry (blocks on D-Bus: call it off the async workers). An entry from
/// before keys were bound carries no origin: it is bound, once, to the origin the database
/// recorded for it; with none recorded it stays unbound and is never sent unasked.
fn read_stored(
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
        if tokio::runtime::Handle::try_current().is_err() {
            return Ok(());
        }
        let row = self.profile_row(profile_id)?;
        let read = KeyPrefetch::spawn(self.secrets.clone(), &row, None);
        self.adopt_key_prefetch(read);
        Ok(())
    }

    /// Keeps a read started with [`KeyPrefetch::start`] for the next request (replacing any).
    pub fn adopt_key_prefetch(&self, read: KeyPrefetch) {
        *self.prefetched.lock().unwrap() = Some(read);
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
