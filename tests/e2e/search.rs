//! Search in the window: Ctrl+K finds a message in a branch that is not shown (in another
//! conversation), Enter opens it there and marks it; Chinese two-character words are found;
//! screenshots in English and Chinese, light and dark.

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, App, Lab};
use crate::page::{composer, messages, panel, search, sidebar};
use crate::steps::ENTER;

/// WebDriver's Control key (held until the end of the keys sent).
const CONTROL: &str = "\u{e009}";

/// Opens search with Ctrl+K and types `query`; waits for hits and returns the marked words.
async fn search_for(app: &App, query: &str) -> Vec<String> {
    if app
        .js("return document.querySelector('#search-dialog').open")
        .await
        != serde_json::json!(true)
    {
        app.press(composer::FIELD, &format!("{CONTROL}k")).await;
    }
    app.type_into(search::INPUT, query).await;
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    wait_for(&format!("hits for {query}"), || async {
        let marks = app.texts_of(search::MARKS).await;
        let current = marks.iter().all(|m| words.contains(&m.to_lowercase()));
        (!marks.is_empty() && current).then_some(marks)
    })
    .await
}

async fn set_language(app: &App, lang: &str) {
    app.js_with(
        "import('./app.bundle.js').then((m) => m.i18n).then(m => m.setLang(arguments[0])); return null;",
        vec![serde_json::json!(lang)],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_a_message_in_a_hidden_branch_and_jumps_to_it() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    set_language(&app, "en").await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.click(panel::TOGGLE).await;
    app.send("the zebra crossing").await;
    app.last_reply("done").await;
    // Edit the question: the zebra stays only in the first branch, which is no longer shown.
    app.click_nth(messages::EDIT, 0).await;
    app.type_into(messages::EDIT_INPUT, "我们今天讨论机器学习的原理")
        .await;
    app.click(messages::EDIT_SEND).await;
    app.wait_bodies(&[
        "我们今天讨论机器学习的原理",
        "Echo: 我们今天讨论机器学习的原理",
    ])
    .await;
    // And another conversation is the open one.
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.click(panel::TOGGLE).await;
    app.send("something else").await;
    app.last_reply("done").await;

    // Found inside a word, case-insensitively, in the hidden branch; the match is marked.
    let marks = search_for(&app, "ZEBR").await;
    assert!(
        marks.iter().all(|m| m.eq_ignore_ascii_case("zebr")),
        "{marks:?}"
    );
    assert_eq!(
        app.texts_of(search::HITS).await.len(),
        2,
        "question and reply"
    );
    let titles = app.texts_of(search::HIT_TITLES).await;
    assert!(
        titles.iter().all(|t| t == "the zebra crossing"),
        "{titles:?}"
    );
    app.screenshot("search-en-light.png").await;
    // Hostile syntax is text, never an error.
    app.type_into(search::INPUT, "\"NEAR(a* -b").await;
    wait_for("no hits for hostile syntax", || async {
        let status = app.text_of(search::STATUS).await?;
        (app.texts_of(search::HITS).await.is_empty() && !status.is_empty()).then_some(())
    })
    .await;
    // A two-character Chinese word inside a sentence.
    let marks = search_for(&app, "学习").await;
    assert!(marks.iter().all(|m| m == "学习"), "{marks:?}");
    set_language(&app, "zh-CN").await;
    search_for(&app, "机器").await;
    app.screenshot("search-zh-light.png").await;
    set_language(&app, "en").await;

    // Enter opens the first hit (the newest: the reply) in its branch, marked.
    search_for(&app, "zebra crossing").await;
    app.press(search::INPUT, ENTER).await;
    app.wait_js(
        "the search to close",
        &format!("return !document.querySelector('{}').open", search::DIALOG),
    )
    .await;
    app.wait_bodies(&["the zebra crossing", "Echo: the zebra crossing"])
        .await;
    let target = wait_for("the marked message", || app.text_of(search::TARGET_BODY)).await;
    assert_eq!(target, "Echo: the zebra crossing");
    assert_eq!(app.texts_of(messages::USER_BRANCH_POS).await, ["1/2"]);
    app.screenshot("search-jumped.png").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_dialog_in_dark_mode_in_both_languages() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab
        .app(&server)
        .env("GTK_THEME", "Adwaita:dark")
        // A zone with clock changes: the date filter's "until" day is counted whole on the days of
        // 23 and 25 hours too.
        .env("TZ", "America/New_York")
        .open()
        .await;
    let hours = app
        .js_async(
            "import('./app.bundle.js').then((m) => ['2026-03-08', '2026-11-01', '2026-06-01'].map((day) => \
             (m.search.dayStart(day, true) + 1 - m.search.dayStart(day, false)) / 3600000))",
        )
        .await;
    assert_eq!(hours, serde_json::json!([23, 25, 24]));
    set_language(&app, "en").await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.click(panel::TOGGLE).await;
    app.send("Latency of the 数据库索引 under load").await;
    app.last_reply("done").await;
    // The box in the sidebar opens the same search.
    app.click(search::SIDEBAR_BOX).await;
    search_for(&app, "数据库").await;
    // Unrated replies only: the question drops out.
    app.select(search::RATED_FILTER, "no").await;
    wait_for("the unrated reply", || async {
        (app.texts_of(search::HITS).await.len() == 1).then_some(())
    })
    .await;
    app.screenshot("search-en-dark.png").await;
    set_language(&app, "zh-CN").await;
    search_for(&app, "latency").await;
    app.screenshot("search-zh-dark.png").await;
    set_language(&app, "en").await;
    app.close().await;
}
