//! A 10,000-message conversation in the real window: it opens at its last message with only a
//! bounded window of messages in the DOM, scrolling up brings older ones in (and lets the far end
//! go), and a search hit deep inside it, in a branch that is not shown, opens that branch there.

use serde_json::{json, Value};

use crate::fake_openai::FakeOpenAi;
use crate::feedback::keep_every_look;
use crate::first_run::min_size;
use crate::fixture::{wait_for, App, Lab};
use crate::history;
use crate::page::{composer, messages, search};
use crate::steps::ENTER;

/// The most messages the window may hold in the DOM (paging.js MAX).
const MAX_IN_DOM: u64 = 150;
/// The path's length.
const LONG: usize = 10_000;

/// The seeded conversation: its first message id (the path's ids follow one another) and the
/// last message's text.
struct Seeded {
    first_id: i64,
    last_text: String,
}

/// One 10,000-message conversation, the newest, titled "Long conversation": a walrusxq in the
/// reply at index 2,001 of its path; at index 40 a second version of the question (older, so not
/// shown) with its reply, both about a quokka.
fn seed(data: &std::path::Path) -> Seeded {
    let (db, _) = parley_core::db::Db::open_dir(data).unwrap();
    db.with(|c| {
        history::seed(c, 2, 2, 5);
        history::seed(c, 1, LONG, 7);
        let last = c.last_insert_rowid();
        let (conv, last_text): (i64, String) = c.query_row(
            "SELECT conversation_id, content FROM messages WHERE id = ?1",
            [last],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        c.execute(
            "UPDATE conversations SET title = 'Long conversation', updated_at = 1900000000000 WHERE id = ?1",
            [conv],
        )?;
        let first_id = last - (LONG as i64 - 1);
        let (parent, at): (i64, i64) = c.query_row(
            "SELECT id, created_at FROM messages WHERE id = ?1",
            [first_id + 39],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        c.execute(
            "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at)
             VALUES (?1, ?2, 'user', 'tell me about the quokka parade', 'done', ?3)",
            rusqlite::params![conv, parent, at],
        )?;
        let question = c.last_insert_rowid();
        c.execute(
            "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at)
             VALUES (?1, ?2, 'assistant', 'The quokka parade is a fine sight.', 'done', 'gpt-4o-mini', ?3)",
            rusqlite::params![conv, question, at],
        )?;
        // A word found nowhere else, in the reply at index 2,001 of the path.
        c.execute(
            "UPDATE messages SET content = 'walrusxq ' || content WHERE id = ?1",
            [first_id + 2_001],
        )?;
        Ok(Seeded { first_id, last_text })
    })
    .unwrap()
}

/// Where the window sits: {start, total, inDom, firstId, lastId, lastVisible}.
async fn window(app: &App) -> Value {
    app.client()
        .execute_async(
            "const done = arguments[0];
             import('./app.bundle.js').then((m) => m.messages).then((view) => {
               const el = document.getElementById('messages');
               const all = el.querySelectorAll('.message[data-id]');
               const last = all[all.length - 1];
               const box = el.getBoundingClientRect();
               const r = last ? last.getBoundingClientRect() : null;
               done({ start: view.thread.start, total: view.thread.total, inDom: all.length,
                      firstId: all.length ? Number(all[0].dataset.id) : null,
                      lastId: last ? Number(last.dataset.id) : null,
                      lastVisible: !!r && r.top < box.bottom && r.bottom > box.top });
             });",
            vec![],
        )
        .await
        .unwrap()
}

async fn open_long(app: &App) {
    app.open_conversation("Long conversation").await;
    wait_for("the long conversation's end", || async {
        let w = window(app).await;
        (w["total"] == json!(LONG) && w["lastVisible"] == json!(true)).then_some(())
    })
    .await;
}

/// A window on the seeded data, the long conversation open at its end; the lab and the server
/// are returned to be kept alive as long as the window.
async fn open_seeded() -> (Lab, FakeOpenAi, App, Seeded) {
    let lab = Lab::new().await;
    let seeded = seed(lab.data());
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    open_long(&app).await;
    (lab, server, app, seeded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_message_conversation_opens_at_its_end_and_scrolls_up_with_a_bounded_dom() {
    let (_lab, _server, app, seeded) = open_seeded().await;
    let last_id = seeded.first_id + LONG as i64 - 1;
    let w = window(&app).await;
    assert_eq!(w["lastId"], json!(last_id), "{w}");
    assert!(w["inDom"].as_u64().unwrap() <= MAX_IN_DOM, "{w}");
    let bodies = app.texts_of(messages::BODIES).await;
    assert_eq!(
        bodies.last().map(|s| s.trim()),
        Some(seeded.last_text.trim())
    );

    // Scrolling up brings older pages in; the window never holds more than MAX_IN_DOM and its
    // first message is the one at its start in the path.
    let mut start = w["start"].as_u64().unwrap();
    while start > (LONG as u64) - 3 * MAX_IN_DOM {
        app.js("document.getElementById('messages').scrollTop = 0; return null;")
            .await;
        let w = wait_for("an older page", || async {
            let w = window(&app).await;
            (w["start"].as_u64().unwrap() < start).then_some(w)
        })
        .await;
        assert!(w["inDom"].as_u64().unwrap() <= MAX_IN_DOM, "{w}");
        start = w["start"].as_u64().unwrap();
        assert_eq!(w["firstId"], json!(seeded.first_id + start as i64), "{w}");
    }
    let w = window(&app).await;
    assert_ne!(w["lastId"], json!(last_id), "the far end was let go: {w}");

    // And down again to the end.
    wait_for("the end again", || async {
        app.js("const el = document.getElementById('messages'); el.scrollTop = el.scrollHeight; return null;")
            .await;
        let w = window(&app).await;
        (w["lastId"] == json!(last_id) && w["lastVisible"] == json!(true)).then_some(())
    })
    .await;
    assert!(window(&app).await["inDom"].as_u64().unwrap() <= MAX_IN_DOM);
    app.close().await;
}

/// Ctrl+K, `query`, Enter on the first (newest) hit; returns the marked message's text.
async fn jump_to(app: &App, query: &str, hits: usize) -> String {
    if app
        .js("return document.querySelector('#search-dialog').open")
        .await
        != json!(true)
    {
        app.press(composer::FIELD, "\u{e009}k").await;
    }
    app.type_into(search::INPUT, query).await;
    wait_for(&format!("the hits for {query}"), || async {
        (app.texts_of(search::HITS).await.len() == hits).then_some(())
    })
    .await;
    app.press(search::INPUT, ENTER).await;
    wait_for("the marked message", || async {
        let text = app.text_of(search::TARGET_BODY).await?;
        text.contains(query.split(' ').next().unwrap())
            .then_some(text)
    })
    .await
}

/// Is the marked message on screen?
async fn target_shown(app: &App) -> bool {
    app.js("const t = document.querySelector('#messages .message.search-target'); const b = document.getElementById('messages').getBoundingClientRect(); const r = t.getBoundingClientRect(); return r.bottom > b.top && r.top < b.bottom;")
        .await
        == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_jumps_to_old_messages_of_a_long_conversation_in_their_branch() {
    let (_lab, _server, app, seeded) = open_seeded().await;

    // The reply at index 2,001 of the shown path: the page around it, the path unchanged.
    let target = jump_to(&app, "walrusxq", 1).await;
    assert!(target.starts_with("walrusxq"), "{target}");
    let w = window(&app).await;
    let start = w["start"].as_u64().unwrap();
    let in_dom = w["inDom"].as_u64().unwrap();
    assert_eq!(w["total"], json!(LONG), "{w}");
    assert!(
        start <= 2_001 && 2_001 < start + in_dom && in_dom <= MAX_IN_DOM,
        "{w}"
    );
    assert!(target_shown(&app).await);

    // The quokka: a second version of question 41, not shown; its branch is shown (the path now
    // ends after its reply) with the marked reply on screen.
    let target = jump_to(&app, "quokka parade", 2).await;
    assert_eq!(target, "The quokka parade is a fine sight.");
    let w = window(&app).await;
    assert_eq!(w["total"], json!(42), "{w}");
    assert!(w["inDom"].as_u64().unwrap() <= MAX_IN_DOM, "{w}");
    assert_ne!(w["firstId"], json!(seeded.first_id + LONG as i64 - 1));
    let bodies = app.texts_of(messages::USER_BODY).await;
    assert!(
        bodies
            .iter()
            .any(|b| b == "tell me about the quokka parade"),
        "{bodies:?}"
    );
    let pos = app.texts_of(messages::USER_BRANCH_POS).await;
    assert!(pos.contains(&"2/2".to_string()), "{pos:?}");
    assert!(target_shown(&app).await);

    // ‹ on the quokka question: the other version takes its place on screen, where the arrows
    // were (the old scroll offset pointed into another page of the long path).
    let top_of = |sel: String| {
        let app = &app;
        async move {
            app.js(&format!(
                "const el = document.querySelector(\"{sel}\"); const b = document.getElementById('messages');
                 return el ? el.getBoundingClientRect().top - b.getBoundingClientRect().top : null"
            ))
            .await
            .as_f64()
        }
    };
    let quokka = app
        .js(
            "return Number([...document.querySelectorAll('#messages .message.user')]
               .find((e) => e.textContent.includes('quokka parade')).dataset.id)",
        )
        .await;
    let before = top_of(format!("#messages .message[data-id='{quokka}']"))
        .await
        .unwrap();
    app.js(&format!(
        "document.querySelector(\"#messages .message[data-id='{quokka}'] .branch-prev\").click(); return true"
    ))
    .await;
    let other = seeded.first_id + 40;
    let after = wait_for("the other version in its place", || async {
        top_of(format!("#messages .message[data-id='{other}']")).await
    })
    .await;
    // Within about a line (replies above it may take their rendered height as they come near);
    // before, it landed a screen or more away.
    assert!(
        (after - before).abs() < 48.0,
        "moved from {before} to {after}"
    );
    app.close().await;
}

/// The most messages paging.js brings into the DOM in one frame (its STEP).
const MOST_PER_FRAME: u64 = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_scroll_up_brings_a_few_messages_a_frame_and_leaving_the_conversation_gives_them_all_back(
) {
    let (_lab, _server, app, _) = open_seeded().await;

    // 1,500 px a frame upwards, as a fast wheel would, until 600 messages came in: every frame
    // the DOM holds at most MAX_IN_DOM messages, and each frame brought in at most a step.
    let run = app
        .client()
        .execute_async(
            "const done = arguments[0];
             Promise.all([import('./app.bundle.js').then((m) => m.messages), import('./app.bundle.js').then((m) => m.paging)]).then(([view, paging]) => {
               paging.resetPagingStats();
               const el = document.getElementById('messages');
               let inDomMost = 0; const t0 = performance.now();
               const step = () => {
                 inDomMost = Math.max(inDomMost, el.querySelectorAll('.message').length);
                 const s = paging.pagingStats();
                 if (s.messages >= 600 || performance.now() - t0 > 25000) { done({ inDomMost, ...s }); return; }
                 el.scrollTop = Math.max(0, el.scrollTop - 1500);
                 requestAnimationFrame(step);
               };
               requestAnimationFrame(step);
             });",
            vec![],
        )
        .await
        .unwrap();
    assert!(run["messages"].as_u64().unwrap() >= 600, "{run}");
    assert!(run["inDomMost"].as_u64().unwrap() <= MAX_IN_DOM, "{run}");
    assert!(
        (1..=MOST_PER_FRAME).contains(&run["most"].as_u64().unwrap()),
        "{run}"
    );

    // Another conversation: nothing of the long one stays in the page (entries, replies parked
    // or waiting for Markdown, the queue of pages).
    app.js(
        "[...document.querySelectorAll('#conversation-list li.conversation')]
           .find((li) => !li.innerText.includes('Long conversation')).click(); return null;",
    )
    .await;
    let held = wait_for("the short conversation", || async {
        let held = app
            .client()
            .execute_async(
                "const done = arguments[0];
                 Promise.all([import('./app.bundle.js').then((m) => m.messages), import('./app.bundle.js').then((m) => m.lazymd), import('./app.bundle.js').then((m) => m.render), import('./app.bundle.js').then((m) => m.paging)])
                   .then(([view, lazy, render, paging]) => {
                     const el = document.getElementById('messages');
                     done({ busy: el.hasAttribute('aria-busy'), entries: view.count(), total: view.thread.total,
                            inDom: el.querySelectorAll('.message').length, waiting: lazy.waitingCount(),
                            parked: render.parkedCount(), queued: paging.queuedCount() });
                   });",
                vec![],
            )
            .await
            .unwrap();
        (held["busy"] == json!(false) && held["total"] == json!(2)).then_some(held)
    })
    .await;
    assert_eq!(held["entries"], held["inDom"], "{held}");
    assert_eq!(held["entries"], json!(2), "{held}");
    assert_eq!(held["waiting"], json!(0), "{held}");
    assert_eq!(held["parked"], json!(0), "{held}");
    assert_eq!(held["queued"], json!(0), "{held}");

    // Then, once the window has been left alone a moment, the page asks the web process for a full
    // collection (ui/js/memory.js → release_memory → src-tauri/webext) and its memory goes down.
    let released = wait_for("the page to ask for its memory back", || async {
        let stats = app.memory_stats().await;
        stats["last"].is_object().then_some(stats)
    })
    .await;
    assert_eq!(released["requests"], json!(1), "{released}");
    let (before, after) = (
        released["last"]["beforeKib"].as_u64().unwrap(),
        released["last"]["afterKib"].as_u64().unwrap(),
    );
    assert!(
        after + 5 * 1024 < before,
        "a full collection after 600 messages came and went gives back more than 5 MiB: {released}"
    );
    app.close().await;
}

/// WebDriver's keys: Control, Home, End.
const CTRL: &str = "\u{e009}";
const HOME: &str = "\u{e011}";
const END: &str = "\u{e010}";

/// Waits for the window to hold the path's first message at its top; where the window then is.
async fn at_the_start(app: &App, first_id: i64) -> Value {
    wait_for("the first message", || async {
        let w = window(app).await;
        (w["start"] == json!(0) && w["firstId"] == json!(first_id)).then_some(w)
    })
    .await
}

/// Waits for the path's last message on screen; where the window then is.
async fn at_the_end(app: &App, last_id: i64) -> Value {
    wait_for("the last message on screen", || async {
        let w = window(app).await;
        (w["lastId"] == json!(last_id) && w["lastVisible"] == json!(true)).then_some(w)
    })
    .await
}

/// Is the "latest" button shown?
async fn latest_shown(app: &App) -> bool {
    app.js(&format!(
        "return !document.querySelector('{}').hidden",
        messages::JUMP_LATEST
    ))
    .await
        == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_home_and_ctrl_end_reach_both_ends_of_a_long_conversation_at_once() {
    let (_lab, _server, app, seeded) = open_seeded().await;
    let last_id = seeded.first_id + LONG as i64 - 1;
    assert!(!latest_shown(&app).await, "at the end, no button");

    // Typed text keeps its own Ctrl+Home (the caret moves; the view stays at the end).
    app.type_into(composer::FIELD, "draft").await;
    app.press(composer::FIELD, &format!("{CTRL}{HOME}")).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_ne!(window(&app).await["start"], json!(0));
    // Emptied as a user would: Ctrl+A (Control pressed, A, Control released), Backspace.
    app.press(composer::FIELD, &format!("{CTRL}a{CTRL}\u{e003}"))
        .await;
    assert_eq!(
        app.js("return document.getElementById('composer').value")
            .await,
        json!("")
    );

    // Ctrl+Home in the empty message box: the path's first page, from its first message, without
    // the 9,970 messages between coming through the DOM.
    app.press(composer::FIELD, &format!("{CTRL}{HOME}")).await;
    let w = at_the_start(&app, seeded.first_id).await;
    assert_eq!(w["total"], json!(LONG), "{w}");
    assert!(w["inDom"].as_u64().unwrap() <= MAX_IN_DOM, "{w}");
    assert_eq!(
        app.js("return document.getElementById('messages').scrollTop")
            .await,
        json!(0)
    );
    // Away from the end: the button shows; scrolling down from the start pages forward.
    wait_for("the latest button", || async {
        latest_shown(&app).await.then_some(())
    })
    .await;
    min_size(&app).await;
    keep_every_look(&app, "jump-latest").await;
    wait_for("a page after the first", || async {
        app.js("const el = document.getElementById('messages'); el.scrollTop = el.scrollHeight; return null;")
            .await;
        let w = window(&app).await;
        (w["lastId"].as_i64().unwrap() > seeded.first_id + 40).then_some(())
    })
    .await;

    // The button: the path's last message, on screen; the button goes; the message box has focus.
    app.click(messages::JUMP_LATEST).await;
    at_the_end(&app, last_id).await;
    wait_for("the button gone", || async {
        (!latest_shown(&app).await).then_some(())
    })
    .await;
    assert_eq!(
        app.js("return document.activeElement && document.activeElement.id")
            .await,
        json!("composer")
    );

    // And by keys: Ctrl+Home, then Ctrl+End back to the end.
    app.press(composer::FIELD, &format!("{CTRL}{HOME}")).await;
    at_the_start(&app, seeded.first_id).await;
    app.press(composer::FIELD, &format!("{CTRL}{END}")).await;
    let w = at_the_end(&app, last_id).await;
    assert!(w["inDom"].as_u64().unwrap() <= MAX_IN_DOM, "{w}");

    // An edit far above the end: the new branch starts there, under the messages before the
    // edited one (it was drawn after the old path's last page, the user's place lost).
    app.set_conversation_model("test-model").await;
    app.press(composer::FIELD, &format!("{CTRL}{HOME}")).await;
    at_the_start(&app, seeded.first_id).await;
    let edited = seeded.first_id + 2;
    app.js(&format!(
        "document.querySelector(\"#messages .message.user[data-id='{edited}'] button.edit\").click(); return true"
    ))
    .await;
    app.type_into(messages::EDIT_INPUT, "edited far above the end")
        .await;
    app.click(messages::EDIT_SEND).await;
    let before = wait_for("the edited question on screen", || async {
        app.js(
            "const all = [...document.querySelectorAll('#messages .message[data-id]')];
             const i = all.findIndex((e) => e.classList.contains('user')
               && e.textContent.includes('edited far above the end'));
             return i > 0 ? Number(all[i - 1].dataset.id) : null",
        )
        .await
        .as_i64()
    })
    .await;
    assert_eq!(
        before,
        seeded.first_id + 1,
        "the edit sits after the reply before it"
    );
    app.last_reply("done").await;
    // What the new branch hides is counted over the whole path (the window's part was counted).
    wait_for("the note of what the branch hides", || async {
        let note = app.text_of("#composer-notes .note-text").await?;
        note.contains(&format!("{} later messages", LONG - 4))
            .then_some(())
    })
    .await;
    app.close().await;
}
