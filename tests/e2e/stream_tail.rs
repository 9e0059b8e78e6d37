//! What a streaming reply may touch and what it leaves behind: per token only its own tail
//! changes (earlier messages and its finished blocks are left alone), and once it ends nothing of
//! it stays registered (the stream registry is empty, the IPC channel's callback is released).

use serde_json::{json, Value};

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::sidebar;

/// Records, from now on, every change under #messages that lands in a message body that was
/// already on the page, and every finished block (`.md-chunk`) taken out again.
const WATCH: &str = "const earlier = new Set(document.querySelectorAll('#messages .message-body'));
    window.__touch = { earlier: 0, chunksRemoved: 0, records: 0 };
    const inEarlier = (n) => { for (let e = n; e; e = e.parentNode) if (earlier.has(e)) return true; return false; };
    window.__watch = new MutationObserver((list) => {
      for (const r of list) {
        window.__touch.records += 1;
        if (inEarlier(r.target)) window.__touch.earlier += 1;
        for (const n of r.removedNodes) if (n.classList && n.classList.contains('md-chunk')) window.__touch.chunksRemoved += 1;
      }
    });
    window.__watch.observe(document.getElementById('messages'), { subtree: true, childList: true, characterData: true, attributes: true });
    return null;";

const REPORT: &str = "window.__watch.takeRecords(); window.__watch.disconnect();
    const last = [...document.querySelectorAll('#messages .message.assistant')].pop();
    return { ...window.__touch, chunks: last.querySelectorAll('.md-chunk').length };";

/// The app's own stream registry (the same module instance the page runs) and Tauri's callbacks.
const LIVE: &str = "const done = arguments[arguments.length - 1];
    import('./app.bundle.js').then((m) => m.streams).then((m) => done({
      streams: m.liveCount(), callbacks: window.__TAURI_INTERNALS__.callbacks.size,
    }), (e) => done({ error: String(e) }));";

async fn live(app: &crate::fixture::App) -> Value {
    app.client().execute_async(LIVE, vec![]).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_reply_changes_only_its_own_tail_and_leaves_nothing_registered() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-markdown-3").await;
    for q in ["one", "two"] {
        app.send(q).await;
        app.last_reply("done").await;
        app.wait_idle().await;
    }
    let before = live(&app).await;
    assert_eq!(before["streams"], json!(0), "{before}");

    // A long Markdown reply, streamed at 1 ms a token.
    app.set_conversation_model("test-markdown-paced-2000").await;
    app.js(WATCH).await;
    app.send("three").await;
    app.last_reply("done").await;
    app.wait_idle().await;
    let touched = app.js(REPORT).await;
    assert_eq!(
        touched["earlier"],
        json!(0),
        "earlier messages changed: {touched}"
    );
    assert_eq!(
        touched["chunksRemoved"],
        json!(0),
        "finished blocks were rendered again: {touched}"
    );
    assert!(
        touched["chunks"].as_u64().unwrap_or(0) > 1,
        "the reply was not built block by block: {touched}"
    );

    // Nothing of the reply stays registered: the registry is empty and the channel's callback
    // is released (Tauri ends a channel when the back end drops it, just after the reply).
    let baseline = before["callbacks"].as_u64().unwrap();
    wait_for("the reply's callbacks to be released", || async {
        let now = live(&app).await;
        (now["streams"] == json!(0) && now["callbacks"].as_u64()? <= baseline).then_some(())
    })
    .await;
    app.close().await;
}
