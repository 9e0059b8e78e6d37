//! The command layer through Tauri's mock runtime: real IPC requests checked against the app's
//! capability, and a streamed reply captured from a Channel.

use std::sync::{Arc, Mutex};

use parley_core::chat::{EnvFallback, SendRequest};
use parley_core::secrets::MemoryStore;
use parley_desktop::commands::consent::CONFIRM_ENV;
use parley_desktop::commands::state::AppState;
use parley_desktop::gui::build_app;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, Channel, InvokeBody, InvokeResponseBody};
use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

pub fn app(
    dir: &std::path::Path,
    server: &FakeOpenAi,
) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    app_with_store(dir, server, Arc::new(MemoryStore::default()))
}

/// [`app`] over a given key store (a test puts an older, unbound entry in first).
pub fn app_with_store(
    dir: &std::path::Path,
    server: &FakeOpenAi,
    store: Arc<MemoryStore>,
) -> (tauri::App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let env = EnvFallback {
        api_key: None,
        base_url: Some(server.base_url()),
    };
    // The native consent dialog (W8) answers yes here, unless a test asked for no.
    if std::env::var_os(CONFIRM_ENV).is_none() {
        std::env::set_var(CONFIRM_ENV, "yes");
    }
    let (service, _) = parley_core::open_service(dir, store, env).unwrap();
    let app = build_app(mock_builder(), AppState::new(Ok(service), vec![]))
        .build(tauri::generate_context!("tauri.conf.json", test = true))
        .unwrap();
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    (app, window)
}

pub fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    tauri::test::get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn conversation_commands_round_trip_through_ipc() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let conv = invoke(&w, "create_conversation", json!({})).unwrap();
    let id = conv["id"].as_i64().unwrap();
    let renamed = invoke(
        &w,
        "rename_conversation",
        json!({"id": id, "title": "Plans"}),
    )
    .unwrap();
    assert_eq!(renamed["title"], "Plans");
    let updated = invoke(
        &w,
        "update_conversation",
        json!({"id": id, "settings": {"systemPrompt": "Be brief.", "model": "test-model", "temperature": 0.7, "maxTokens": 64}}),
    )
    .unwrap();
    assert_eq!(
        (
            updated["systemPrompt"].as_str(),
            updated["maxTokens"].as_i64()
        ),
        (Some("Be brief."), Some(64))
    );
    // A bad value is a typed error with a stable kind.
    let err = invoke(
        &w,
        "update_conversation",
        json!({"id": id, "settings": {"temperature": 9}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    assert_eq!(
        invoke(&w, "list_conversations", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    invoke(&w, "delete_conversation", json!({"id": id})).unwrap();
    assert!(invoke(&w, "list_conversations", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
    invoke(&w, "restore_conversation", json!({"id": id})).unwrap();
    assert_eq!(
        invoke(&w, "list_conversations", json!({})).unwrap()[0]["title"],
        "Plans"
    );
    let err = invoke(&w, "get_messages", json!({"conversationId": 999})).unwrap_err();
    assert_eq!(err["kind"], "not_found");
}

#[test]
fn the_key_can_be_set_and_cleared_but_never_read_back() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let profile = invoke(&w, "set_api_key", json!({"key": "sk-ipc-secret"})).unwrap();
    assert_eq!(
        (profile["hasKey"].as_bool(), profile["keySource"].as_str()),
        (Some(true), Some("keyring"))
    );
    for cmd in ["get_profile", "app_info", "list_conversations"] {
        let v = invoke(&w, cmd, json!({})).unwrap();
        assert!(
            !v.to_string().contains("sk-ipc-secret"),
            "{cmd} leaked the key"
        );
    }
    let profile = invoke(&w, "clear_api_key", json!({})).unwrap();
    assert_eq!(profile["hasKey"], false);
    let models = invoke(&w, "list_models", json!({})).unwrap();
    assert!(models.as_array().unwrap().iter().any(|m| m == "test-model"));
    let err = invoke(
        &w,
        "update_profile",
        json!({"update": {"baseUrl": "file:///etc/passwd"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
}

#[test]
fn commands_outside_the_capability_are_refused() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    for cmd in [
        "plugin:shell|execute",
        "plugin:opener|open_url",
        "plugin:fs|read_file",
        "no_such_command",
    ] {
        assert!(
            invoke(&w, cmd, json!({})).is_err(),
            "{cmd} must not be callable"
        );
    }
}

#[tokio::test]
async fn send_message_streams_events_into_a_channel() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (app, w) = app(dir.path(), &server);
    let conv = invoke(&w, "create_conversation", json!({})).unwrap();
    let id = conv["id"].as_i64().unwrap();
    invoke(
        &w,
        "update_conversation",
        json!({"id": id, "settings": {"model": "test-model"}}),
    )
    .unwrap();

    let captured: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = captured.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        sink.lock()
            .unwrap()
            .push(body.deserialize::<Value>().unwrap());
        Ok(())
    });
    let request = SendRequest {
        conversation_id: id,
        content: "through ipc".into(),
        stream_id: Some("ipc-1".into()),
        ..Default::default()
    };
    let reply =
        parley_desktop::commands::chat::send_message(app.state::<AppState>(), request, channel)
            .await
            .unwrap();
    assert_eq!(reply.len(), 1);
    assert_eq!(reply[0].content, "Echo: through ipc");

    let events = captured.lock().unwrap().clone();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"started"));
    assert_eq!(types.last(), Some(&"finished"));
    assert_eq!(events[0]["streamId"], "ipc-1");
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "delta")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Echo: through ipc");
    assert_eq!(events.last().unwrap()["message"]["status"], "done");

    let messages = invoke(&w, "get_messages", json!({"conversationId": id})).unwrap();
    assert_eq!(messages.as_array().unwrap().len(), 2);
    assert_eq!(messages[1]["completionTokens"], 3);
}

#[test]
fn a_key_saved_for_one_server_is_never_sent_to_another() {
    let home = FakeOpenAi::start();
    let other = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &home);
    let profile = invoke(&w, "set_api_key", json!({"key": "sk-bound-to-home"})).unwrap();
    assert_eq!(profile["hasKey"], true);
    invoke(&w, "list_models", json!({})).unwrap();
    let sent = home.requests().last().unwrap().header("authorization");
    assert_eq!(sent.as_deref(), Some("Bearer sk-bound-to-home"));

    // The page points the profile somewhere else: the key stays with its own server.
    let moved = invoke(
        &w,
        "update_profile",
        json!({"update": {"baseUrl": other.base_url()}}),
    )
    .unwrap();
    assert_eq!(moved["hasKey"], false);
    let home_origin = home.base_url().trim_end_matches("/v1").to_string();
    assert_eq!(moved["keyHeldFor"], json!(home_origin));
    // Nothing goes out: the user is asked to confirm the key for this server or enter another.
    let refused = invoke(&w, "list_models", json!({})).unwrap_err();
    assert_eq!(refused["kind"], "key_unconfirmed");
    assert_eq!(refused["heldFor"], json!(home_origin));
    assert!(other.requests().is_empty());

    // Saving a key again binds it to the new server.
    let rebound = invoke(&w, "set_api_key", json!({"key": "sk-for-other"})).unwrap();
    assert_eq!(rebound["hasKey"], true);
    invoke(&w, "list_models", json!({})).unwrap();
    let sent = other.requests().last().unwrap().header("authorization");
    assert_eq!(sent.as_deref(), Some("Bearer sk-for-other"));

    // Back home, the user confirms the key (now the other server's) for home on purpose.
    invoke(
        &w,
        "update_profile",
        json!({"update": {"baseUrl": home.base_url()}}),
    )
    .unwrap();
    assert_eq!(
        invoke(&w, "list_models", json!({})).unwrap_err()["kind"],
        "key_unconfirmed"
    );
    let confirmed = invoke(&w, "confirm_api_key", json!({})).unwrap();
    assert_eq!(confirmed["hasKey"], true);
    invoke(&w, "list_models", json!({})).unwrap();
    let sent = home.requests().last().unwrap().header("authorization");
    assert_eq!(sent.as_deref(), Some("Bearer sk-for-other"));
}

#[test]
fn profiles_are_managed_through_ipc_and_keys_never_come_back() {
    let home = FakeOpenAi::start();
    let second = FakeOpenAi::start_with_key("sk-ipc-second");
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &home);
    // As the window does at start: the default profile ("default") is made on first use.
    let first = invoke(&w, "get_profile", json!({})).unwrap();
    assert_eq!(
        (first["name"].as_str(), first["isDefault"].as_bool()),
        (Some("default"), Some(true))
    );
    let created = invoke(
        &w,
        "create_profile",
        json!({"update": {"name": "Second", "kind": "compatible", "baseUrl": second.base_url(),
            "defaultModel": "test-model", "proxy": {"mode": "none"}, "idleTimeoutMs": 30000,
            "defaults": {"temperature": 0.4, "stop": ["END"]}}}),
    )
    .unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["kind"], "compatible");
    assert_eq!(created["proxy"], json!({"mode": "none"}));
    assert_eq!(created["defaults"]["temperature"], 0.4);
    assert_eq!(created["hasKey"], false);
    let keyed = invoke(
        &w,
        "set_api_key",
        json!({"profileId": id, "key": "sk-ipc-second"}),
    )
    .unwrap();
    assert_eq!(keyed["hasKey"], true);
    let models = invoke(&w, "list_models", json!({"profileId": id})).unwrap();
    assert!(models.as_array().unwrap().iter().any(|m| m == "test-model"));
    assert_eq!(
        second
            .requests()
            .last()
            .unwrap()
            .header("authorization")
            .as_deref(),
        Some("Bearer sk-ipc-second")
    );
    // The default profile kept no key, and listing never carries one.
    let list = invoke(&w, "list_profiles", json!({})).unwrap();
    assert!(!list.to_string().contains("sk-ipc-second"));
    let names: Vec<_> = list["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["hasKey"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("default".to_string(), false), ("Second".to_string(), true)]
    );
    assert_eq!(list["appProxy"], json!({"mode": "system"}));

    // A conversation points at the profile; a bad id is refused.
    let conv = invoke(&w, "create_conversation", json!({})).unwrap();
    let cid = conv["id"].as_i64().unwrap();
    let moved = invoke(
        &w,
        "set_conversation_profile",
        json!({"id": cid, "profileId": id}),
    )
    .unwrap();
    assert_eq!(moved["profileId"], id);
    let err = invoke(
        &w,
        "set_conversation_profile",
        json!({"id": cid, "profileId": 9999}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "not_found");

    // Bad input: a typed error, nothing saved.
    let err = invoke(
        &w,
        "create_profile",
        json!({"update": {"name": "Az", "kind": "azure", "baseUrl": "https://res.openai.azure.com"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let err = invoke(
        &w,
        "set_app_proxy",
        json!({"proxy": {"mode": "custom", "url": "gopher://x"}}),
    )
    .unwrap_err();
    assert_eq!(err["kind"], "invalid");
    let proxied = invoke(
        &w,
        "set_app_proxy",
        json!({"proxy": {"mode": "custom", "url": "socks5://127.0.0.1:1080"}}),
    )
    .unwrap();
    assert_eq!(
        proxied["appProxy"],
        json!({"mode": "custom", "url": "socks5://127.0.0.1:1080"})
    );

    // The default moves; then the old default can be removed, and its conversations follow.
    let overview = invoke(&w, "set_default_profile", json!({"profileId": id})).unwrap();
    assert_eq!(overview["defaultId"], id);
    let default_id = names_to_id(&overview, "default");
    let err = invoke(&w, "delete_profile", json!({"profileId": id})).unwrap_err();
    assert_eq!(err["kind"], "invalid", "the default profile stays");
    invoke(&w, "delete_profile", json!({"profileId": default_id})).unwrap();
    let list = invoke(&w, "list_profiles", json!({})).unwrap();
    assert_eq!(list["profiles"].as_array().unwrap().len(), 1);
    let found = invoke(&w, "find_local_servers", json!({})).unwrap();
    assert!(found.is_array());
}

fn names_to_id(overview: &Value, name: &str) -> i64 {
    overview["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}
