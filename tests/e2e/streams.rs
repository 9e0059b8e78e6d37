//! Several conversations at once: each streams on its own, is marked busy in the sidebar, and has
//! its own Stop; Send stays usable in a conversation that is not streaming.

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{composer, messages, messages::in_last_reply, sidebar, streams};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_conversations_stream_at_once_and_each_stops_on_its_own() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;

    // First conversation: a slow reply starts.
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-slow-300").await;
    app.send("First slow").await;
    wait_for("the first reply to stream", || async {
        let t = app.text_of(&in_last_reply(messages::BODY)).await?;
        t.contains(" w1").then_some(())
    })
    .await;

    // Second conversation while the first still streams: Send is not greyed out there.
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-slow-300").await;
    assert_eq!(
        app.js("return document.getElementById('send').disabled")
            .await,
        false
    );
    app.send("Second slow").await;
    wait_for("the second reply to stream", || async {
        let t = app.text_of(&in_last_reply(messages::BODY)).await?;
        (t.starts_with("Echo: Second slow") && t.contains(" w1")).then_some(())
    })
    .await;
    // Both are busy in the sidebar.
    wait_for("two busy conversations", || async {
        (app.find_all(streams::BUSY).await.len() == 2).then_some(())
    })
    .await;

    // Stop the second (on screen): the first keeps streaming.
    app.click(composer::STOP).await;
    let second = app.last_reply("cancelled").await;
    assert!(second.starts_with("Echo: Second slow"), "{second}");
    wait_for("one busy conversation", || async {
        (app.find_all(streams::BUSY).await.len() == 1).then_some(())
    })
    .await;

    // Back to the first: still streaming; its own Stop stops it.
    app.open_conversation("First slow").await;
    wait_for("the first reply, still streaming", || async {
        let t = app.text_of(&in_last_reply(messages::BODY)).await?;
        t.contains(" w3").then_some(())
    })
    .await;
    app.click(composer::STOP).await;
    let first = app.last_reply("cancelled").await;
    assert!(first.starts_with("Echo: First slow"), "{first}");
    assert!(!first.contains("w199"), "stop did not stop: {first}");
    wait_for("no busy conversation", || async {
        app.find_all(streams::BUSY).await.is_empty().then_some(())
    })
    .await;
    app.close().await;
}
