//! The real Secret Service (gnome-keyring in a private D-Bus session started by tests/run.sh).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use parley_core::chat::EnvFallback;
use parley_core::secrets::{ApiKey, KeyringStore, SecretStore};

use crate::cli::{assert_succeeded, parley, run_with_stdin};
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
        .set(
            profile,
            &ApiKey::new("sk-round-trip-1").unwrap(),
            "https://api.openai.com",
        )
        .unwrap();
    assert_eq!(
        store.get(profile).unwrap().unwrap().key.expose(),
        "sk-round-trip-1"
    );
    // Replace.
    store
        .set(
            profile,
            &ApiKey::new("sk-round-trip-2").unwrap(),
            "http://127.0.0.1:8080",
        )
        .unwrap();
    let stored = store.get(profile).unwrap().unwrap();
    assert_eq!(stored.key.expose(), "sk-round-trip-2");
    assert_eq!(stored.origin.as_deref(), Some("http://127.0.0.1:8080"));
    // It is a real Secret Service item, visible to other clients of the service, and the origin
    // it is bound to travels inside the secret.
    let out = Command::new("secret-tool")
        .args(["lookup", "service", &service, "username", profile])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"parley":1,"origin":"http://127.0.0.1:8080","key":"sk-round-trip-2"}"#
    );
    store.delete(profile).unwrap();
    assert_eq!(store.get(profile).unwrap(), None);
    store.delete(profile).unwrap();
}

/// A read that finds nothing is answered by a search, without waiting for the encrypted session
/// (src-tauri/core/src/secrets: `parley ask` with a local server or a key from the environment);
/// an item that another client stored, without the attributes Parley's own items carry, is still
/// found and read through the encrypted session.
#[test]
fn a_missing_key_is_answered_by_a_search_and_an_item_stored_elsewhere_is_still_read() {
    require_private_keyring();
    let service = format!("parley-search-{}", std::process::id());
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let ask = || {
        let out = parley(dir.path())
            .env("PARLEY_KEYRING_SERVICE", &service)
            .env("PARLEY_TRACE", "1")
            .env("OPENAI_API_KEY", "sk-from-the-environment")
            .env("OPENAI_BASE_URL", server.base_url())
            .args(["ask", "--model", "test-model", "hi"])
            .output()
            .unwrap();
        assert_succeeded(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    const EARLY: &str = "keyring: nothing stored (answered by a search, no session)";
    let traced = ask();
    assert!(traced.contains(EARLY), "{traced}");
    let store = KeyringStore::with_service(&service);
    assert_eq!(store.get("default").unwrap(), None);

    let stored = run_with_stdin(
        Command::new("secret-tool")
            .args(["store", "--label=stored by hand", "service", &service])
            .args(["username", "default"]),
        b"sk-stored-by-hand-9",
    );
    assert!(stored.success());
    let found = store.get("default").unwrap().unwrap();
    assert_eq!(found.key.expose(), "sk-stored-by-hand-9");
    assert_eq!(found.origin, None);
    // Without the attributes Parley's items carry, the item is read by the keyring crate.
    const ONE_SESSION: &str = "keyring: read through one session";
    let traced = ask();
    assert!(
        !traced.contains(EARLY) && !traced.contains(ONE_SESSION),
        "{traced}"
    );
    store.delete("default").unwrap();
    assert_eq!(store.get("default").unwrap(), None);

    // Parley's own item is read through Parley's one session (secrets/secret_service.rs), and
    // reads back exactly what the keyring crate reads.
    let origin = server.base_url().trim_end_matches("/v1").to_string();
    store
        .set(
            "default",
            &ApiKey::new("sk-one-session-5").unwrap(),
            &origin,
        )
        .unwrap();
    let traced = ask();
    assert!(traced.contains(ONE_SESSION), "{traced}");
    let read = store.get("default").unwrap().unwrap();
    assert_eq!(read.key.expose(), "sk-one-session-5");
    assert_eq!(read.origin.as_deref(), Some(origin.as_str()));
    let by_the_crate = ::keyring::Entry::new(&service, "default")
        .unwrap()
        .get_password()
        .unwrap();
    assert_eq!(
        by_the_crate,
        format!(r#"{{"parley":1,"origin":"{origin}","key":"sk-one-session-5"}}"#)
    );
    store.delete("default").unwrap();
    assert_eq!(store.get("default").unwrap(), None);
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

    let set = run_with_stdin(
        parley(dir.path()).args(["key", "set"]),
        format!("{key}\n").as_bytes(),
    );
    assert!(set.success());
    let status = parley(dir.path()).args(["key", "status"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout).trim(),
        "a key is stored"
    );
    assert!(!String::from_utf8_lossy(&status.stdout).contains(key));

    // No OPENAI_API_KEY in the environment: the key can only come from the keyring (read through
    // Parley's own session, opened ahead: the profile's row records the key's origin).
    let out = parley(dir.path())
        .env("PARLEY_TRACE", "1")
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
    let traced = String::from_utf8_lossy(&out.stderr);
    assert!(
        traced.contains("keyring: session open")
            && traced.contains("keyring: read through one session"),
        "{traced}"
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
    let (svc, _) = parley_core::open_service(
        dir.path(),
        Arc::new(KeyringStore::with_service(&service)),
        env,
    )
    .unwrap();
    let view = svc.profile(None).await.unwrap();
    assert!(view.has_key);
    assert_eq!(view.key_source, parley_core::chat::KeySource::Keyring);
    assert!(!serde_json::to_string(&view).unwrap().contains(key));
    let replaced = svc.set_key(None, "sk-replaced-77").await.unwrap();
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

    // The row records a key, but its item lacks the `target` the crate's items carry (another
    // tool stored it): the one exact search a read makes beside a session opened ahead finds
    // nothing, the wider search finds the item, and the crate reads it.
    let set = run_with_stdin(
        parley(dir.path()).args(["key", "set"]),
        format!("{key}\n").as_bytes(),
    );
    assert!(set.success());
    let secret_tool = |args: &[&str], input: &[u8]| {
        let mut cmd = Command::new("secret-tool");
        cmd.args(args)
            .args(["service", &service, "username", "default"]);
        run_with_stdin(&mut cmd, input)
    };
    assert!(secret_tool(&["clear"], b"").success());
    let origin = server.base_url().trim_end_matches("/v1").to_string();
    let encoded = format!(r#"{{"parley":1,"origin":"{origin}","key":"{key}"}}"#);
    assert!(secret_tool(&["store", "--label=elsewhere"], encoded.as_bytes()).success());
    let out = parley(dir.path())
        .env("PARLEY_TRACE", "1")
        .args(["ask", "--base-url", &server.base_url()])
        .args(["--model", "test-model", "read by the crate"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let traced = String::from_utf8_lossy(&out.stderr);
    assert!(
        traced.contains("keyring: session open")
            && !traced.contains("keyring: read through one session"),
        "{traced}"
    );
    assert_eq!(
        server.requests().last().unwrap().header("authorization"),
        Some(format!("Bearer {key}"))
    );
    assert!(secret_tool(&["clear"], b"").success());
}

#[test]
fn profiles_and_a_key_per_profile_from_the_command_line() {
    require_private_keyring();
    let a = FakeOpenAi::start_with_key("sk-cli-azure-a1");
    let b = FakeOpenAi::start_with_key("sk-cli-local-b2");
    let dir = tempdir();
    let service = format!("parley-cli-profiles-{}", std::process::id());
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut child = parley(dir.path())
            .env("PARLEY_KEYRING_SERVICE", &service)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    };
    let stdout = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();

    // The default profile ("default", made on first use) has no key.
    assert_eq!(
        stdout(&run(&["key", "status"], None)).trim(),
        "no key stored"
    );
    let out = run(
        &[
            "profiles",
            "add",
            "local",
            "--kind",
            "compatible",
            "--base-url",
            &b.base_url(),
            "--model",
            "test-model",
        ],
        None,
    );
    assert_succeeded(&out);
    let resource = a.base_url().trim_end_matches("/v1").to_string();
    let out = run(
        &[
            "profiles",
            "add",
            "az",
            "--kind",
            "azure",
            "--base-url",
            &resource,
            "--deployment",
            "test-model",
            "--api-version",
            "2024-10-21",
        ],
        None,
    );
    assert_succeeded(&out);
    // Bad input: a clear error, nothing added.
    let out = run(
        &[
            "profiles",
            "add",
            "x",
            "--kind",
            "gemini",
            "--base-url",
            "http://127.0.0.1:1/v1",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("gemini"));
    let out = run(
        &[
            "profiles",
            "add",
            "local",
            "--base-url",
            "http://127.0.0.1:1/v1",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    assert_succeeded(&run(
        &["key", "set", "--profile", "local"],
        Some("sk-cli-local-b2\n"),
    ));
    assert_succeeded(&run(
        &["key", "set", "--profile", "az"],
        Some("sk-cli-azure-a1\n"),
    ));
    assert_eq!(
        stdout(&run(&["key", "status", "--profile", "local"], None)).trim(),
        "a key is stored"
    );
    assert_eq!(
        stdout(&run(&["key", "status"], None)).trim(),
        "no key stored"
    );
    let out = run(&["key", "status", "--profile", "nobody"], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));

    let list = run(&["profiles", "list"], None);
    assert_succeeded(&list);
    let text = stdout(&list);
    assert!(!text.contains("sk-cli"), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.split('\t').next().unwrap().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert_eq!(
        line("local"),
        format!(
            "local\tcompatible\t{}\ttest-model\ta key is stored",
            b.base_url()
        )
    );
    assert!(
        line("az").starts_with(&format!("az\tazure\t{resource}/ (deployment test-model)")),
        "{text}"
    );
    assert!(line("az").ends_with("a key is stored"), "{text}");
    assert!(
        line("default").starts_with("default (default)\topenai\t"),
        "{text}"
    );

    // ask --profile: the reply comes from that profile's server with that profile's key.
    let out = run(&["ask", "--profile", "local", "hello local"], None);
    assert_succeeded(&out);
    assert_eq!(stdout(&out), "Echo: hello local");
    assert_eq!(
        b.requests()[0].header("authorization").unwrap(),
        "Bearer sk-cli-local-b2"
    );
    let out = run(&["ask", "--profile", "az", "hello azure"], None);
    assert_succeeded(&out);
    assert_eq!(stdout(&out), "Echo: hello azure");
    let az = a
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(az.path, "/openai/deployments/test-model/chat/completions");
    assert_eq!(az.header("api-key").unwrap(), "sk-cli-azure-a1");
    // The conversation records its profile (and --continue keeps it).
    let out = run(&["ask", "--continue", "once more"], None);
    assert_succeeded(&out);
    assert_eq!(
        a.requests().iter().filter(|r| r.method == "POST").count(),
        2
    );
    let (db, _) = parley_core::db::Db::open_dir(dir.path()).unwrap();
    let (convs, az_id) = db
        .with(|c| {
            let az = parley_core::db::profiles::by_name(c, "az")?.unwrap();
            Ok((parley_core::db::conversations::list(c)?, az.id))
        })
        .unwrap();
    assert_eq!(convs[0].profile_id, Some(az_id));
    drop(db);

    // Removing a profile removes its keyring entry.
    assert_succeeded(&run(&["profiles", "remove", "local"], None));
    let lookup = Command::new("secret-tool")
        .args(["lookup", "service", &service, "username", "local"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&lookup.stdout).trim(), "");
    assert!(!stdout(&run(&["profiles", "list"], None)).contains("local\t"));
    assert_succeeded(&run(&["profiles", "remove", "az"], None));
    let out = run(&["profiles", "remove", "az"], None);
    assert!(!out.status.success());
}
