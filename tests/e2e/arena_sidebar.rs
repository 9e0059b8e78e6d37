//! Arena rounds in the sidebar: marked with a badge, hidden on request (remembered), and the
//! arena's pool remembered between openings and restarts. Screenshots at the minimum size.

use crate::fake_openai::FakeOpenAi;
use crate::feedback::keep_every_look;
use crate::first_run::min_size;
use crate::fixture::{wait_for, App, Lab};
use crate::page::{arena, feedback, sidebar};

async fn arena_round(app: &App, prompt: &str) {
    app.type_into(arena::PROMPT, prompt).await;
    app.click(arena::START).await;
    app.wait_js(
        "the vote buttons",
        &format!(
            "return !document.querySelector(\"{}\").disabled",
            arena::VOTE
        ),
    )
    .await;
    app.click(&arena::vote("tie")).await;
    wait_for("the reveal", || async {
        let t = app.texts_of(arena::REVEAL).await.pop()?;
        t.starts_with("A was").then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arena_rounds_are_badged_in_the_sidebar_hidden_on_request_and_the_pool_is_remembered() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("an ordinary chat").await;
    app.last_reply("done").await;

    app.click(arena::OPEN).await;
    app.type_into(arena::POOL, "gpt-north, gpt-south").await;
    arena_round(&app, "Which way?").await;
    app.click(feedback::CLOSE_ARENA).await;
    // The round is in the sidebar at once, marked.
    wait_for("the arena round in the sidebar", || async {
        let badges = app.texts_of(feedback::ARENA_BADGES).await;
        let rows = app.conversation_titles().await;
        (badges == ["Arena"] && rows.len() == 2).then_some(())
    })
    .await;
    min_size(&app).await;
    keep_every_look(&app, "sidebar-arena").await;

    // Hidden: only the ordinary chat is listed; kept after a restart.
    app.click(feedback::HIDE_ARENA).await;
    wait_for("the arena round hidden", || async {
        let rows = app.conversation_titles().await;
        (rows.len() == 1 && app.find(feedback::ARENA_BADGES).await.is_none()).then_some(())
    })
    .await;
    app.close().await;

    let app = lab.open(&server).await;
    wait_for("the list after a restart", || async {
        let rows = app.conversation_titles().await;
        (rows.len() == 1).then_some(())
    })
    .await;
    assert_eq!(
        app.js("return document.getElementById('hide-arena').checked")
            .await,
        true
    );
    // The pool is as the last round left it.
    app.click(arena::OPEN).await;
    assert_eq!(
        app.value_of(arena::POOL).await.as_deref(),
        Some("gpt-north, gpt-south")
    );
    app.click(feedback::CLOSE_ARENA).await;
    // Shown again.
    app.click(feedback::HIDE_ARENA).await;
    wait_for("the arena round back", || async {
        let rows = app.conversation_titles().await;
        (rows.len() == 2 && app.texts_of(feedback::ARENA_BADGES).await == ["Arena"]).then_some(())
    })
    .await;
    app.close().await;
}
