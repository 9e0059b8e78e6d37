//! Structured outputs and token branches in the window (issue 12): the schema editor explains a
//! schema the API would reject; a reply that does not match the schema is marked invalid with its
//! errors; on the legacy completions endpoint an alternative token picked in the heat map continues
//! the text as a new branch. Screenshots of the editor and the invalid reply, light and dark, 640x420.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{panel, sidebar};

const EDITOR: &str = "#schema-editor";
const FORMAT: &str = "#response-format";
const SCHEMA: &str = "#schema-json";
const CHECK: &str = "#schema-check";
const PROBLEMS: &str = "#schema-error";
const INVALID: &str = "#messages .message.assistant:last-of-type .structured-invalid";

/// Light or dark, through the stored choice the window reads (the theme module applies it).
async fn theme(app: &App, theme: &str) {
    app.js_with(
        "document.documentElement.dataset.theme = arguments[0]; return true",
        vec![json!(theme)],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

async fn both_themes(app: &App, name: &str) {
    for t in ["light", "dark"] {
        theme(app, t).await;
        keep_screenshot(app, &format!("{name}-{t}-640x420.png")).await;
    }
    app.js("delete document.documentElement.dataset.theme; return true")
        .await;
}

/// Puts `schema` in the editor and presses "Check and save".
async fn check_schema(app: &App, schema: &str) {
    app.js_with(
        "const el = document.querySelector(arguments[0]); el.value = arguments[1];
         el.dispatchEvent(new Event('input', {bubbles: true})); return true",
        vec![json!(SCHEMA), json!(schema)],
    )
    .await;
    app.click(CHECK).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_does_not_match_the_schema_is_marked_invalid_with_its_errors() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-json-invalid").await;
    app.open_conversation_panel().await;
    app.js_with(
        "document.querySelector(arguments[0]).open = true; return true",
        vec![json!(EDITOR)],
    )
    .await;
    app.set_panel_field(FORMAT, "json_schema").await;
    // A schema strict mode refuses: explained, not saved.
    check_schema(
        &app,
        r#"{"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}"#,
    )
    .await;
    let problems = wait_for("the schema's problems", || async {
        app.text_of(PROBLEMS).await.filter(|t| !t.is_empty())
    })
    .await;
    assert!(problems.contains("additionalProperties"), "{problems}");
    assert!(problems.contains("missing city, days"), "{problems}");
    let saved = app
        .ask_backend("list_conversations", "l => l[0].responseFormat ?? null")
        .await;
    assert_eq!(saved, Some(json!(null)));
    min_size(&app).await;
    app.js_with(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'end'}); return true",
        vec![json!(PROBLEMS)],
    )
    .await;
    both_themes(&app, "schema-editor").await;
    // The same schema kept to the rules: saved.
    check_schema(
        &app,
        r#"{"type": "object", "additionalProperties": false, "required": ["city", "days"],
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}"#,
    )
    .await;
    wait_for("the schema to be saved", || async {
        let f = app
            .ask_backend("list_conversations", "l => l[0].responseFormat ?? null")
            .await?;
        (f["type"] == "json_schema").then_some(())
    })
    .await;
    app.click(panel::TOGGLE).await;
    app.send("Plan a trip").await;
    app.last_reply("done").await;
    let errors = wait_for("the reply marked invalid", || async {
        app.text_of(INVALID).await
    })
    .await;
    assert!(
        errors.contains("\"city\" is a required property"),
        "{errors}"
    );
    both_themes(&app, "schema-invalid-reply").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alternative_token_on_completions_continues_the_text_as_a_new_branch() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-logprobs").await;
    app.set_panel_field(panel::ENDPOINT, "completions").await;
    app.set_panel_field("#conv-logprobs", "3").await;
    wait_for("the settings to be saved", || async {
        let v = app
            .ask_backend("list_conversations", "l => [l[0].endpoint, l[0].logprobs]")
            .await?;
        (v == json!(["completions", 3])).then_some(())
    })
    .await;
    app.click(panel::TOGGLE).await;
    app.send("one two three").await;
    let first = app.last_reply("done").await;
    app.click("#messages .message.assistant:last-of-type .lp-toggle")
        .await;
    // The second token, then its first alternative.
    app.click_nth(".lp-token.lp-branchable", 1).await;
    let alt = wait_for("the alternatives", || async {
        app.attr_of(".lp-alts .lp-alt", "data-token").await
    })
    .await;
    let prefix = app
        .js("return [...document.querySelectorAll('.lp-token')].slice(0, 1).map((s) => s.textContent).join('')")
        .await;
    let start = format!("{}{alt}", prefix.as_str().unwrap());
    app.click(".lp-alts .lp-alt").await;
    let branch = wait_for("the new branch", || async {
        let pos = app
            .text_of("#messages .message.assistant:last-of-type .branch-pos")
            .await?;
        let text = app.last_reply("done").await;
        (pos.contains('2') && text != first).then_some(text)
    })
    .await;
    assert!(
        branch.starts_with(&start),
        "{branch:?} should start with {start:?}"
    );
    // The prompt the server got: the question, the text before the token and the alternative.
    let last = server.requests().pop().unwrap();
    assert_eq!(last.path, "/v1/completions");
    assert_eq!(last.body["prompt"], format!("one two three{start}"));
    app.close().await;
}
