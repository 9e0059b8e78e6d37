//! Several provider profiles against real local servers: Azure URL and header shape, a key per
//! profile, profile defaults, proxies (a real HTTP and SOCKS5 proxy on 127.0.0.1), local-server probing.

use std::sync::Arc;

use parley_core::chat::{ChatService, EnvFallback, ProfileUpdate, SendRequest};
use parley_core::db::conversations;
use parley_core::db::messages::Status;
use parley_core::db::profiles::{ProfileDefaults, ProfileKind};
use parley_core::openai::Proxy;
use parley_core::secrets::{MemoryStore, SecretStore};

use crate::common::{tempdir, Events};
use crate::fake_openai::{FakeOpenAi, Recorded};
use crate::forward_proxy::ForwardProxy;

/// A service with no environment fallback: every server and key comes from the profiles.
pub(crate) fn service(dir: &std::path::Path) -> (ChatService, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::default());
    let (svc, _) = parley_core::open_service(dir, store.clone(), EnvFallback::default()).unwrap();
    (svc, store)
}

pub(crate) fn compatible(name: &str, server: &FakeOpenAi) -> ProfileUpdate {
    ProfileUpdate {
        name: Some(name.into()),
        kind: Some(ProfileKind::Compatible),
        base_url: Some(server.base_url()),
        default_model: Some("test-model".into()),
        ..Default::default()
    }
}

/// A conversation on `profile` (None: the default profile), with no model of its own.
pub(crate) fn conversation(svc: &ChatService, profile: Option<i64>) -> i64 {
    let conv = svc.create_conversation(None).unwrap();
    svc.set_conversation_profile(conv.id, profile).unwrap().id
}

pub(crate) async fn send(
    svc: &ChatService,
    conversation_id: i64,
    text: &str,
) -> (parley_core::db::messages::Message, Events) {
    let events = Events::default();
    let reply = svc
        .send(
            SendRequest {
                conversation_id,
                content: text.into(),
                ..Default::default()
            },
            events.sink(),
        )
        .await
        .unwrap();
    (reply, events)
}

pub(crate) fn chats(server: &FakeOpenAi) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect()
}

#[tokio::test]
async fn a_chat_through_an_azure_profile_uses_the_deployment_url_and_the_api_key_header() {
    let server = FakeOpenAi::start_with_key("azure-secret-1");
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let resource = server.base_url().trim_end_matches("/v1").to_string();
    let azure = svc
        .create_profile(ProfileUpdate {
            name: Some("Azure".into()),
            kind: Some(ProfileKind::Azure),
            base_url: Some(resource.clone()),
            azure_deployment: Some("test-model".into()),
            api_version: Some("2024-10-21".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(azure.kind, ProfileKind::Azure);
    svc.set_key(Some(azure.id), "azure-secret-1").await.unwrap();
    // The model list of an Azure profile is its deployment; nothing is asked of the server.
    assert_eq!(
        svc.list_models(Some(azure.id)).await.unwrap(),
        ["test-model"]
    );
    assert_eq!(server.request_count(), 0);

    let conv = conversation(&svc, Some(azure.id));
    let (reply, events) = send(&svc, conv, "hello azure").await;
    assert_eq!(reply.status, Status::Done, "{:?}", reply.error_message);
    assert_eq!(events.text(), "Echo: hello azure");
    let sent = chats(&server);
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.path, "/openai/deployments/test-model/chat/completions");
    assert_eq!(r.query, "api-version=2024-10-21");
    assert_eq!(r.header("api-key").as_deref(), Some("azure-secret-1"));
    assert_eq!(r.header("authorization"), None);

    // A wrong key is refused by the server and reported as such.
    svc.set_key(Some(azure.id), "wrong-key").await.unwrap();
    let (reply, _) = send(&svc, conv, "again").await;
    assert_eq!(reply.status, Status::Error);
    assert_eq!(reply.error_kind.as_deref(), Some("unauthorized"));
}

#[tokio::test]
async fn two_profiles_each_send_their_own_key_to_their_own_server() {
    let a = FakeOpenAi::start_with_key("sk-profile-a");
    let b = FakeOpenAi::start_with_key("sk-profile-b");
    let dir = tempdir();
    let (svc, store) = service(dir.path());
    // The default profile points at A; a second profile at B.
    let default = svc
        .update_profile(None, compatible("ignored", &a))
        .await
        .unwrap();
    assert_eq!(default.name, "default");
    svc.set_key(None, "sk-profile-a").await.unwrap();
    let second = svc.create_profile(compatible("second", &b)).await.unwrap();
    svc.set_key(Some(second.id), "sk-profile-b").await.unwrap();
    assert_eq!(
        store.get("second").unwrap().unwrap().key.expose(),
        "sk-profile-b"
    );
    assert_eq!(
        store.get("default").unwrap().unwrap().key.expose(),
        "sk-profile-a"
    );

    let conv_a = conversation(&svc, None);
    let conv_b = conversation(&svc, Some(second.id));
    let (ra, _) = send(&svc, conv_a, "to a").await;
    let (rb, _) = send(&svc, conv_b, "to b").await;
    assert_eq!((ra.status, rb.status), (Status::Done, Status::Done));
    let (sa, sb) = (chats(&a), chats(&b));
    assert_eq!((sa.len(), sb.len()), (1, 1));
    assert_eq!(
        sa[0].header("authorization").unwrap(),
        "Bearer sk-profile-a"
    );
    assert_eq!(
        sb[0].header("authorization").unwrap(),
        "Bearer sk-profile-b"
    );
    assert_eq!(sb[0].body["messages"][0]["content"], "to b");

    let overview = svc.profiles().await.unwrap();
    let names: Vec<_> = overview
        .profiles
        .iter()
        .map(|p| (p.name.as_str(), p.has_key, p.is_default))
        .collect();
    assert_eq!(names, [("default", true, true), ("second", true, false)]);
    assert!(!serde_json::to_string(&overview)
        .unwrap()
        .contains("sk-profile"));

    // Removing a profile removes its key, and its conversations fall back to the default profile.
    assert_eq!(
        svc.delete_profile(default.id).await.unwrap_err().kind(),
        "invalid"
    );
    svc.delete_profile(second.id).await.unwrap();
    assert_eq!(store.get("second").unwrap(), None);
    assert_eq!(
        store.get("default").unwrap().unwrap().key.expose(),
        "sk-profile-a"
    );
    let conv = svc.conversation(conv_b).unwrap();
    assert_eq!(conv.profile_id, None);
    let (r, _) = send(&svc, conv_b, "now to a").await;
    assert_eq!(r.status, Status::Done);
    assert_eq!(chats(&a).len(), 2);
}

#[tokio::test]
async fn profile_defaults_fill_in_what_the_conversation_leaves_open() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let mut update = compatible("defaults", &server);
    update.defaults = ProfileDefaults {
        temperature: Some(0.25),
        top_p: Some(0.5),
        seed: Some(9),
        stop: Some(vec!["END".into()]),
        ..Default::default()
    };
    let p = svc.create_profile(update).await.unwrap();
    let conv = conversation(&svc, Some(p.id));
    let mut s = svc.conversation(conv).unwrap().settings;
    s.params.temperature = Some(1.0);
    svc.update_conversation(conv, s).unwrap();
    send(&svc, conv, "params").await;
    let body = &chats(&server)[0].body;
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["temperature"], 1.0);
    assert_eq!(body["top_p"], 0.5);
    assert_eq!(body["seed"], 9);
    assert_eq!(body["stop"], serde_json::json!(["END"]));
    assert!(body.get("max_tokens").is_none());
    // Out-of-range defaults are refused before anything is saved.
    let mut bad = compatible("bad", &server);
    bad.defaults.top_p = Some(1.5);
    assert_eq!(svc.create_profile(bad).await.unwrap_err().kind(), "invalid");
    assert!(svc.profile_id_by_name(Some("bad")).is_err());
}

/// The HTTP requests a proxy carried.
pub(crate) fn posts(proxy: &ForwardProxy) -> Vec<String> {
    proxy
        .requests()
        .into_iter()
        .filter(|l| l.starts_with("POST "))
        .collect()
}

async fn proxy_routing(proxy: ForwardProxy, expect: impl Fn(&[String], &FakeOpenAi) -> bool) {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    // The fake server is on 127.0.0.1, which bypasses a proxy unless told otherwise.
    svc.set_proxy_local(true).await.unwrap();
    let mut update = compatible("proxied", &server);
    update.proxy = Some(Proxy::Custom(proxy.url()));
    let p = svc.create_profile(update).await.unwrap();
    let conv = conversation(&svc, Some(p.id));
    let (r, events) = send(&svc, conv, "via proxy").await;
    assert_eq!(r.status, Status::Done, "{:?}", r.error_message);
    assert_eq!(events.text(), "Echo: via proxy");
    assert_eq!(posts(&proxy).len(), 1, "{:?}", proxy.requests());
    assert!(expect(&proxy.requests(), &server), "{:?}", proxy.requests());
    let clients = svc.client_count();
    send(&svc, conv, "again via proxy").await;
    assert_eq!(posts(&proxy).len(), 2);
    assert_eq!(
        svc.client_count(),
        clients,
        "the client is reused, not rebuilt"
    );

    // `none` on the profile: straight to the server, even with an app-wide proxy.
    svc.set_app_proxy(Proxy::Custom(proxy.url())).await.unwrap();
    let mut direct = compatible("proxied", &server);
    direct.proxy = Some(Proxy::None);
    svc.update_profile(Some(p.id), direct).await.unwrap();
    send(&svc, conv, "direct").await;
    assert_eq!(posts(&proxy).len(), 2);
    assert_eq!(chats(&server).len(), 3);
    // No proxy of its own: the app-wide one applies.
    svc.update_profile(Some(p.id), compatible("proxied", &server))
        .await
        .unwrap();
    send(&svc, conv, "app proxy").await;
    assert_eq!(posts(&proxy).len(), 3);
    svc.set_app_proxy(Proxy::None).await.unwrap();
    send(&svc, conv, "app none").await;
    assert_eq!(posts(&proxy).len(), 3);
    assert_eq!(chats(&server).len(), 5);
}

#[tokio::test]
async fn requests_go_through_an_http_proxy_when_set_and_not_when_none() {
    proxy_routing(ForwardProxy::start_http(), |lines, server| {
        // The absolute form: the proxy was asked for the server's URL.
        lines[0] == format!("POST {}/chat/completions HTTP/1.1", server.base_url())
    })
    .await;
}

#[tokio::test]
async fn requests_go_through_a_socks5_proxy_when_set() {
    proxy_routing(ForwardProxy::start_socks5(), |lines, server| {
        let authority = server.base_url();
        let authority = authority
            .trim_start_matches("http://")
            .trim_end_matches("/v1");
        lines[0] == format!("CONNECT {authority}")
            && lines[1] == "POST /v1/chat/completions HTTP/1.1"
    })
    .await;
}

#[tokio::test]
async fn bad_profile_input_is_refused_clearly() {
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let cases = [
        ProfileUpdate {
            name: Some("az".into()),
            kind: Some(ProfileKind::Azure),
            base_url: Some("https://res.openai.azure.com".into()),
            ..Default::default()
        },
        ProfileUpdate {
            name: Some("az2".into()),
            kind: Some(ProfileKind::Azure),
            base_url: Some("https://res.openai.azure.com".into()),
            azure_deployment: Some("has/slash".into()),
            ..Default::default()
        },
        ProfileUpdate {
            name: Some("compat".into()),
            kind: Some(ProfileKind::Compatible),
            ..Default::default()
        },
        ProfileUpdate {
            name: Some("proxy".into()),
            proxy: Some(Proxy::Custom("ftp://x:21".into())),
            ..Default::default()
        },
        ProfileUpdate {
            name: Some("timeout".into()),
            connect_timeout_ms: Some(0),
            ..Default::default()
        },
        ProfileUpdate {
            name: Some("  ".into()),
            ..Default::default()
        },
    ];
    for case in cases {
        let name = case.name.clone();
        assert_eq!(
            svc.create_profile(case).await.unwrap_err().kind(),
            "invalid",
            "{name:?}"
        );
    }
    // Only the default profile exists (created on first use).
    assert_eq!(svc.profiles().await.unwrap().profiles.len(), 1);
    assert_eq!(
        svc.set_app_proxy(Proxy::Custom("not a url".into()))
            .await
            .unwrap_err()
            .kind(),
        "invalid"
    );
}

#[tokio::test]
async fn side_by_side_targets_can_use_different_profiles_each_with_its_own_key() {
    let a = FakeOpenAi::start_with_key("sk-side-a");
    let b = FakeOpenAi::start_with_key("sk-side-b");
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    svc.update_profile(None, compatible("ignored", &a))
        .await
        .unwrap();
    svc.set_key(None, "sk-side-a").await.unwrap();
    let second = svc.create_profile(compatible("second", &b)).await.unwrap();
    svc.set_key(Some(second.id), "sk-side-b").await.unwrap();
    let conv = conversation(&svc, None);
    let request = SendRequest {
        conversation_id: conv,
        content: "both of you".into(),
        targets: vec![
            parley_core::chat::Target::default(),
            parley_core::chat::Target {
                model: Some("test-slow-5".into()),
                profile_id: Some(second.id),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let replies = svc.send_all(request, |_| {}).await.unwrap();
    assert_eq!(replies.len(), 2);
    assert!(replies.iter().all(|r| r.status == Status::Done));
    assert_eq!(replies[0].profile_name.as_deref(), Some("default"));
    assert_eq!(replies[1].profile_name.as_deref(), Some("second"));
    assert_eq!(replies[1].model.as_deref(), Some("test-slow-5"));
    let (sa, sb) = (chats(&a), chats(&b));
    assert_eq!((sa.len(), sb.len()), (1, 1));
    assert_eq!(sa[0].header("authorization").unwrap(), "Bearer sk-side-a");
    assert_eq!(sb[0].header("authorization").unwrap(), "Bearer sk-side-b");
    assert_eq!(sb[0].body["model"], "test-slow-5");
}

#[tokio::test]
async fn a_legacy_completion_through_azure_goes_to_the_deployments_completions_url() {
    let server = FakeOpenAi::start_with_key("azure-secret-2");
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let azure = svc
        .create_profile(ProfileUpdate {
            name: Some("Azure".into()),
            kind: Some(ProfileKind::Azure),
            base_url: Some(server.base_url().trim_end_matches("/v1").to_string()),
            azure_deployment: Some("test-model".into()),
            api_version: Some("2024-10-21".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    svc.set_key(Some(azure.id), "azure-secret-2").await.unwrap();
    let conv = conversation(&svc, Some(azure.id));
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = conversations::EndpointKind::Completions;
    svc.update_conversation(conv, s).unwrap();
    let (reply, _) = send(&svc, conv, "Roses are").await;
    assert_eq!(reply.status, Status::Done, "{:?}", reply.error_message);
    assert_eq!(reply.content, "Echo: Roses are");
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/openai/deployments/test-model/completions");
    assert_eq!(req.header("api-key").as_deref(), Some("azure-secret-2"));
    assert!(req.header("authorization").is_none());
    assert_eq!(req.body["prompt"], "Roses are");
}

#[tokio::test]
async fn a_key_is_never_sent_over_plain_http_through_a_proxy() {
    let proxy = ForwardProxy::start_http();
    let server = FakeOpenAi::start_with_key("sk-not-for-the-proxy");
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    svc.set_proxy_local(true).await.unwrap();
    let mut update = compatible("proxied", &server);
    update.proxy = Some(Proxy::Custom(proxy.url()));
    let p = svc.create_profile(update).await.unwrap();
    svc.set_key(Some(p.id), "sk-not-for-the-proxy")
        .await
        .unwrap();
    let conv = conversation(&svc, Some(p.id));
    let (r, _) = send(&svc, conv, "through the proxy").await;
    assert_eq!(r.status, Status::Error);
    let message = r.error_message.unwrap();
    assert!(message.contains("plain http through a proxy"), "{message}");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // Straight to the server (no proxy), the key goes.
    let mut direct = compatible("proxied", &server);
    direct.proxy = Some(Proxy::None);
    svc.update_profile(Some(p.id), direct).await.unwrap();
    let (r, _) = send(&svc, conv, "direct").await;
    assert_eq!(r.status, Status::Done, "{:?}", r.error_message);
}
