//! The real Secret Service (gnome-keyring in a private D-Bus session started by tests/run.sh).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use parley::chat::EnvFallback;
use parley::secrets::{ApiKey, KeyringStore, SecretStore};

use crate::cli::{assert_succeeded, parley};
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

/// These tests write to a keyring: make sure it is the throwaway one, never the user's.
fn require_private_keyring() {
    assert_eq!(
        std::env::var("PARLEY_TEST_KEYRING").as_deref(),
        Ok("private"),
        "run the tests through tests/run.sh: it starts a throwaway gnome-keyring in a private D-Bus session"
    );
}

#[test]
fn set_get_delete_round_trip_in_the_secret_service() {
    require_private_keyring();
    let service = format!("parley-roundtrip-{}", std::process::id());
    let store = KeyringStore::with_service(&service);
    let profile = "default";
    assert_eq!(store.get(profile).unwrap(), None);
    store
        .set(profile, &ApiKey::new("sk-round-trip-1").unwrap())
        .unwrap();
    assert_eq!(
        store.get(profile).unwrap().unwrap().expose(),
        "sk-round-trip-1"
    );
    // Replace.
    store
        .set(profile, &ApiKey::new("sk-round-trip-2").unwrap())
        .unwrap();
    assert_eq!(
        store.get(profile).unwrap().unwrap().expose(),
        "sk-round-trip-2"
    );
    // It is a real Secret Service item, visible to other clients of the service.
    let out = Command::new("secret-tool")
        .args(["lookup", "service", &service, "username", profile])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "sk-round-trip-2"
    );
    store.delete(profile).unwrap();
    assert_eq!(store.get(profile).unwrap(), None);
    store.delete(profile).unwrap();
}

fn file_contains(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            hits.push(entry.display().to_string());
        }
    }
    hits
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn a_key_set_headless_is_used_from_the_keyring_and_never_written_to_disk() {
    require_private_keyring();
    let key = "sk-keyring-only-4f1b2c";
    let server = FakeOpenAi::start_with_key(key);
    let dir = tempdir();
    // A keyring service of its own, so no other test sees (or trips over) this key.
    let service = format!("parley-cli-keyring-{}", std::process::id());
    let parley = |dir: &std::path::Path| {
        let mut cmd = parley(dir);
        cmd.env("PARLEY_KEYRING_SERVICE", &service)
            .env("OPENAI_BASE_URL", server.base_url());
        cmd
    };

    let mut child = parley(dir.path())
        .args(["key", "set"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{key}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let status = parley(dir.path()).args(["key", "status"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "a key is stored"
    );
    assert!(!String::from_utf8_lossy(&status.stdout).contains(key));

    // No OPENAI_API_KEY in the environment: the key can only come from the keyring.
    let out = parley(dir.path())
        .args([
            "ask",
            "--base-url",
            &server.base_url(),
            "--model",
            "test-model",
            "from the keyring",
        ])
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Echo: from the keyring"
    );
    assert_eq!(
        server.requests()[0].header("authorization").unwrap(),
        format!("Bearer {key}")
    );

    // The service sees it as a keyring key, and the webview-facing view never carries it.
    let env = EnvFallback {
        api_key: None,
        base_url: Some(server.base_url()),
    };
    let (svc, _) = parley::open_service(
        dir.path(),
        Arc::new(KeyringStore::with_service(&service)),
        env,
    )
    .unwrap();
    let view = svc.profile().await.unwrap();
    assert!(view.has_key);
    assert_eq!(view.key_source, parley::chat::KeySource::Keyring);
    assert!(!serde_json::to_string(&view).unwrap().contains(key));
    let replaced = svc.set_key("sk-replaced-77").await.unwrap();
    assert!(replaced.has_key);
    drop(svc);

    // The key is in no file Parley wrote (database, WAL, backups).
    assert!(file_contains(dir.path(), key.as_bytes()).is_empty());
    assert!(file_contains(dir.path(), b"sk-replaced-77").is_empty());

    let cleared = parley(dir.path()).args(["key", "clear"]).output().unwrap();
    assert!(cleared.status.success());
    let status = parley(dir.path()).args(["key", "status"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "no key stored"
    );
}
