//! Chatting: a key saved through the window, a streamed reply, Stop, a restart that finds it all;
//! a failed reply and Retry; conversation settings reaching the request; rename, delete and undo.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::{composer, messages, panel, settings, sidebar};
use crate::steps::ENTER;

use messages::{in_last_reply, LAST_REPLY};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_stop_restart_and_find_both() {
    let lab = Lab::new().await;
    let key = "sk-e2e-through-the-keyring";
    let server = FakeOpenAi::start_with_key(key);

    // First run: set the key, chat, stop a second reply mid-stream.
    let partial;
    {
        let app = lab.open(&server).await;
        app.click(settings::OPEN).await;
        wait_for("the key status", || async {
            app.attr_of(settings::KEY_STATUS, "data-source")
                .await
                .filter(|s| s == "none")
        })
        .await;
        app.type_into(settings::API_KEY, key).await;
        app.click(settings::SAVE_KEY).await;
        wait_for("the key in the keyring", || async {
            app.attr_of(settings::KEY_STATUS, "data-source")
                .await
                .filter(|s| s == "keyring")
        })
        .await;
        // The field is cleared and the key cannot be read back into the page.
        assert_eq!(
            app.attr_of(settings::API_KEY, "value")
                .await
                .unwrap_or_default(),
            ""
        );
        let html = app.source().await;
        assert!(!html.contains(key), "the key is in the page");
        // The default model for new conversations, saved with the profile.
        app.type_into(settings::DEFAULT_MODEL, "test-model").await;
        app.click(settings::SAVE).await;
        wait_for("the profile to be saved", || async {
            let v = app
                .ask_backend("get_profile", "p => p.defaultModel")
                .await?;
            (v == "test-model").then_some(())
        })
        .await;
        app.click(settings::CLOSE).await;

        app.send("Hello Parley").await;
        let reply = app.last_reply("done").await;
        assert_eq!(reply, "Echo: Hello Parley");
        let meta = app.text_of(&in_last_reply(messages::META)).await.unwrap();
        assert!(
            meta.contains("test-model"),
            "reply footer shows the model: {meta}"
        );
        let auth = server.requests().last().unwrap().header("authorization");
        assert_eq!(
            auth.as_deref(),
            Some(format!("Bearer {key}").as_str()),
            "the UI's key reached the server"
        );
        app.screenshot("chat.png").await;

        // A second conversation with a slow model, stopped mid-stream.
        app.click(sidebar::NEW_CHAT).await;
        app.set_conversation_model("test-slow").await;
        app.send("Slow one").await;
        wait_for("the first words", || async {
            let t = app.text_of(&in_last_reply(messages::BODY)).await?;
            t.contains(" w2").then_some(())
        })
        .await;
        app.click(composer::STOP).await;
        partial = app.last_reply("cancelled").await;
        assert!(partial.starts_with("Echo: Slow one w0"), "{partial}");
        assert!(!partial.contains("w199"), "stop did not stop: {partial}");
        app.close().await;
    }

    // Second run: both conversations are there exactly as they were.
    {
        let app = lab.open(&server).await;
        let titles = wait_for("both conversations", || async {
            let t = app.conversation_titles().await;
            (t.len() == 2 && t.iter().all(|x| !x.is_empty())).then_some(t)
        })
        .await;
        assert!(
            titles[0].contains("Slow one") && titles[1].contains("Hello Parley"),
            "newest first: {titles:?}"
        );
        app.open_conversation("Hello Parley").await;
        let reply = wait_for("the first reply", || async {
            let t = app.text_of(&in_last_reply(messages::BODY)).await?;
            (t == "Echo: Hello Parley").then_some(t)
        })
        .await;
        assert_eq!(
            app.attr_of(LAST_REPLY, "data-status").await.as_deref(),
            Some("done")
        );
        assert!(!reply.is_empty());
        app.open_conversation("Slow one").await;
        let again = wait_for("the stopped reply", || async {
            let t = app.text_of(&in_last_reply(messages::BODY)).await?;
            t.starts_with("Echo: Slow one").then_some(t)
        })
        .await;
        assert_eq!(again, partial);
        assert_eq!(
            app.attr_of(LAST_REPLY, "data-status").await.as_deref(),
            Some("cancelled")
        );
        app.screenshot("restart.png").await;
        // The key survived the restart in the keyring.
        app.click(settings::OPEN).await;
        wait_for("the stored key", || async {
            app.attr_of(settings::KEY_STATUS, "data-source")
                .await
                .filter(|s| s == "keyring")
        })
        .await;
        app.close().await;
    }

    // The window took its daily backup of the database.
    let backups: Vec<String> = std::fs::read_dir(lab.data().join("backups"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        backups
            .iter()
            .any(|n| n.starts_with("parley-daily-") && n.ends_with(".db")),
        "{backups:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_reply_keeps_the_message_and_retry_answers_it() {
    let lab = Lab::new().await;
    let key = "sk-e2e-from-the-environment";
    let server = FakeOpenAi::start_with_key(key);
    let app = lab.app(&server).env("OPENAI_API_KEY", key).open().await;

    // The environment key is used as a fallback and shown as such.
    app.click(settings::OPEN).await;
    wait_for("the environment key", || async {
        app.attr_of(settings::KEY_STATUS, "data-source")
            .await
            .filter(|s| s == "env")
    })
    .await;
    app.click(settings::CLOSE).await;

    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("no-such-model").await;
    app.send("Try me").await;
    let error = wait_for("the error", || async {
        (app.attr_of(LAST_REPLY, "data-status").await? == "error").then_some(())?;
        app.text_of(&in_last_reply(messages::ERROR_BADGE)).await
    })
    .await;
    assert!(
        error.contains("no-such-model"),
        "the error names the model: {error}"
    );
    let user = app.text_of(messages::USER_BODY).await.unwrap();
    assert_eq!(user, "Try me", "the message is kept");

    app.set_conversation_model("test-model").await;
    app.click(messages::RETRY).await;
    let reply = app.last_reply("done").await;
    assert_eq!(reply, "Echo: Try me");
    let users = app.find_all(messages::USERS).await;
    assert_eq!(
        users.len(),
        1,
        "retry answers the same message, it does not send it again"
    );
    assert_eq!(
        server
            .requests()
            .last()
            .unwrap()
            .header("authorization")
            .unwrap(),
        format!("Bearer {key}")
    );

    // Conversation settings typed just before sending apply to that very message.
    app.type_into(panel::SYSTEM_PROMPT, "Be brief.").await;
    app.type_into(panel::TEMPERATURE, "0.3").await;
    app.type_into(panel::MAX_TOKENS, "2").await;
    app.type_into(panel::TOP_P, "0.7").await;
    app.type_into(panel::FREQUENCY_PENALTY, "0.5").await;
    app.type_into(panel::PRESENCE_PENALTY, "-0.5").await;
    app.type_into(panel::SEED, "9").await;
    // Two stop sequences, one per line; "\\n" written in a line stands for a line break.
    app.type_into(panel::STOP_SEQUENCES, "END").await;
    app.press(panel::STOP_SEQUENCES, &format!("{ENTER}\\n\\n"))
        .await;
    app.screenshot("settings.png").await;
    app.send("One two three").await;
    // max_tokens 2 cuts the echo after two tokens.
    wait_for("the short reply", || async {
        (app.attr_of(LAST_REPLY, "data-status").await? == "done").then_some(())?;
        let text = app.text_of(&in_last_reply(messages::BODY)).await?;
        (text == "Echo: One").then_some(())
    })
    .await;
    let body = server.requests().last().unwrap().body.clone();
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(body["max_tokens"], 2);
    assert_eq!(body["top_p"], 0.7);
    assert_eq!(body["frequency_penalty"], 0.5);
    assert_eq!(body["presence_penalty"], -0.5);
    assert_eq!(body["seed"], 9);
    assert_eq!(
        body["stop"],
        json!(["END", "\n\n"]),
        "one per line, \\n for a line break"
    );
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][0]["content"], "Be brief.");
    // Shift+Enter adds a line instead of sending.
    app.type_into(composer::FIELD, "line one").await;
    // WebDriver modifier keys toggle: Shift down, Enter, Shift up, then text.
    app.press(composer::FIELD, "\u{e008}\u{e007}\u{e008}line two")
        .await;
    let value = app.value_of(composer::FIELD).await.unwrap_or_default();
    assert_eq!(value, "line one\nline two", "Shift+Enter must not send");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_delete_and_undo_in_the_sidebar() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab
        .app(&server)
        .env("OPENAI_API_KEY", "sk-any")
        .open()
        .await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("Keep me").await;
    app.last_reply("done").await;

    // Rename: the pencil, type, Enter.
    app.click(sidebar::RENAME_ACTIVE).await;
    // No WebDriver "clear" here: it blurs the field, and blur ends the rename. Ctrl+A, type, Enter.
    let input = wait_for("the rename field", || app.find(sidebar::RENAME_INPUT)).await;
    input
        .send_keys("\u{e009}a\u{e009}Renamed chat\u{e007}")
        .await
        .unwrap();
    wait_for("the new title", || async {
        let v = app
            .ask_backend("list_conversations", "l => l[0].title")
            .await?;
        (v == "Renamed chat").then_some(())
    })
    .await;
    assert_eq!(app.conversation_titles().await, ["Renamed chat"]);

    // Delete, then Undo from the toast: nothing is lost.
    app.click(sidebar::DELETE_ACTIVE).await;
    wait_for("the list to empty", || async {
        app.conversation_titles().await.is_empty().then_some(())
    })
    .await;
    app.click(sidebar::TOAST_ACTION).await;
    wait_for("the conversation to come back", || async {
        (app.conversation_titles().await == ["Renamed chat"]).then_some(())
    })
    .await;
    app.open_conversation("Renamed chat").await;
    wait_for("its messages", || async {
        let t = app.text_of(&in_last_reply(messages::BODY)).await?;
        (t == "Echo: Keep me").then_some(())
    })
    .await;

    // "New chat", then at once a click on a conversation (before the new one exists): the later
    // click wins, the new chat does not take the window back once it is created.
    app.js_with(
        "document.querySelector(arguments[0]).click();
         [...document.querySelectorAll(arguments[1])].find((l) => l.innerText.includes('Renamed chat')).click();
         return null;",
        vec![json!(sidebar::NEW_CHAT), json!(sidebar::CONVERSATIONS)],
    )
    .await;
    wait_for("the new chat in the list", || async {
        (app.conversation_titles().await.len() == 2).then_some(())
    })
    .await;
    let current = app
        .js_with(
            "return document.querySelector(arguments[0] + '[aria-current=\"true\"]')?.innerText ?? null;",
            vec![json!(sidebar::CONVERSATIONS)],
        )
        .await;
    assert!(
        current
            .as_str()
            .unwrap_or_default()
            .contains("Renamed chat"),
        "the conversation clicked last is open: {current}"
    );
    assert_eq!(
        app.text_of(&in_last_reply(messages::BODY)).await.as_deref(),
        Some("Echo: Keep me")
    );
    app.close().await;
}
