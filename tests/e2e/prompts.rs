//! The prompt library: save a prompt with variables (and a second version), insert it with "/"
//! from the composer, fill its form, send, and see the use counted against the right version.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{composer, prompts, sidebar};
use crate::steps::ENTER;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_a_prompt_with_a_variable_insert_it_with_slash_fill_the_form_and_send() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;

    // A new prompt typed, the library closed and opened again: still there, unsaved (it was
    // wiped on the reopen).
    app.click(prompts::OPEN).await;
    app.type_into(prompts::NAME, "haiku").await;
    app.click(prompts::CLOSE).await;
    app.click(prompts::OPEN).await;
    assert_eq!(
        app.js("return document.getElementById('prompt-name').value")
            .await,
        json!("haiku"),
        "the unsaved name is kept"
    );
    app.js("document.getElementById('prompt-name').value = ''; return true")
        .await;

    // Save a prompt with two variables in the library, then change it: version 2.
    app.type_into(prompts::NAME, "haiku").await;
    app.type_into(prompts::TITLE, "A haiku").await;
    app.type_into(
        prompts::BODY,
        "Write a haiku about {{topic}} in a {{mood:choice(calm, wild)=calm}} mood",
    )
    .await;
    app.click(prompts::SAVE).await;
    wait_for("version 1", || async {
        let t = app.texts_of(prompts::STATUS).await.pop()?;
        t.starts_with("Saved as version 1").then_some(())
    })
    .await;
    app.type_into(
        prompts::BODY,
        "Write one haiku about {{topic}} in a {{mood:choice(calm, wild)=calm}} mood",
    )
    .await;
    app.type_into(prompts::MESSAGE, "one haiku only").await;
    app.click(prompts::SAVE).await;
    wait_for("version 2 with its history", || async {
        let rows = app.texts_of(prompts::HISTORY_ROWS).await;
        (rows.len() == 2 && rows[0].contains("one haiku only")).then_some(())
    })
    .await;
    app.click(prompts::CLOSE).await;

    // "/" in the composer: filter, choose with the keyboard, fill the form, send.
    app.type_into(composer::FIELD, "/hai").await;
    wait_for("the slash menu", || async {
        let names = app.texts_of(composer::SLASH_NAMES).await;
        (names == ["/haiku"]).then_some(())
    })
    .await;
    app.press(composer::FIELD, ENTER).await;
    app.wait_js(
        "the variables form",
        &format!(
            "return document.querySelector(\"{}\").open",
            prompts::VARS_DIALOG
        ),
    )
    .await;
    app.type_into(&prompts::var_input("topic"), "autumn rain")
        .await;
    app.js_with(
        "const s = document.querySelector(arguments[0]); s.value = 'wild'; return true;",
        vec![json!(prompts::var_input("mood"))],
    )
    .await;
    app.click(prompts::VARS_INSERT).await;
    wait_for("the filled prompt in the composer", || async {
        let v = app.value_of(composer::FIELD).await?;
        (v == "Write one haiku about autumn rain in a wild mood").then_some(())
    })
    .await;
    app.click(composer::SEND).await;
    let reply = app.last_reply("done").await;
    assert_eq!(
        reply,
        "Echo: Write one haiku about autumn rain in a wild mood"
    );
    // The message records the version it came from: the use counts, and the version shows it.
    let uses = wait_for("the use to be counted", || async {
        let v = app
            .js("return window.__TAURI__.core.invoke('prompt_scores', {name: 'haiku'});")
            .await;
        let sent = v[0]["uses"].as_i64()?;
        (sent == 1).then_some(v)
    })
    .await;
    assert_eq!(uses[0]["version"], 2);
    assert_eq!(uses[1]["uses"], 0);
    // A "/" word no prompt matches is sent with Enter as typed (the menu used to swallow it).
    app.type_into(composer::FIELD, "/etc").await;
    app.press(composer::FIELD, ENTER).await;
    assert_eq!(app.last_reply("done").await, "Echo: /etc");
    app.close().await;
}
