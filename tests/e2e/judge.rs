//! The judge in the window, as a user tries it: judge a reply from its own control with a chosen
//! rubric (the judge wraps its verdict in prose), see the verdict listed, stop a judge that hangs,
//! reopen the conversation and still see the verdict; judge a pair of replies side by side; find
//! both in the ratings view. Screenshots at the minimum size, light and dark, English and Chinese.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::feedback::{set_look, LOOKS};
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{arena, columns, judge, messages, panel, sidebar};

use messages::in_last_reply;

/// Saves a rubric through the page's IPC bridge; its id.
async fn save_rubric(app: &App, name: &str) -> i64 {
    let v = app
        .client()
        .execute_async(
            "const [name, done] = arguments;
             window.__TAURI__.core.invoke('save_rubric', {name, kind: 'single',
               body: 'Grade for brevity: a short correct answer is best.'})
               .then((r) => done(r.id), (e) => done(String(e.message || e)));",
            vec![json!(name)],
        )
        .await
        .unwrap();
    v.as_i64().unwrap_or_else(|| panic!("save_rubric: {v}"))
}

/// Waits for the last reply's verdicts to be `n` and returns their texts.
async fn reply_verdicts(app: &App, n: usize) -> Vec<String> {
    wait_for(&format!("{n} verdict(s) on the reply"), || async {
        let all = app.texts_of(&in_last_reply(judge::VERDICTS)).await;
        (all.len() == n).then_some(all)
    })
    .await
}

/// Scrolls `css` into view at the bottom of the messages (for a screenshot), and checks that no
/// part of the judge sticks out of the message list at this width.
async fn reveal(app: &App, css: &str) {
    let wider = app
        .js_with(
            "const el = document.querySelector(arguments[0]); if (el) el.scrollIntoView({block: 'end'});
             const box = document.querySelector('#messages').getBoundingClientRect();
             return [...document.querySelectorAll('.judge-panel, .verdict-list, .pair-judge, .verdict')]
               .filter((e) => e.getBoundingClientRect().right > box.right + 1 || e.scrollWidth > e.clientWidth + 1)
               .map((e) => e.className);",
            vec![json!(css)],
        )
        .await;
    assert_eq!(wider, json!([]), "judge parts wider than the messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn judge_a_reply_from_its_own_control_and_a_pair_and_the_verdicts_stay_listed() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let rubric = save_rubric(&app, "brevity").await;

    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("What is the capital of France?").await;
    app.last_reply("done").await;

    // The reply's own Judge control (not inside Reasons…): rubric and judge model chosen.
    app.click(&in_last_reply(judge::OPEN)).await;
    wait_for("the reply's judge panel", || async {
        app.find(&in_last_reply(judge::PANEL)).await
    })
    .await;
    wait_for("the brevity rubric among the choices", || async {
        app.find(&in_last_reply(&format!(
            "{} option[value='{rubric}']",
            judge::RUBRIC
        )))
        .await
    })
    .await;
    app.select(&in_last_reply(judge::RUBRIC), &rubric.to_string())
        .await;
    app.type_into(&in_last_reply(judge::MODEL), "test-judge-prose")
        .await;
    app.click(&in_last_reply(judge::RUN)).await;
    let listed = reply_verdicts(&app, 1).await;
    assert!(listed[0].contains("/10"), "{listed:?}");
    assert!(listed[0].contains("test-judge-prose"), "{listed:?}");
    assert!(listed[0].contains("brevity v1"), "{listed:?}");
    let sent = server.requests().last().unwrap().body.clone();
    assert_eq!(sent["model"], "test-judge-prose");
    assert!(
        sent["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("Grade for brevity"),
        "the chosen rubric went to the judge"
    );

    // A judge that never answers is stopped from the panel; nothing is stored.
    app.type_into(&in_last_reply(judge::MODEL), "test-hang")
        .await;
    app.click(&in_last_reply(judge::RUN)).await;
    wait_for("the Stop button", || async {
        let hidden = app.attr_of(&in_last_reply(judge::STOP), "hidden").await;
        hidden.is_none().then_some(())
    })
    .await;
    app.click(&in_last_reply(judge::STOP)).await;
    wait_for("the run to say it stopped", || async {
        let s = app.text_of(&in_last_reply(judge::STATUS)).await?;
        s.contains("Stopped").then_some(())
    })
    .await;
    assert_eq!(reply_verdicts(&app, 1).await.len(), 1);
    app.type_into(&in_last_reply(judge::MODEL), "test-judge-prose")
        .await;

    // The conversation's settings (opened to choose its model) out of the way.
    app.click(panel::TOGGLE).await;
    min_size(&app).await;
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        reveal(&app, &in_last_reply(judge::VERDICTS)).await;
        keep_screenshot(&app, &format!("judge-reply-{lang}-{theme}-640x420.png")).await;
    }
    set_look(&app, "en", "light").await;

    // Reopened, the conversation still shows the verdict under its reply.
    app.click(sidebar::NEW_CHAT).await;
    app.open_conversation("capital").await;
    let again = reply_verdicts(&app, 1).await;
    assert!(again[0].contains("brevity v1"), "{again:?}");

    // Two models side by side: Judge pair under the group.
    app.set_panel_field(panel::COMPARE_MODELS, "test-slow-2")
        .await;
    app.send("And of Italy?").await;
    wait_for("two finished columns", || async {
        (app.find_all(columns::DONE).await.len() == 2).then_some(())
    })
    .await;
    app.wait_idle().await;
    app.click(panel::TOGGLE).await;
    app.click(judge::PAIR_OPEN).await;
    app.type_into(judge::PAIR_MODEL, "test-judge").await;
    app.click(judge::PAIR_RUN).await;
    // test-judge prefers the longer reply, in both orders: the slow model's (its echo is longer).
    let pair = wait_for("the pair's verdict", || async {
        app.texts_of(judge::PAIR_VERDICTS).await.pop()
    })
    .await;
    assert!(pair.contains("test-slow-2 won"), "{pair}");
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        reveal(&app, judge::PAIR_VERDICTS).await;
        keep_screenshot(&app, &format!("judge-pair-{lang}-{theme}-640x420.png")).await;
    }
    set_look(&app, "en", "light").await;
    app.set_panel_field(panel::COMPARE_MODELS, "").await;

    // The ratings view lists both verdicts, newest first.
    app.click(arena::OPEN).await;
    let rows = wait_for("both verdicts in the ratings view", || async {
        let rows = app.texts_of(judge::ALL_VERDICTS).await;
        (rows.len() == 2).then_some(rows)
    })
    .await;
    assert!(rows[0].contains("test-model vs test-slow-2"), "{rows:?}");
    assert!(rows[0].contains("test-slow-2 won"), "{rows:?}");
    assert!(rows[1].contains("brevity v1"), "{rows:?}");
    for (lang, theme) in [("en", "light"), ("zh-CN", "dark")] {
        set_look(&app, lang, theme).await;
        app.js("document.querySelector('.verdicts-title').scrollIntoView({block: 'start'}); return null;")
            .await;
        keep_screenshot(
            &app,
            &format!("judge-ratings-view-{lang}-{theme}-640x420.png"),
        )
        .await;
    }
    app.close().await;
}
