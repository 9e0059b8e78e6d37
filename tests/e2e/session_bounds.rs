//! What the page holds for a long window session stays bounded however many replies come: the
//! messages in the DOM and in its state (the window), the parked rendered replies, the renderer's
//! timing logs, the probe's steps, the stream registry and Tauri's callback table. Counts, no timings.

use serde_json::{json, Value};

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, App, Lab};
use crate::history;

/// paging.js MAX: the most messages the window holds.
const WINDOW: u64 = 150;
/// The seeded conversation's length (longer than the window).
const SEEDED: usize = 400;

// The running page's own modules (those of the bundle it loaded: `./js/*.js` would be fresh,
// empty copies).
const RETAINED: &str = "const done = arguments[0];
    import('./app.bundle.js')
      .then(({ messages: view, render, streams, frameprobe: probe, state: st, paging }) => done({
        atEnd: paging.atEnd(), stuck: streams.stuckToBottom(), start: view.thread.start, total: view.thread.total,
        entries: view.count(), messages: st.state.messages.length,
        dom: document.querySelectorAll('#messages .message[data-id]').length,
        ...render.retained(), streams: streams.liveCount(),
        callbacks: window.__TAURI_INTERNALS__.callbacks.size,
        steps: Object.keys(probe.stats().steps).length,
      }), (e) => done({ error: String(e) }));";

const FILL_UP: &str = "const done = arguments[0];
    const el = document.getElementById('messages'); el.scrollTop = 0;
    done(el.querySelectorAll('.message[data-id]').length >= 150);";
const BACK_DOWN: &str = "const done = arguments[0];
    import('./app.bundle.js').then((m) => m.paging).then((p) => { const el = document.getElementById('messages');
      el.scrollTop = el.scrollHeight;
      done(p.atEnd() && el.querySelectorAll('.message[data-id]').length >= 150
        && el.scrollHeight - el.scrollTop - el.clientHeight < 48); });";

async fn retained(app: &App) -> Value {
    app.client().execute_async(RETAINED, vec![]).await.unwrap()
}

fn n(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("no count {k} in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_in_a_long_session_leave_only_bounded_state_in_the_page() {
    let lab = Lab::new().await;
    {
        let (db, _) = parley_core::db::Db::open_dir(lab.data()).unwrap();
        db.with(|c| {
            history::seed(c, 1, SEEDED, 3);
            c.execute("UPDATE conversations SET title = 'Session bounds'", [])?;
            Ok(())
        })
        .unwrap();
    }
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.open_conversation("Session bounds").await;
    app.set_conversation_model("test-tokens-30").await;
    // Scrolling up fills the window (150 messages); scrolling back down keeps it full at the end.
    for (what, script) in [
        ("the window to fill", FILL_UP),
        ("the window to come back to the end", BACK_DOWN),
    ] {
        wait_for(what, || async {
            let v = app.client().execute_async(script, vec![]).await.ok()?;
            (v == json!(true)).then_some(())
        })
        .await;
    }
    let before = retained(&app).await;

    for q in 0..4 {
        app.send(&format!("question {q}")).await;
        app.last_reply("done").await;
        app.wait_idle().await;
        // The oldest messages leave once the reply's last text is painted.
        let mut now = retained(&app).await;
        for _ in 0..100 {
            if n(&now, "dom") <= WINDOW {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            now = retained(&app).await;
        }
        for k in ["entries", "messages", "dom"] {
            assert!(n(&now, k) <= WINDOW, "{k} grew past the window: {now}");
        }
        assert!(
            n(&now, "parked") <= n(&before, "parked") + q + 1,
            "more than one reply parked per reply: {before} -> {now}"
        );
        assert!(
            n(&now, "frameLog") <= 20_000 && n(&now, "finalLog") <= 20_000,
            "{now}"
        );
        assert!(n(&now, "steps") <= 40, "the probe's names grew: {now}");
    }
    wait_for(
        "the replies' registry entries and callbacks to go",
        || async {
            let v = retained(&app).await;
            (n(&v, "streams") == 0 && n(&v, "callbacks") <= n(&before, "callbacks")).then_some(())
        },
    )
    .await;

    // Left while its reply streams, a conversation leaves nothing in the renderer: twice away
    // and back, then no reply is being filled in.
    app.set_conversation_model("test-tokens-60-paced-20").await;
    for q in 0..2 {
        app.send(&format!("left mid-stream {q}")).await;
        wait_for("the first tokens", || async {
            let t = app
                .text_of(&crate::page::messages::in_last_reply(
                    crate::page::messages::BODY,
                ))
                .await?;
            t.contains(" tok3").then_some(())
        })
        .await;
        app.click(crate::page::sidebar::NEW_CHAT).await;
        // Left: the long conversation is no longer the open one.
        app.wait_js(
            "the new chat to open",
            "return ![...document.querySelectorAll('[aria-current=true]')]
               .some((l) => l.innerText.includes('Session bounds'))",
        )
        .await;
        let away = retained(&app).await;
        assert_eq!(n(&away, "filling"), 0, "the left reply is let go: {away}");
        app.open_conversation("Session bounds").await;
        app.last_reply("done").await;
    }
    wait_for("no reply still held by the renderer", || async {
        let v = retained(&app).await;
        (n(&v, "filling") == 0).then_some(())
    })
    .await;

    // The parked replies stop at their limit, however many leave the screen.
    let parked = app
        .client()
        .execute_async(
            "const done = arguments[0];
             import('./app.bundle.js').then((m) => m.render).then((r) => {
               for (let i = 0; i < r.retained().parkedMax + 50; i++) {
                 const el = document.createElement('div');
                 el.append('reply ' + i);
                 r.parkReply(el, 1e9 + i, 'reply ' + i);
               }
               done(r.retained());
             });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(parked["parked"], parked["parkedMax"], "{parked}");
    app.close().await;
}
