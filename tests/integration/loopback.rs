//! Servers on this machine (127.0.0.0/8, ::1, localhost) and the proxy: direct by default, as
//! curl's NO_PROXY convention; through the proxy when the app, or a profile, says so.

use parley_core::db::messages::Status;
use parley_core::openai::Proxy;

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;
use crate::forward_proxy::ForwardProxy;
use crate::providers::{chats, compatible, conversation, posts, send, service};

#[tokio::test]
async fn servers_on_this_machine_bypass_the_proxy_unless_the_setting_says_otherwise() {
    for proxy in [ForwardProxy::start_http(), ForwardProxy::start_socks5()] {
        let server = FakeOpenAi::start_with_key("sk-local");
        let dir = tempdir();
        let (svc, _) = service(dir.path());
        assert!(!svc.profiles().await.unwrap().proxy_local, "off by default");
        // The proxy set both app-wide and on the profile; the key over plain http is fine, as
        // it goes straight to this machine.
        svc.set_app_proxy(Proxy::Custom(proxy.url())).await.unwrap();
        let mut update = compatible("local", &server);
        update.proxy = Some(Proxy::Custom(proxy.url()));
        let p = svc.create_profile(update).await.unwrap();
        svc.set_key(Some(p.id), "sk-local").await.unwrap();
        let conv = conversation(&svc, Some(p.id));
        let (r, _) = send(&svc, conv, "straight here").await;
        assert_eq!(r.status, Status::Done, "{:?}", r.error_message);
        assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
        assert_eq!(chats(&server).len(), 1);
        // `localhost` too.
        let mut named = compatible("local", &server);
        named.base_url = Some(server.base_url().replace("127.0.0.1", "localhost"));
        named.proxy = Some(Proxy::Custom(proxy.url()));
        svc.update_profile(Some(p.id), named).await.unwrap();
        svc.confirm_key(Some(p.id)).await.unwrap();
        let (r, _) = send(&svc, conv, "by name").await;
        assert_eq!(r.status, Status::Done, "{:?}", r.error_message);
        assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
        // Turned on: the same request goes through the proxy (where plain http keeps the key back).
        let overview = svc.set_proxy_local(true).await.unwrap();
        assert!(overview.proxy_local);
        let (r, _) = send(&svc, conv, "through it").await;
        assert_eq!(r.status, Status::Error);
        assert!(r
            .error_message
            .unwrap()
            .contains("plain http through a proxy"));
        svc.clear_key(Some(p.id)).await.unwrap();
        // Without a key it goes, through the proxy (the server then refuses it: no key).
        send(&svc, conv, "through it, no key").await;
        assert!(!proxy.requests().is_empty());
    }
}

#[tokio::test]
async fn a_profiles_own_choice_for_local_servers_wins_over_the_app_setting() {
    let proxy = ForwardProxy::start_http();
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let mut update = compatible("local", &server);
    update.proxy = Some(Proxy::Custom(proxy.url()));
    update.proxy_local = Some(true);
    let p = svc.create_profile(update.clone()).await.unwrap();
    assert_eq!(p.proxy_local, Some(true));
    let conv = conversation(&svc, Some(p.id));
    let (r, _) = send(&svc, conv, "through the proxy").await;
    assert_eq!(r.status, Status::Done, "{:?}", r.error_message);
    assert_eq!(posts(&proxy).len(), 1, "{:?}", proxy.requests());
    // The app sends local servers through the proxy; this profile says no: direct.
    svc.set_proxy_local(true).await.unwrap();
    update.proxy_local = Some(false);
    svc.update_profile(Some(p.id), update.clone())
        .await
        .unwrap();
    send(&svc, conv, "direct").await;
    assert_eq!(posts(&proxy).len(), 1);
    assert_eq!(chats(&server).len(), 2);
    // No choice of its own: the app's applies (through the proxy).
    update.proxy_local = None;
    let view = svc.update_profile(Some(p.id), update).await.unwrap();
    assert_eq!(view.proxy_local, None);
    send(&svc, conv, "as the app says").await;
    assert_eq!(posts(&proxy).len(), 2);
}
