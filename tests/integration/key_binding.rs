//! Keys bound to their server in the keyring itself (the real Secret Service, started by
//! tests/run.sh): a fresh, replaced or restored database can never send a key somewhere else.

use std::process::Command;
use std::sync::Arc;

use parley_core::chat::{ChatService, EnvFallback, ProfileUpdate, SendRequest};
use parley_core::db::backup;
use parley_core::db::messages::Message;
use parley_core::db::profiles::ProfileKind;
use parley_core::secrets::{KeyringStore, SecretStore};

use crate::common::{peek, tempdir};
use crate::fake_openai::FakeOpenAi;

fn require_private_keyring() {
    assert_eq!(
        std::env::var("PARLEY_TEST_KEYRING").as_deref(),
        Ok("private"),
        "run the tests through tests/run.sh: it starts a throwaway gnome-keyring in a private D-Bus session"
    );
}

/// A throwaway keyring service per test, so tests never see each other's keys.
fn keyring(test: &str) -> (String, Arc<KeyringStore>) {
    let service = format!("parley-binding-{test}-{}", std::process::id());
    (
        service.clone(),
        Arc::new(KeyringStore::with_service(&service)),
    )
}

fn open(dir: &std::path::Path, store: &Arc<KeyringStore>) -> ChatService {
    let (svc, _) = parley_core::open_service(dir, store.clone(), EnvFallback::default()).unwrap();
    svc
}

async fn point_default_at(svc: &ChatService, server: Option<&FakeOpenAi>) {
    let update = ProfileUpdate {
        kind: Some(match server {
            Some(_) => ProfileKind::Compatible,
            None => ProfileKind::OpenAi,
        }),
        base_url: server.map(|s| s.base_url()),
        default_model: Some("test-model".into()),
        ..Default::default()
    };
    svc.update_profile(None, update).await.unwrap();
}

async fn say(svc: &ChatService, text: &str) -> Message {
    let conv = svc.create_conversation(None).unwrap().id;
    let req = SendRequest {
        conversation_id: conv,
        content: text.into(),
        ..Default::default()
    };
    svc.send(req, |_| {}).await.unwrap()
}

/// What `secret-tool` (any other client of the Secret Service) sees in the entry.
fn entry_text(service: &str, profile: &str) -> String {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", service, "username", profile])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn authorizations(server: &FakeOpenAi) -> Vec<Option<String>> {
    server
        .requests()
        .iter()
        .map(|r| r.header("authorization"))
        .collect()
}

#[tokio::test]
async fn a_key_saved_for_one_server_is_never_sent_to_another_from_a_fresh_data_folder() {
    require_private_keyring();
    let (service, store) = keyring("fresh");
    let a = FakeOpenAi::start_with_key("sk-bound-to-a");
    let b = FakeOpenAi::start();
    let first = tempdir();
    let svc = open(first.path(), &store);
    point_default_at(&svc, Some(&a)).await;
    svc.set_key(None, "sk-bound-to-a").await.unwrap();
    assert_eq!(say(&svc, "to a").await.content, "Echo: to a");
    // The origin is inside the keyring entry itself, next to the key.
    let text = entry_text(&service, "default");
    assert!(
        text.contains(&format!(
            "\"origin\":\"{}\"",
            a.base_url().trim_end_matches("/v1")
        )),
        "{text}"
    );
    drop(svc);

    // Another data folder, same keyring, the same profile name pointed at server B.
    let second = tempdir();
    let svc = open(second.path(), &store);
    point_default_at(&svc, Some(&b)).await;
    let view = svc.profile(None).await.unwrap();
    assert!(!view.has_key);
    assert_eq!(
        view.key_held_for.as_deref(),
        Some(a.base_url().trim_end_matches("/v1"))
    );
    let reply = say(&svc, "to b").await;
    assert_eq!(reply.error_kind.as_deref(), Some("key_unconfirmed"));
    let said = reply.error_message.as_deref().unwrap();
    assert!(
        said.contains(a.base_url().trim_end_matches("/v1")),
        "{said}"
    );
    assert!(b.requests().is_empty(), "{:?}", authorizations(&b));

    // And at OpenAI's default URL: refused before any connection is made.
    point_default_at(&svc, None).await;
    let err = svc.endpoint_for(None, None).await.err().unwrap();
    assert_eq!(err.kind(), "key_unconfirmed");
    let reply = say(&svc, "to openai").await;
    assert_eq!(reply.error_kind.as_deref(), Some("key_unconfirmed"));

    // Re-entering the key is the user's way on: then it goes to B, and B only.
    point_default_at(&svc, Some(&b)).await;
    svc.set_key(None, "sk-new-for-b").await.unwrap();
    assert_eq!(say(&svc, "now b").await.content, "Echo: now b");
    assert_eq!(
        authorizations(&b),
        [Some("Bearer sk-new-for-b".to_string())]
    );
    assert_eq!(
        a.requests()
            .iter()
            .filter(|r| r.header("authorization").as_deref() == Some("Bearer sk-new-for-b"))
            .count(),
        0
    );
    svc.clear_key(None).await.unwrap();
}

#[tokio::test]
async fn a_restored_older_backup_does_not_send_the_newer_key_to_the_older_server() {
    require_private_keyring();
    let (_, store) = keyring("restore");
    let old_server = FakeOpenAi::start();
    let new_server = FakeOpenAi::start_with_key("sk-for-the-new-server");
    let dir = tempdir();
    let svc = open(dir.path(), &store);
    point_default_at(&svc, Some(&old_server)).await;
    svc.set_key(None, "sk-for-the-old-server").await.unwrap();
    let taken = backup::write(&peek(dir.path()), dir.path(), "manual").unwrap();
    // Later: the profile moves to another server with a key of its own.
    point_default_at(&svc, Some(&new_server)).await;
    svc.set_key(None, "sk-for-the-new-server").await.unwrap();
    drop(svc);

    // The old backup comes back: its profile points at the old server, and its database still
    // says the key is that server's. The keyring knows better.
    let name = taken.file_name().unwrap().to_string_lossy().to_string();
    backup::restore(dir.path(), &name).unwrap();
    let svc = open(dir.path(), &store);
    let base_url: Option<String> = peek(dir.path())
        .query_row(
            "SELECT base_url FROM profiles WHERE name = 'default'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(base_url.as_deref(), Some(old_server.base_url().as_str()));
    let reply = say(&svc, "after restore").await;
    assert_eq!(reply.error_kind.as_deref(), Some("key_unconfirmed"));
    assert!(old_server.requests().is_empty());

    // Confirming sends it there on purpose, and from then on only there.
    svc.confirm_key(None).await.unwrap();
    assert_eq!(say(&svc, "confirmed").await.content, "Echo: confirmed");
    assert_eq!(
        authorizations(&old_server),
        [Some("Bearer sk-for-the-new-server".to_string())]
    );
    svc.clear_key(None).await.unwrap();
}

#[tokio::test]
async fn an_entry_from_before_binding_is_bound_on_first_use_to_the_origin_the_database_recorded() {
    require_private_keyring();
    let (service, store) = keyring("legacy");
    let server = FakeOpenAi::start_with_key("sk-legacy-1");
    let dir = tempdir();
    let svc = open(dir.path(), &store);
    point_default_at(&svc, Some(&server)).await;
    let origin = server.base_url().trim_end_matches("/v1").to_string();
    // What an older Parley left: a bare key in the keyring, its origin only in the database.
    keyring::Entry::new(&service, "default")
        .unwrap()
        .set_password("sk-legacy-1")
        .unwrap();
    parley_core::db::profiles::set_key_origin(&peek(dir.path()), "default", Some(&origin)).unwrap();
    assert_eq!(say(&svc, "old key").await.content, "Echo: old key");
    assert_eq!(
        authorizations(&server),
        [Some("Bearer sk-legacy-1".to_string())]
    );
    // Migrated: the entry now carries its origin.
    let stored = store.get("default").unwrap().unwrap();
    assert_eq!(stored.origin.as_deref(), Some(origin.as_str()));
    assert!(entry_text(&service, "default").contains(&origin));
    store.delete("default").unwrap();
}

#[tokio::test]
async fn an_entry_with_no_recorded_origin_is_never_sent_until_the_user_confirms_it() {
    require_private_keyring();
    let (service, store) = keyring("unbound");
    let server = FakeOpenAi::start_with_key("sk-by-hand-9");
    let dir = tempdir();
    let svc = open(dir.path(), &store);
    point_default_at(&svc, Some(&server)).await;
    // Stored by hand (or by an old install whose database is gone).
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf sk-by-hand-9 | secret-tool store --label=x service {service} username default"
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let view = svc.profile(None).await.unwrap();
    assert!(view.key_unbound && !view.has_key);
    let reply = say(&svc, "unasked").await;
    assert_eq!(reply.error_kind.as_deref(), Some("key_unconfirmed"));
    assert!(reply.error_message.unwrap().contains("an unknown server"));
    assert!(server.requests().is_empty());
    // The user says yes.
    let view = svc.confirm_key(None).await.unwrap();
    assert!(view.has_key && !view.key_unbound);
    assert_eq!(say(&svc, "asked").await.content, "Echo: asked");
    assert_eq!(
        authorizations(&server),
        [Some("Bearer sk-by-hand-9".to_string())]
    );
    store.delete("default").unwrap();
}
