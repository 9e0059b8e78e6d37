//! What `parley ask` keeps off the way to its request (issue 15), checked by mechanism, never by
//! time: the WAL file is kept between runs (so a run's first write appends to it instead of
//! creating and syncing a new one), yet every run's rows are in the database file itself when the
//! command returns.

use std::path::Path;

use parley_core::db::messages::{self, Status};
use parley_core::db::{conversations, Db};

use crate::cli::{ask, assert_succeeded};
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

/// The WAL header: magic, version, page size, checkpoint sequence, salts and checksum. SQLite
/// writes (and syncs) it only when it starts a WAL file over.
fn wal_header(dir: &Path) -> Vec<u8> {
    let bytes = std::fs::read(dir.join("parley.db-wal")).expect("the WAL file is kept");
    bytes[..32.min(bytes.len())].to_vec()
}

/// The conversations and their (user, reply) contents, read from `parley.db` alone: a copy of
/// the file without its WAL holds only what was checkpointed into it.
fn in_the_database_file(dir: &Path) -> Vec<(String, String, Status)> {
    let copy = tempdir();
    std::fs::copy(dir.join("parley.db"), copy.path().join("parley.db")).unwrap();
    let (db, _) = Db::open_dir(copy.path()).unwrap();
    let mut out = Vec::new();
    for conv in db.with(|c| conversations::list(c)).unwrap() {
        let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
        assert_eq!(path.len(), 2, "{path:?}");
        out.push((
            path[0].content.clone(),
            path[1].content.clone(),
            path[1].status,
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn the_wal_file_outlives_a_run_and_the_next_run_appends_to_it_without_starting_it_over() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    assert_succeeded(&ask(dir.path(), &server, &["--model", "test-model", "one"]));
    let header = wal_header(dir.path());
    assert_eq!(header.len(), 32, "a WAL with its header");
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(dir.path().join("parley.db-wal"))
            .unwrap()
            .ino()
    };
    assert_succeeded(&ask(dir.path(), &server, &["--model", "test-model", "two"]));
    // Same file, same header (salts and checkpoint sequence): the second run's writes went on
    // after the first run's frames, with no new header to write and sync.
    assert_eq!(wal_header(dir.path()), header);
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let now = std::fs::metadata(dir.path().join("parley.db-wal")).unwrap();
        assert_eq!(now.ino(), inode, "the WAL was not deleted and made again");
    }
    // Closing still checkpointed: both runs are in the database file without the WAL.
    assert_eq!(
        in_the_database_file(dir.path()),
        [
            ("one".into(), "Echo: one".into(), Status::Done),
            ("two".into(), "Echo: two".into(), Status::Done),
        ]
    );
}

/// A keyring that counts its reads.
#[derive(Default)]
struct CountingStore {
    inner: parley_core::secrets::MemoryStore,
    gets: std::sync::atomic::AtomicUsize,
}

impl CountingStore {
    fn gets(&self) -> usize {
        self.gets.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl parley_core::secrets::SecretStore for CountingStore {
    fn get(&self, profile: &str) -> parley_core::error::Result<Option<StoredKey>> {
        self.gets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get(profile)
    }
    fn set(&self, profile: &str, key: &ApiKey, origin: &str) -> parley_core::error::Result<()> {
        self.inner.set(profile, key, origin)
    }
    fn delete(&self, profile: &str) -> parley_core::error::Result<()> {
        self.inner.delete(profile)
    }
}

use parley_core::api::ProfileKind;
use parley_core::chat::{ChatService, EnvFallback, ProfileUpdate, SendRequest};
use parley_core::secrets::{ApiKey, StoredKey};
use std::sync::Arc;

async fn sent_with(service: &ChatService, server: &FakeOpenAi, conversation: i64) -> String {
    let reply = service
        .send(
            SendRequest {
                conversation_id: conversation,
                content: "hi".into(),
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(
        (reply.status, reply.content.as_str()),
        (Status::Done, "Echo: hi")
    );
    let last = server.requests().pop().unwrap();
    last.header("authorization").unwrap_or_default()
}

#[tokio::test]
async fn a_key_read_ahead_is_the_one_the_request_carries_and_only_for_its_own_profile() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let store = Arc::new(CountingStore::default());
    let env = EnvFallback {
        api_key: None,
        base_url: Some(server.base_url()),
    };
    let (service, _) = parley_core::open_service(dir.path(), store.clone(), env).unwrap();
    service.set_key(None, "sk-default").await.unwrap();
    let other = service
        .create_profile(ProfileUpdate {
            name: Some("other".into()),
            kind: Some(ProfileKind::Compatible),
            base_url: Some(server.base_url()),
            ..Default::default()
        })
        .await
        .unwrap();
    service.set_key(Some(other.id), "sk-other").await.unwrap();
    let conv = crate::common::new_conversation(&service, "test-model");

    // Read ahead for the default profile, then sent with it: one keyring read, its key.
    let before = store.gets();
    service.prefetch_key(None).unwrap();
    assert_eq!(
        sent_with(&service, &server, conv).await,
        "Bearer sk-default"
    );
    assert_eq!(
        store.gets() - before,
        1,
        "the request took the read made ahead"
    );

    // Read ahead from the database file before the service opened it, as `parley ask` does.
    let before = store.gets();
    let ahead = parley_core::chat::KeyPrefetch::start(dir.path(), None, store.clone())
        .expect("the default profile's row is read from the file");
    service.adopt_key_prefetch(ahead);
    assert_eq!(
        sent_with(&service, &server, conv).await,
        "Bearer sk-default"
    );
    assert_eq!(store.gets() - before, 1);

    // Read ahead for the default profile, sent with another: that one's key, asked for itself.
    service
        .set_conversation_profile(conv, Some(other.id))
        .unwrap();
    let before = store.gets();
    service.prefetch_key(None).unwrap();
    assert_eq!(sent_with(&service, &server, conv).await, "Bearer sk-other");
    // The read made ahead may still be finishing on its thread: two reads in all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while store.gets() - before < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(store.gets() - before, 2);
}
