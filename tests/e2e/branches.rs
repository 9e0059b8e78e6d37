//! Branches and several replies: regenerate, edit and step through versions (kept across a
//! restart); n choices as columns, models side by side, and the legacy completions endpoint.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{columns, messages, panel, sidebar};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerate_edit_and_navigate_versions() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.click(panel::TOGGLE).await;
    app.send("first").await;
    app.last_reply("done").await;
    app.send("second").await;
    app.wait_bodies(&["first", "Echo: first", "second", "Echo: second"])
        .await;

    // Regenerate the first reply: a new version replaces it on screen; the old one stays.
    app.click_nth(messages::REGENERATE, 0).await;
    app.wait_bodies(&["first", "Echo: first"]).await;
    wait_for("the version counter 2/2", || async {
        let pos = app.texts_of(messages::REPLY_BRANCH_POS).await;
        (pos == ["2/2"]).then_some(())
    })
    .await;
    // Back to version 1: the turns that followed it come back.
    app.click(messages::REPLY_BRANCH_PREV).await;
    app.wait_bodies(&["first", "Echo: first", "second", "Echo: second"])
        .await;
    assert_eq!(app.texts_of(messages::REPLY_BRANCH_POS).await, ["1/2"]);

    // Edit the second question: a new branch from the same point.
    app.click_nth(messages::EDIT, 1).await;
    app.type_into(messages::EDIT_INPUT, "second, edited").await;
    app.click(messages::EDIT_SEND).await;
    app.wait_bodies(&[
        "first",
        "Echo: first",
        "second, edited",
        "Echo: second, edited",
    ])
    .await;
    wait_for("the edited question's counter", || async {
        let pos = app.texts_of(messages::USER_BRANCH_POS).await;
        (pos == ["2/2"]).then_some(())
    })
    .await;
    app.screenshot("branches.png").await;
    // The original wording and its answer are still there.
    app.click(messages::USER_BRANCH_PREV).await;
    app.wait_bodies(&["first", "Echo: first", "second", "Echo: second"])
        .await;
    // After a restart of the window the chosen branch is the one shown.
    let rows = app.ask_backend("list_conversations", "l => l.length").await;
    assert_eq!(rows, Some(json!(1)));
    app.close().await;
    let app = lab.open(&server).await;
    app.click(sidebar::CONVERSATIONS).await;
    app.wait_bodies(&["first", "Echo: first", "second", "Echo: second"])
        .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_choices_models_side_by_side_and_a_legacy_completion() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;

    // n = 3: three columns from one request; continue with the second.
    app.set_panel_field(panel::N_CHOICES, "3").await;
    wait_for("n to be saved", || async {
        let v = app.ask_backend("list_conversations", "l => l[0].n").await?;
        (v == json!(3)).then_some(())
    })
    .await;
    app.send("pick").await;
    app.wait_bodies(&[
        "pick",
        "Choice 1: Echo: pick",
        "Choice 2: Echo: pick",
        "Choice 3: Echo: pick",
    ])
    .await;
    assert_eq!(server.requests().last().unwrap().body["n"], 3);
    wait_for("three finished columns", || async {
        (app.find_all(columns::DONE).await.len() == 3).then_some(())
    })
    .await;
    app.screenshot("n-choices.png").await;
    app.wait_idle().await;
    // Until one is chosen, the first column is the current one.
    wait_for("column 1 to be the current one", || async {
        let label = app.texts_of(columns::CURRENT_LABEL).await;
        (label == ["Choice 1"]).then_some(())
    })
    .await;
    // Columns 2 and 3 offer "Continue with this"; take the second column's.
    app.click_nth(columns::CHOOSE, 0).await;
    wait_for("column 2 to be the current one", || async {
        // innerText: WebKitWebDriver reads ellipsised text as "".
        let label = app.texts_of(columns::CURRENT_LABEL).await;
        (label == ["Choice 2"]).then_some(())
    })
    .await;
    // A thumb given in the current column stays with the reply once the columns collapse, and
    // a later score keeps it (the collapsed reply was rebuilt from an older copy, unrated).
    let chosen = ".reply-column.current .message";
    let chosen_id: i64 = app
        .attr_of(chosen, "data-id")
        .await
        .unwrap()
        .parse()
        .unwrap();
    app.click(&format!("{chosen} {}", crate::page::rating::THUMB_UP))
        .await;
    let get_rating =
        format!("return window.__TAURI__.core.invoke('get_rating', {{messageId: {chosen_id}}});");
    wait_for("the thumb in the database", || async {
        (app.js(&get_rating).await["rating"]["thumb"] == 1).then_some(())
    })
    .await;
    app.set_panel_field(panel::N_CHOICES, "").await;
    wait_for("n to be cleared", || async {
        let v = app.ask_backend("list_conversations", "l => l[0].n").await?;
        v.is_null().then_some(())
    })
    .await;
    app.send("go on").await;
    app.wait_bodies(&["pick", "Choice 2: Echo: pick", "go on", "Echo: go on"])
        .await;
    let history = server.requests().last().unwrap().body["messages"].clone();
    assert_eq!(history[1]["content"], "Choice 2: Echo: pick");
    let collapsed = format!("#messages .message[data-id='{chosen_id}']");
    assert_eq!(
        app.attr_of(
            &format!("{collapsed} {}", crate::page::rating::THUMB_UP),
            "aria-pressed"
        )
        .await
        .as_deref(),
        Some("true"),
        "the collapsed reply shows its thumb"
    );
    app.click(&format!("{collapsed} {}", crate::page::rating::score(3)))
        .await;
    let rated = wait_for("the score in the database", || async {
        let v = app.js(&get_rating).await;
        (v["rating"]["score"] == 3).then_some(v)
    })
    .await;
    assert_eq!(rated["rating"]["thumb"], 1, "the score kept the thumb");

    // Two models side by side; the slow one is stopped on its own.
    app.set_panel_field(panel::COMPARE_MODELS, "test-slow-40")
        .await;
    app.send("compare").await;
    wait_for("two columns streaming", || async {
        let labels = app.texts_of(columns::LABELS).await;
        (labels == ["test-model", "test-slow-40"]).then_some(())
    })
    .await;
    wait_for("the fast column to finish", || async {
        let s = app.attr_of(columns::FIRST_MESSAGE, "data-status").await?;
        (s == "done").then_some(())
    })
    .await;
    // The column grows and the list keeps to its end as it streams, so the button moves under
    // the pointer: a click that lands beside it is made again until the column has stopped.
    wait_for("the slow column to stop", || async {
        let s = app.attr_of(columns::LAST_MESSAGE, "data-status").await?;
        if s == "streaming" {
            if let Some(stop) = app.find(columns::LAST_STOP).await {
                let _ = stop.click().await;
            }
        }
        (s == "cancelled").then_some(())
    })
    .await;
    let models: Vec<String> = server
        .requests()
        .iter()
        .rev()
        .take(2)
        .map(|r| r.body["model"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        models.contains(&"test-model".to_string()) && models.contains(&"test-slow-40".to_string())
    );
    app.screenshot("side-by-side.png").await;

    // The legacy completions endpoint: prompt in, text out.
    app.set_panel_field(panel::COMPARE_MODELS, "").await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.set_panel_field(panel::ENDPOINT, "completions").await;
    wait_for("the endpoint to be saved", || async {
        let v = app
            .ask_backend("list_conversations", "l => l[0].endpoint")
            .await?;
        (v == "completions").then_some(())
    })
    .await;
    app.send("Roses are").await;
    assert_eq!(app.last_reply("done").await, "Echo: Roses are");
    let req = server.requests().last().unwrap().clone();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "Roses are");
    // The reply says which endpoint made it.
    let meta = app
        .text_of(&messages::in_last_reply(messages::META))
        .await
        .unwrap();
    assert!(meta.contains("text completion"), "{meta}");
    // The conversation's totals are shown beside its title.
    wait_for("the totals", || async {
        let t = app
            .client()
            .execute(
                "return document.querySelector(arguments[0]).textContent",
                vec![json!(panel::TOTALS)],
            )
            .await
            .ok()?;
        t.as_str()?.starts_with("1 reply · ").then_some(())
    })
    .await;
    app.close().await;
}

/// Tools typed for a conversation and not saved yet stay with it when another conversation is
/// opened and this one again (the editor showed the saved tools, the typed ones gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsaved_tools_stay_with_their_conversation() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("tools draft").await;
    app.last_reply("done").await;
    app.open_conversation_panel().await;
    app.js("document.getElementById('tools-editor').open = true; return true")
        .await;
    let typed = r#"[{"name": "lookup", "description": "Looks up a word.", "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}]"#;
    app.type_into("#tools-json", typed).await;
    app.click(sidebar::NEW_CHAT).await;
    wait_for("the new chat's empty tools", || async {
        let v = app
            .js("return document.getElementById('tools-json').value")
            .await;
        (v == json!("")).then_some(())
    })
    .await;
    app.open_conversation("tools draft").await;
    wait_for("the typed tools back", || async {
        let v = app
            .js("return document.getElementById('tools-json').value")
            .await;
        (v == json!(typed)).then_some(())
    })
    .await;
    // Saved, then edited again: "Saved" goes (it stayed over text that was not saved).
    app.click("#tools-save").await;
    app.wait_js(
        "saved",
        "const e = document.getElementById('tools-error'); if (e && !e.hidden) throw new Error(e.textContent);
         return !document.querySelector('.tools-saved').hidden",
    )
    .await;
    app.type_into("#tools-json", " ").await;
    app.wait_js(
        "the mark gone on an edit",
        "return document.querySelector('.tools-saved').hidden",
    )
    .await;
    // A parameter out of range does not hold back the others: the system prompt typed beside
    // it is saved (it was dropped, lost on a switch).
    app.set_panel_field(panel::TEMPERATURE, "5").await;
    app.set_panel_field(panel::SYSTEM_PROMPT, "Answer in French.")
        .await;
    wait_for("the system prompt saved", || async {
        let v = app
            .ask_backend(
                "list_conversations",
                "l => l.find((c) => c.title.includes('tools draft')).systemPrompt",
            )
            .await?;
        (v == json!("Answer in French.")).then_some(())
    })
    .await;
    app.close().await;
}
