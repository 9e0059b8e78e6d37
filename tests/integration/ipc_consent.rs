//! Through IPC, what needs the user: links checked (refusals give the reason), and without the
//! user's consent no link opens and no proxy or server changes.

use parley_desktop::commands::consent::CONFIRM_ENV;
use serde_json::json;

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;
use crate::ipc::{app, invoke};

#[test]
fn links_are_checked_through_ipc_and_refusals_carry_the_reason() {
    let server = FakeOpenAi::start();
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = app(dir.path(), &server);
    let ok = invoke(
        &w,
        "check_link",
        json!({ "url": "https://Example.com/a b" }),
    )
    .unwrap();
    assert_eq!(ok["url"], "https://example.com/a%20b");
    assert_eq!(ok["host"], "example.com");
    assert_eq!(ok["idn"], false);
    for bad in [
        "file:///etc/passwd",
        "JaVaScRiPt:alert(1)",
        "https://google.com@evil.com/",
    ] {
        let err = invoke(&w, "check_link", json!({ "url": bad })).unwrap_err();
        assert_eq!(err["kind"], "invalid", "{bad}: {err}");
        // open_link checks again on its own: a refused link never reaches the opener.
        let err = invoke(&w, "open_link", json!({ "url": bad })).unwrap_err();
        assert_eq!(err["kind"], "invalid", "{bad}: {err}");
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
}

/// W8: script in the page calls the privileged commands directly. Run in a child process of this
/// test binary with the native dialog answering no (the answer is process-wide).
#[test]
fn without_the_users_consent_the_page_opens_no_link_and_changes_no_proxy_or_server() {
    let dir = tempdir();
    let log = dir.path().join("opened.log");
    let opener = dir.path().join("opener.sh");
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "ipc_consent::privileged_commands_refused_when_the_user_says_no",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CONFIRM_ENV, "no")
        .env("PARLEY_LINK_OPENER", &opener)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("1 passed"), "{text}");
    assert!(
        !log.exists(),
        "a link was opened: {:?}",
        std::fs::read_to_string(&log)
    );
}

#[test]
#[ignore = "run by the test above, with the dialog answering no"]
fn privileged_commands_refused_when_the_user_says_no() {
    assert_eq!(std::env::var(CONFIRM_ENV).as_deref(), Ok("no"));
    let home = FakeOpenAi::start();
    let other = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &home);
    for url in [
        "https://evil.example/collect?data=secret",
        "mailto:a@example.com?attach=/home/user/.ssh/id_rsa",
    ] {
        let err = invoke(&w, "open_link", json!({ "url": url })).unwrap_err();
        assert_eq!(err["kind"], "cancelled", "{url}: {err}");
    }
    let err = invoke(
        &w,
        "set_app_proxy",
        json!({"proxy": {"mode": "custom", "url": "http://127.0.0.1:9"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    let overview = invoke(&w, "list_profiles", json!({})).unwrap();
    assert_ne!(overview["appProxy"]["mode"], "custom");
    // A profile with a key (or a history) is not re-pointed without the user.
    invoke(&w, "set_api_key", json!({"key": "sk-stays-home"})).unwrap();
    let err = invoke(
        &w,
        "update_profile",
        json!({"update": {"baseUrl": other.base_url()}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    let err = invoke(
        &w,
        "update_profile",
        json!({"update": {"proxy": {"mode": "custom", "url": "http://127.0.0.1:9"}}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    invoke(&w, "list_models", json!({})).unwrap();
    assert!(other.requests().is_empty());
    assert_eq!(
        home.requests()
            .last()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer sk-stays-home")
    );
    // A new profile with a proxy of its own, or a new default that conversations follow to
    // another server, needs the user too.
    let err = invoke(
        &w,
        "create_profile",
        json!({"update": {"name": "Proxied",
        "proxy": {"mode": "custom", "url": "http://127.0.0.1:9"}}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    invoke(&w, "create_conversation", json!({})).unwrap();
    let elsewhere = invoke(
        &w,
        "create_profile",
        json!({"update": {"name": "Elsewhere",
        "baseUrl": other.base_url()}}),
    )
    .unwrap();
    let err = invoke(
        &w,
        "set_default_profile",
        json!({"profileId": elsewhere["id"]}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");

    // An older entry never bound to a server: pointing the profile elsewhere asks (as for any
    // key), and the page cannot confirm the key for a server on its own.
    let dir = tempdir();
    let store = std::sync::Arc::new(parley_core::secrets::MemoryStore::default());
    store.put_raw("default", "sk-legacy");
    let (_app, w) = crate::ipc::app_with_store(dir.path(), &home, store);
    let err = invoke(
        &w,
        "update_profile",
        json!({"update": {"baseUrl": other.base_url()}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    let err = invoke(&w, "confirm_api_key", json!({})).unwrap_err();
    assert_eq!(err["kind"], "cancelled");
    assert_eq!(
        invoke(&w, "list_models", json!({})).unwrap_err()["kind"],
        "key_unconfirmed"
    );
    assert!(other.requests().is_empty());
    let sent = home
        .requests()
        .into_iter()
        .filter(|r| r.header("authorization").as_deref() == Some("Bearer sk-legacy"));
    assert_eq!(sent.count(), 0);
}
