//! Reasoning (issue 12): a reasoning model's thinking streams into a collapsible block above the
//! answer, apart from it, collapsed once the answer is there, and opens on a click.

use crate::fake_openai::{FakeOpenAi, THINKING};
use crate::fixture::{wait_for, Lab};
use crate::page::{sidebar, thinking};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_thinking_block_is_apart_from_the_answer_and_collapses() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-think-deltas").await;
    app.send("why").await;
    let answer = app.last_reply("done").await;
    assert_eq!(answer, "Echo: why");
    // The reasoning is in its own block, not in the answer, and collapsed now the answer is here.
    let shown = app.text_of(thinking::BODY).await;
    assert_eq!(app.attr_of(thinking::BLOCK, "open").await, None);
    let summary = app.text_of(thinking::SUMMARY).await.unwrap_or_default();
    assert!(summary.contains("Thought"), "{summary}");
    app.click(thinking::SUMMARY).await;
    wait_for("the thinking block to open", || async {
        app.attr_of(thinking::BLOCK, "open").await
    })
    .await;
    let body = app.text_of(thinking::BODY).await.unwrap_or_default();
    assert!(
        body.contains(THINKING),
        "{body:?} (before opening: {shown:?})"
    );
    app.screenshot("thinking-open").await;
}
