//! Rating and comparing: rate a reply (and change it), ask a judge, run arena rounds blind, and
//! see the leaderboard, the win-rate matrix, ratings by model, the CSV export and a new rubric.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{arena, judge, messages, rating, sidebar};

use messages::{in_last_reply, LAST_REPLY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_a_reply_run_an_arena_round_and_see_the_leaderboard_change() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let exports = lab.data().join("exports");
    let app = lab
        .app(&server)
        .env("PARLEY_EXPORT_DIR", &exports)
        .open()
        .await;

    // Rate a reply: thumbs up, 4 of 5, a reason and a tag; then change it.
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("rate me").await;
    app.last_reply("done").await;
    let thumb_up = in_last_reply(rating::THUMB_UP);
    app.click(&thumb_up).await;
    wait_for("the thumb to be saved", || async {
        app.attr_of(&thumb_up, "aria-pressed")
            .await
            .filter(|v| v == "true")
    })
    .await;
    let four = in_last_reply(&rating::score(4));
    app.click(&four).await;
    wait_for("the score to be saved", || async {
        app.attr_of(&four, "aria-pressed")
            .await
            .filter(|v| v == "true")
    })
    .await;
    app.click(&in_last_reply(rating::MORE)).await;
    app.click(&in_last_reply(&rating::reason("accurate"))).await;
    app.type_into(&in_last_reply(rating::TAGS), "e2e, fruit")
        .await;
    app.click(&in_last_reply(rating::SAVE)).await;
    let reply_id: i64 = app
        .attr_of(LAST_REPLY, "data-id")
        .await
        .unwrap()
        .parse()
        .unwrap();
    let get_rating =
        format!("return window.__TAURI__.core.invoke('get_rating', {{messageId: {reply_id}}});");
    let rated = wait_for("the rating in the database", || async {
        let v = app.js(&get_rating).await;
        (v["rating"]["tags"] == json!(["e2e", "fruit"])).then_some(v)
    })
    .await;
    assert_eq!(rated["rating"]["thumb"], 1);
    assert_eq!(rated["rating"]["score"], 4);
    assert_eq!(rated["rating"]["reasons"], json!(["accurate"]));
    // A change keeps the earlier rating in the history.
    app.click(&in_last_reply(&rating::score(2))).await;
    wait_for("the history", || async {
        let v = app.js(&get_rating).await;
        // thumb, then score, then reasons and tags were three states before this one.
        (v["rating"]["score"] == 2 && v["history"].as_array()?.len() == 3).then_some(())
    })
    .await;

    // Ask a judge about the same reply, from its own control.
    app.click(&in_last_reply(judge::OPEN)).await;
    app.type_into(&in_last_reply(judge::MODEL), "test-judge")
        .await;
    app.click(&in_last_reply(judge::RUN)).await;
    let verdict = wait_for("the judge's verdict", || async {
        let t = app.texts_of(&in_last_reply(judge::VERDICTS)).await.pop()?;
        t.contains("test-judge").then_some(t)
    })
    .await;
    assert!(verdict.contains("/10"), "{verdict}");

    // An arena round: the names are nowhere in the page before the vote.
    app.click(arena::OPEN).await;
    // The judge graded a reply the user rated: it shows up in the agreement table.
    wait_for("the agreement table", || async {
        let cells = app.texts_of(arena::AGREEMENT_CELLS).await;
        (cells.first()? == "test-judge" && cells.get(2)? == "1").then_some(())
    })
    .await;
    app.type_into(arena::POOL, "gpt-north, gpt-south").await;
    app.type_into(arena::PROMPT, "Which way?").await;
    app.click(arena::START).await;
    wait_for("both sides", || async {
        let a = app.texts_of(arena::SIDE_A).await;
        let b = app.texts_of(arena::SIDE_B).await;
        (a == ["Echo: Which way?"] && b == ["Echo: Which way?"]).then_some(())
    })
    .await;
    let votes_open = format!(
        "return !document.querySelector(\"{}\").disabled",
        arena::VOTE
    );
    app.wait_js("the vote buttons", &votes_open).await;
    let html = app.source().await;
    assert!(
        !html.contains("gpt-north\"")
            && !html.contains(">gpt-north<")
            && !html.contains("gpt-south<"),
        "a model name is in the DOM before the vote"
    );
    let page_text = app.js("return document.body.innerText;").await;
    let visible = page_text
        .as_str()
        .unwrap()
        .replace("gpt-north, gpt-south", "");
    assert!(!visible.contains("gpt-north") && !visible.contains("gpt-south"));
    app.click(&arena::vote("a")).await;
    let reveal = wait_for("the reveal", || async {
        let t = app.texts_of(arena::REVEAL).await.pop()?;
        t.starts_with("A was").then_some(t)
    })
    .await;
    let winner = reveal
        .trim_start_matches("A was ")
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    // The leaderboard ranks the winner first, with one battle each.
    wait_for("the leaderboard", || async {
        let models = app.texts_of(arena::LB_MODELS).await;
        let battles = app.texts_of(arena::LB_BATTLES).await;
        (models.len() == 2 && models[0] == winner && battles == ["1", "1"]).then_some(())
    })
    .await;
    // The win-rate matrix: the winner beat the other once.
    wait_for("the win-rate matrix", || async {
        let cells = app.texts_of(arena::WIN_MATRIX_CELLS).await;
        (cells.contains(&"100% (1)".to_string()) && cells.contains(&"0% (1)".to_string()))
            .then_some(())
    })
    .await;
    app.screenshot("arena.png").await;
    // A second round changes it.
    app.click(arena::START).await;
    app.wait_js(
        "the second round's vote buttons",
        &format!(
            "return document.querySelector(\"{}\").hidden && !document.querySelector(\"{}\").disabled",
            arena::REVEAL,
            arena::VOTE
        ),
    )
    .await;
    app.click(&arena::vote("tie")).await;
    wait_for("two battles each", || async {
        let battles = app.texts_of(arena::LB_BATTLES).await;
        (battles == ["2", "2"]).then_some(())
    })
    .await;
    // Ratings by model (the rated reply: score 2), drawn as charts, and exported.
    wait_for("the ratings table", || async {
        let models = app.texts_of(arena::RATED_MODELS).await;
        let means = app.texts_of(arena::RATED_MEANS).await;
        (models == ["test-model"] && means == ["2.00"]).then_some(())
    })
    .await;
    app.wait_js(
        "the charts",
        &format!(
            "return !!window.Chart && document.querySelectorAll(\"{} canvas\").length === 2",
            arena::RATINGS_VIEW
        ),
    )
    .await;
    app.click(arena::EXPORT_CSV).await;
    let saved = wait_for("the export", || async {
        let t = app.texts_of(arena::EXPORT_STATUS).await.pop()?;
        t.strip_prefix("Saved to ").map(str::to_string)
    })
    .await;
    assert!(saved.starts_with(exports.to_str().unwrap()), "{saved}");
    let csv = std::fs::read_to_string(&saved).unwrap();
    assert!(csv.starts_with("message_id,conversation_id,model,"));
    assert!(
        csv.contains(",test-model,-1,2,") || csv.contains(",test-model,1,2,"),
        "{csv}"
    );
    // A rubric edited in the window becomes its next version.
    app.wait_js(
        "the rubrics",
        &format!(
            "return document.querySelector(\"{}\").value.length > 0",
            arena::RUBRIC_BODY
        ),
    )
    .await;
    app.js_with(
        "document.querySelector(arguments[0]).value = 'Grade 1 to 10 on accuracy only.'; return true;",
        vec![json!(arena::RUBRIC_BODY)],
    )
    .await;
    app.click(arena::SAVE_RUBRIC).await;
    wait_for("version 2", || async {
        let t = app.texts_of(arena::RUBRIC_STATUS).await.pop()?;
        t.starts_with("Saved as version 2").then_some(())
    })
    .await;
    let versions = app
        .js("return window.__TAURI__.core.invoke('list_rubrics').then(l => l.map(r => r.name + ' v' + r.version));")
        .await;
    assert!(
        versions.as_array().unwrap().contains(&json!("default v2")),
        "{versions}"
    );
    app.screenshot("ratings.png").await;
    app.close().await;
}
