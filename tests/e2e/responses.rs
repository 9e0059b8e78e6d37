//! The Responses API as a third endpoint (issue 12): picked per conversation in its panel, the
//! parameters it does not take disabled there with the reason, a reply streamed from
//! /v1/responses; the panel at the minimum size in light and dark, English and Chinese.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{panel, sidebar};

/// Per input: [disabled, the title (the reason when disabled)], and the note under the panel.
const STATE: &str = r#"
    const of = (id) => { const el = document.getElementById(id); return [el.disabled, el.title]; };
    const note = document.getElementById('conv-params-note');
    return { seed: of('conv-seed'), penalty: of('conv-frequency-penalty'), n: of('conv-n'),
             stop: of('conv-stop'), temperature: of('conv-temperature'), maxTokens: of('conv-max-tokens'),
             note: note.hidden ? null : note.textContent };
"#;

/// The theme as the settings dialog sets it (its module), without the dialog on the screenshot.
async fn set_theme(app: &App, theme: &str) {
    app.js_with(
        "import('./app.bundle.js').then((m) => m.theme).then(m => m.setTheme(arguments[0])); return null;",
        vec![json!(theme)],
    )
    .await;
    app.wait_js(
        "the theme",
        &format!("return document.documentElement.dataset.theme === '{theme}'"),
    )
    .await;
    // A moment for the window to repaint before a screenshot.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
}

async fn set_language(app: &App, lang: &str) {
    app.js_with(
        "import('./app.bundle.js').then((m) => m.i18n).then(m => m.setLang(arguments[0])); return null;",
        vec![json!(lang)],
    )
    .await;
    app.wait_js(
        "the language",
        &format!("return document.documentElement.lang === '{lang}'"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_responses_endpoint_streams_a_reply_and_disables_the_parameters_it_refuses() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    set_language(&app, "en").await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    // On chat, every parameter can be set.
    let before = app.js(STATE).await;
    assert_eq!(before["seed"][0], false, "{before}");
    assert_eq!(before["note"], json!(null), "{before}");

    app.set_panel_field(panel::ENDPOINT, "responses").await;
    wait_for("the endpoint to be saved", || async {
        let v = app
            .ask_backend("list_conversations", "l => l[0] && l[0].endpoint")
            .await?;
        (v == "responses").then_some(())
    })
    .await;
    let after = app.js(STATE).await;
    for key in ["seed", "penalty", "n", "stop"] {
        assert_eq!(after[key][0], true, "{key} should be disabled: {after}");
        let why = after[key][1].as_str().unwrap_or_default();
        assert!(why.contains("Responses API"), "{key}: {why:?}");
    }
    for key in ["temperature", "maxTokens"] {
        assert_eq!(after[key][0], false, "{key} should stay enabled: {after}");
    }
    let note = after["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("Seed") && note.contains("Stop sequences"),
        "{note:?}"
    );

    app.click(panel::TOGGLE).await;
    app.send("hello there").await;
    assert_eq!(app.last_reply("done").await, "Echo: hello there");
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/v1/responses");
    assert_eq!(last.body["input"][0]["content"], "hello there");

    // The panel with the endpoint chosen, at the minimum size, in both themes and languages.
    min_size(&app).await;
    app.open_conversation_panel().await;
    app.js("document.getElementById('endpoint').scrollIntoView({block: 'center'}); return true")
        .await;
    for lang in ["en", "zh-CN"] {
        set_language(&app, lang).await;
        for theme in ["light", "dark"] {
            set_theme(&app, theme).await;
            app.js(
                "document.getElementById('endpoint').scrollIntoView({block: 'center'}); return true",
            )
            .await;
            keep_screenshot(
                &app,
                &format!("responses-params-{lang}-{theme}-640x420.png"),
            )
            .await;
        }
    }
    let zh = app.js(STATE).await;
    assert!(
        zh["seed"][1]
            .as_str()
            .unwrap_or_default()
            .contains("不发送"),
        "{zh}"
    );
    // The theme and language live in the webview's storage, shared by every test of a run.
    app.js("localStorage.removeItem('parley.theme'); localStorage.removeItem('parley.lang'); return true")
        .await;
    app.close().await;
}
