//! Providers: a second profile with its own server, key and default parameters answers a
//! conversation switched to it, and the default profile's server hears nothing.

use std::time::Duration;

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{messages, panel, settings, sidebar};

use messages::LAST_REPLY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_with_its_own_key_answers_a_conversation_switched_to_it() {
    let lab = Lab::new().await;
    // The default profile talks to A (through OPENAI_BASE_URL); the new one to B, with B's key.
    let a = FakeOpenAi::start_with_key("sk-e2e-first-server");
    let b = FakeOpenAi::start_with_key("sk-e2e-second-server");
    let app = lab.open(&a).await;

    app.click(settings::OPEN).await;
    wait_for("the default profile in the list", || async {
        (app.find_all(settings::PROFILES).await.len() == 1).then_some(())
    })
    .await;
    app.type_into(settings::NEW_PROFILE_NAME, "Second").await;
    app.select(settings::NEW_PROFILE_KIND, "compatible").await;
    app.click(settings::ADD_PROFILE).await;
    app.type_into(settings::BASE_URL, &b.base_url()).await;
    app.type_into(settings::DEFAULT_MODEL, "test-model").await;
    // Default parameters of the profile, which its conversations use unless they set their own.
    app.click(settings::ADVANCED).await;
    app.type_into(settings::DEFAULT_TEMPERATURE, "0.4").await;
    app.type_into(settings::DEFAULT_SEED, "12").await;
    app.click(settings::SAVE).await;
    let id = wait_for("the new profile", || async {
        app.ask_backend(
            "list_profiles",
            "o => (o.profiles.find(p => p.name === 'Second') || {}).id",
        )
        .await
        .and_then(|v| v.as_i64())
    })
    .await;
    // Its key, typed while it is the profile being edited.
    app.type_into(settings::API_KEY, "sk-e2e-second-server")
        .await;
    app.click(settings::SAVE_KEY).await;
    wait_for("the key in the keyring", || async {
        app.attr_of(settings::KEY_STATUS, "data-source")
            .await
            .filter(|s| s == "keyring")
    })
    .await;
    let listed = wait_for("both profiles listed", || async {
        let mut text = Vec::new();
        for li in app.find_all(settings::PROFILES).await {
            text.push(li.prop("innerText").await.ok()??);
        }
        (text.len() == 2).then_some(text)
    })
    .await;
    assert!(listed[1].contains("Second"), "{listed:?}");
    app.js_with(
        "document.querySelector(arguments[0]).scrollTop = 0",
        vec![json!(settings::DIALOG)],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.screenshot("profiles.png").await;
    let html = app.source().await;
    assert!(
        !html.contains("sk-e2e-second-server"),
        "the key is in the page"
    );
    app.click(settings::CLOSE).await;

    // A new conversation, switched to the second profile in its settings panel.
    app.click(sidebar::NEW_CHAT).await;
    // The toggle is enabled once the new conversation is active.
    app.open_conversation_panel().await;
    let picker = wait_for("the profile picker", || async {
        let el = app.find(panel::PROFILE).await?;
        let options = app.find_all(panel::PROFILE_OPTIONS).await;
        // "Default (…)", then each other profile by name: every profile appears once.
        (options.len() == 2 && el.is_enabled().await.ok()?).then_some(el)
    })
    .await;
    picker.select_by_value(&id.to_string()).await.unwrap();
    wait_for("the conversation's profile to be saved", || async {
        let v = app
            .ask_backend("list_conversations", "l => l[0] && l[0].profileId")
            .await?;
        (v.as_i64() == Some(id)).then_some(())
    })
    .await;
    app.send("Hello second server").await;
    let (status, reply) = wait_for("the reply to end", || async {
        let status = app.attr_of(LAST_REPLY, "data-status").await?;
        if status == "streaming" || status.is_empty() {
            return None;
        }
        let text = app.find(LAST_REPLY).await?.prop("innerText").await.ok()??;
        Some((status, text))
    })
    .await;
    app.screenshot("profile-reply.png").await;
    assert_eq!(status, "done", "{reply}");
    let reply = app.last_reply("done").await;
    assert_eq!(reply, "Echo: Hello second server");
    let to_b: Vec<_> = b
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(to_b.len(), 1);
    assert_eq!(
        to_b[0].header("authorization").as_deref(),
        Some("Bearer sk-e2e-second-server")
    );
    assert_eq!(to_b[0].body["temperature"], 0.4);
    assert_eq!(to_b[0].body["seed"], 12);
    assert!(
        a.requests().iter().all(|r| r.method != "POST"),
        "nothing was sent to the default profile's server"
    );
    app.close().await;
}
