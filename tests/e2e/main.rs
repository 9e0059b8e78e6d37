//! End to end in the real webview: the built `parley` binary under Xvfb, driven through tauri-driver
//! and WebKitWebDriver, talking to a local OpenAI-compatible server, with the key in the real keyring.

#[path = "../support/fake_openai.rs"]
mod fake_openai;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use fake_openai::FakeOpenAi;

const WAIT: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// tauri-driver for one app session; stopped with SIGTERM so WebKitWebDriver goes with it.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(data_dir: &Path, server: &FakeOpenAi) -> Driver {
        Self::start_with(data_dir, server, &[])
    }

    fn start_with(data_dir: &Path, server: &FakeOpenAi, env: &[(&str, &str)]) -> Driver {
        let (port, native) = (free_port(), free_port());
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("PARLEY_DATA_DIR", data_dir)
            .env("OPENAI_BASE_URL", server.base_url())
            .env_remove("OPENAI_API_KEY")
            .env("LANG", "en_US.UTF-8")
            .env("NO_AT_BRIDGE", "1")
            // An entry of its own in the throwaway keyring.
            .env(
                "PARLEY_KEYRING_SERVICE",
                format!("parley-e2e-{}-{}", std::process::id(), data_dir.display()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tauri-driver is not installed: run .ci/install-deps --test");
        Driver { child, port }
    }

    async fn session(&self) -> Client {
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": env!("CARGO_BIN_EXE_parley") }
        });
        // The WebDriver client uses rustls too; with two providers compiled in, it needs to be told.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let deadline = Instant::now() + WAIT;
        loop {
            let attempt = ClientBuilder::rustls()
                .unwrap()
                .capabilities(caps.as_object().unwrap().clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await;
            match attempt {
                Ok(client) => return client,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn attr_of(c: &Client, css: &str, attr: &str) -> Option<String> {
    c.find(Locator::Css(css))
        .await
        .ok()?
        .attr(attr)
        .await
        .ok()?
}

async fn click(c: &Client, css: &str) {
    let el = wait_for(css, || async { c.find(Locator::Css(css)).await.ok() }).await;
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Replaces a field's text. Retries when the page re-renders the field under our feet.
async fn type_into(c: &Client, css: &str, text: &str) {
    wait_for(css, || async {
        let el = c.find(Locator::Css(css)).await.ok()?;
        // Inside a scrolling panel WebKitWebDriver only types into a field it can see.
        let arg = serde_json::to_value(&el).ok()?;
        c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
            .await
            .ok()?;
        el.clear().await.ok()?;
        el.send_keys(text).await.ok()?;
        let value = el.prop("value").await.ok()??;
        (value == text).then_some(())
    })
    .await;
}

/// Asks the back end through the page's own IPC bridge, as the UI does, and returns `pick(result)`.
async fn from_backend(c: &Client, cmd: &str, pick: &str) -> Option<serde_json::Value> {
    let script = format!(
        "const done = arguments[0]; window.__TAURI__.core.invoke('{cmd}').then(r => done(({pick})(r)), () => done(null))"
    );
    c.execute_async(&script, vec![]).await.ok()
}

/// Sets the current conversation's model in its settings panel and waits for the debounced save.
async fn set_conversation_model(c: &Client, model: &str) {
    let field = c.find(Locator::Css("#conv-model")).await;
    let visible = match field {
        Ok(f) => f.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    };
    if !visible {
        click(c, "#toggle-conv-settings").await;
    }
    type_into(c, "#conv-model", model).await;
    wait_for("the model to be saved", || async {
        let v = from_backend(c, "list_conversations", "l => l[0] && l[0].model").await?;
        (v == model).then_some(())
    })
    .await;
}

/// One app at a time: each test drives its own app, but they share the display.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits until the last reply on screen has `status` and returns its text.
async fn last_reply(c: &Client, status: &str) -> String {
    wait_for(&format!("the last reply to be {status}"), || async {
        (attr_of(c, LAST_REPLY, "data-status").await? == status).then_some(())?;
        text_of(c, &format!("{LAST_REPLY} .message-body")).await
    })
    .await
}

const LAST_REPLY: &str = "#messages .message.assistant:last-of-type";

async fn send(c: &Client, text: &str) {
    type_into(c, "#composer", text).await;
    // Enter sends (Shift+Enter would add a line).
    c.find(Locator::Css("#composer"))
        .await
        .unwrap()
        .send_keys("\u{e007}")
        .await
        .unwrap();
}

async fn conversation_titles(c: &Client) -> Vec<String> {
    let mut titles = Vec::new();
    for li in c
        .find_all(Locator::Css("#conversation-list li.conversation"))
        .await
        .unwrap_or_default()
    {
        // WebKitWebDriver reports "" as the text of an ellipsised (text-overflow) element: read innerText.
        titles.push(
            li.prop("innerText")
                .await
                .ok()
                .flatten()
                .unwrap_or_default()
                .trim()
                .to_string(),
        );
    }
    titles
}

async fn open_conversation(c: &Client, title: &str) {
    let items = c
        .find_all(Locator::Css("#conversation-list li.conversation"))
        .await
        .unwrap();
    for li in items {
        if li
            .prop("innerText")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains(title)
        {
            li.click().await.unwrap();
            return;
        }
    }
    panic!("no conversation titled {title}");
}

fn screenshot_dir() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_stream_stop_restart_and_find_both() {
    let _one_at_a_time = SERIAL.lock().await;
    let key = "sk-e2e-through-the-keyring";
    let server = FakeOpenAi::start_with_key(key);
    let data = tempfile::tempdir().unwrap();

    // First run: set the key, chat, stop a second reply mid-stream.
    let partial;
    {
        let driver = Driver::start(data.path(), &server);
        let c = driver.session().await;
        click(&c, "#open-settings").await;
        wait_for("the key status", || async {
            attr_of(&c, "#key-status", "data-source")
                .await
                .filter(|s| s == "none")
        })
        .await;
        type_into(&c, "#api-key", key).await;
        click(&c, "#save-key").await;
        wait_for("the key in the keyring", || async {
            attr_of(&c, "#key-status", "data-source")
                .await
                .filter(|s| s == "keyring")
        })
        .await;
        // The field is cleared and the key cannot be read back into the page.
        assert_eq!(
            attr_of(&c, "#api-key", "value").await.unwrap_or_default(),
            ""
        );
        let html = c.source().await.unwrap();
        assert!(!html.contains(key), "the key is in the page");
        // The default model for new conversations, saved with the profile.
        type_into(&c, "#default-model", "test-model").await;
        click(&c, "#save-settings").await;
        wait_for("the profile to be saved", || async {
            let v = from_backend(&c, "get_profile", "p => p.defaultModel").await?;
            (v == "test-model").then_some(())
        })
        .await;
        click(&c, "#close-settings").await;

        send(&c, "Hello Parley").await;
        let reply = last_reply(&c, "done").await;
        assert_eq!(reply, "Echo: Hello Parley");
        let meta = text_of(&c, &format!("{LAST_REPLY} .message-meta"))
            .await
            .unwrap();
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
        let _ = std::fs::write(
            screenshot_dir().join("chat.png"),
            c.screenshot().await.unwrap(),
        );

        // A second conversation with a slow model, stopped mid-stream.
        click(&c, "#new-chat").await;
        set_conversation_model(&c, "test-slow").await;
        send(&c, "Slow one").await;
        wait_for("the first words", || async {
            let t = text_of(&c, &format!("{LAST_REPLY} .message-body")).await?;
            t.contains(" w2").then_some(())
        })
        .await;
        click(&c, "#stop").await;
        partial = last_reply(&c, "cancelled").await;
        assert!(partial.starts_with("Echo: Slow one w0"), "{partial}");
        assert!(!partial.contains("w199"), "stop did not stop: {partial}");
        let _ = c.close().await;
    }

    // Second run: both conversations are there exactly as they were.
    {
        let driver = Driver::start(data.path(), &server);
        let c = driver.session().await;
        let titles = wait_for("both conversations", || async {
            let t = conversation_titles(&c).await;
            (t.len() == 2 && t.iter().all(|x| !x.is_empty())).then_some(t)
        })
        .await;
        assert!(
            titles[0].contains("Slow one") && titles[1].contains("Hello Parley"),
            "newest first: {titles:?}"
        );
        open_conversation(&c, "Hello Parley").await;
        let reply = wait_for("the first reply", || async {
            let t = text_of(&c, &format!("{LAST_REPLY} .message-body")).await?;
            (t == "Echo: Hello Parley").then_some(t)
        })
        .await;
        assert_eq!(
            attr_of(&c, LAST_REPLY, "data-status").await.as_deref(),
            Some("done")
        );
        assert!(!reply.is_empty());
        open_conversation(&c, "Slow one").await;
        let again = wait_for("the stopped reply", || async {
            let t = text_of(&c, &format!("{LAST_REPLY} .message-body")).await?;
            t.starts_with("Echo: Slow one").then_some(t)
        })
        .await;
        assert_eq!(again, partial);
        assert_eq!(
            attr_of(&c, LAST_REPLY, "data-status").await.as_deref(),
            Some("cancelled")
        );
        let _ = std::fs::write(
            screenshot_dir().join("restart.png"),
            c.screenshot().await.unwrap(),
        );
        // The key survived the restart in the keyring.
        click(&c, "#open-settings").await;
        wait_for("the stored key", || async {
            attr_of(&c, "#key-status", "data-source")
                .await
                .filter(|s| s == "keyring")
        })
        .await;
        let _ = c.close().await;
    }

    // The window took its daily backup of the database.
    let backups: Vec<String> = std::fs::read_dir(data.path().join("backups"))
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
    let _one_at_a_time = SERIAL.lock().await;
    let key = "sk-e2e-from-the-environment";
    let server = FakeOpenAi::start_with_key(key);
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start_with(data.path(), &server, &[("OPENAI_API_KEY", key)]);
    let c = driver.session().await;

    // The environment key is used as a fallback and shown as such.
    click(&c, "#open-settings").await;
    wait_for("the environment key", || async {
        attr_of(&c, "#key-status", "data-source")
            .await
            .filter(|s| s == "env")
    })
    .await;
    click(&c, "#close-settings").await;

    click(&c, "#new-chat").await;
    set_conversation_model(&c, "no-such-model").await;
    send(&c, "Try me").await;
    let error = wait_for("the error", || async {
        (attr_of(&c, LAST_REPLY, "data-status").await? == "error").then_some(())?;
        text_of(&c, &format!("{LAST_REPLY} .status-badge.error")).await
    })
    .await;
    assert!(
        error.contains("no-such-model"),
        "the error names the model: {error}"
    );
    let user = text_of(&c, "#messages .message.user .message-body")
        .await
        .unwrap();
    assert_eq!(user, "Try me", "the message is kept");

    set_conversation_model(&c, "test-model").await;
    click(&c, "#messages .message.user button.retry").await;
    let reply = last_reply(&c, "done").await;
    assert_eq!(reply, "Echo: Try me");
    let users = c
        .find_all(Locator::Css("#messages .message.user"))
        .await
        .unwrap();
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
    type_into(&c, "#system-prompt", "Be brief.").await;
    type_into(&c, "#temperature", "0.3").await;
    type_into(&c, "#max-tokens", "2").await;
    type_into(&c, "#top-p", "0.7").await;
    type_into(&c, "#frequency-penalty", "0.5").await;
    type_into(&c, "#presence-penalty", "-0.5").await;
    type_into(&c, "#seed", "9").await;
    // Two stop sequences, one per line; "\\n" written in a line stands for a line break.
    type_into(&c, "#stop-sequences", "END").await;
    c.find(Locator::Css("#stop-sequences"))
        .await
        .unwrap()
        .send_keys("\u{e007}\\n\\n")
        .await
        .unwrap();
    let _ = std::fs::write(
        screenshot_dir().join("settings.png"),
        c.screenshot().await.unwrap(),
    );
    send(&c, "One two three").await;
    // max_tokens 2 cuts the echo after two tokens.
    wait_for("the short reply", || async {
        (attr_of(&c, LAST_REPLY, "data-status").await? == "done").then_some(())?;
        let text = text_of(&c, &format!("{LAST_REPLY} .message-body")).await?;
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
    type_into(&c, "#composer", "line one").await;
    c.find(Locator::Css("#composer"))
        .await
        .unwrap()
        // WebDriver modifier keys toggle: Shift down, Enter, Shift up, then text.
        .send_keys("\u{e008}\u{e007}\u{e008}line two")
        .await
        .unwrap();
    let value = c
        .find(Locator::Css("#composer"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(value, "line one\nline two", "Shift+Enter must not send");
    let _ = c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_delete_and_undo_in_the_sidebar() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start_with(data.path(), &server, &[("OPENAI_API_KEY", "sk-any")]);
    let c = driver.session().await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;
    send(&c, "Keep me").await;
    last_reply(&c, "done").await;

    // Rename: the pencil, type, Enter.
    click(
        &c,
        "#conversation-list li.conversation.active button.rename",
    )
    .await;
    // No WebDriver "clear" here: it blurs the field, and blur ends the rename. Ctrl+A, type, Enter.
    let input = wait_for("the rename field", || async {
        c.find(Locator::Css("#conversation-list .rename-input"))
            .await
            .ok()
    })
    .await;
    input
        .send_keys("\u{e009}a\u{e009}Renamed chat\u{e007}")
        .await
        .unwrap();
    wait_for("the new title", || async {
        let v = from_backend(&c, "list_conversations", "l => l[0].title").await?;
        (v == "Renamed chat").then_some(())
    })
    .await;
    assert_eq!(conversation_titles(&c).await, ["Renamed chat"]);

    // Delete, then Undo from the toast: nothing is lost.
    click(
        &c,
        "#conversation-list li.conversation.active button.delete",
    )
    .await;
    wait_for("the list to empty", || async {
        conversation_titles(&c).await.is_empty().then_some(())
    })
    .await;
    click(&c, "#toasts .toast-action").await;
    wait_for("the conversation to come back", || async {
        (conversation_titles(&c).await == ["Renamed chat"]).then_some(())
    })
    .await;
    open_conversation(&c, "Renamed chat").await;
    wait_for("its messages", || async {
        let t = text_of(&c, &format!("{LAST_REPLY} .message-body")).await?;
        (t == "Echo: Keep me").then_some(())
    })
    .await;
    let _ = c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_moved_aside_and_the_window_says_so() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let garbage = b"not a database: someone's precious notes".repeat(200);
    std::fs::write(data.path().join("parley.db"), &garbage).unwrap();
    let driver = Driver::start(data.path(), &server);
    let c = driver.session().await;
    let notice = wait_for("the notice", || async {
        text_of(&c, "#banners .banner .banner-text").await
    })
    .await;
    assert!(
        notice.contains("damaged") && notice.contains("parley restore"),
        "{notice}"
    );
    // The app works on a fresh file, and the damaged one is kept byte for byte.
    click(&c, "#new-chat").await;
    wait_for("the new conversation", || async {
        (conversation_titles(&c).await.len() == 1).then_some(())
    })
    .await;
    let _ = c.close().await;
    let aside = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("parley.db.corrupt-")
        })
        .expect("the damaged file, moved aside");
    assert_eq!(std::fs::read(aside.path()).unwrap(), garbage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_profile_with_its_own_key_answers_a_conversation_switched_to_it() {
    let _one_at_a_time = SERIAL.lock().await;
    // The default profile talks to A (through OPENAI_BASE_URL); the new one to B, with B's key.
    let a = FakeOpenAi::start_with_key("sk-e2e-first-server");
    let b = FakeOpenAi::start_with_key("sk-e2e-second-server");
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &a);
    let c = driver.session().await;

    click(&c, "#open-settings").await;
    wait_for("the default profile in the list", || async {
        let n = c
            .find_all(Locator::Css("#profile-list li.profile-item"))
            .await
            .ok()?
            .len();
        (n == 1).then_some(())
    })
    .await;
    type_into(&c, "#new-profile-name", "Second").await;
    c.find(Locator::Css("#new-profile-kind"))
        .await
        .unwrap()
        .select_by_value("compatible")
        .await
        .unwrap();
    click(&c, "#add-profile").await;
    type_into(&c, "#base-url", &b.base_url()).await;
    type_into(&c, "#default-model", "test-model").await;
    // Default parameters of the profile, which its conversations use unless they set their own.
    click(&c, "#profile-advanced > summary").await;
    type_into(&c, "#pd-temperature", "0.4").await;
    type_into(&c, "#pd-seed", "12").await;
    click(&c, "#save-settings").await;
    let id = wait_for("the new profile", || async {
        from_backend(
            &c,
            "list_profiles",
            "o => (o.profiles.find(p => p.name === 'Second') || {}).id",
        )
        .await
        .and_then(|v| v.as_i64())
    })
    .await;
    // Its key, typed while it is the profile being edited.
    type_into(&c, "#api-key", "sk-e2e-second-server").await;
    click(&c, "#save-key").await;
    wait_for("the key in the keyring", || async {
        attr_of(&c, "#key-status", "data-source")
            .await
            .filter(|s| s == "keyring")
    })
    .await;
    let listed = wait_for("both profiles listed", || async {
        let items = c
            .find_all(Locator::Css("#profile-list li.profile-item"))
            .await
            .ok()?;
        let mut text = Vec::new();
        for li in items {
            text.push(li.prop("innerText").await.ok()??);
        }
        (text.len() == 2).then_some(text)
    })
    .await;
    assert!(listed[1].contains("Second"), "{listed:?}");
    c.execute(
        "document.getElementById('settings-dialog').scrollTop = 0",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _ = std::fs::write(
        screenshot_dir().join("profiles.png"),
        c.screenshot().await.unwrap(),
    );
    let html = c.source().await.unwrap();
    assert!(
        !html.contains("sk-e2e-second-server"),
        "the key is in the page"
    );
    click(&c, "#close-settings").await;

    // A new conversation, switched to the second profile in its settings panel.
    click(&c, "#new-chat").await;
    click(&c, "#toggle-conv-settings").await;
    let picker = wait_for("the profile picker", || async {
        let el = c.find(Locator::Css("#conv-profile")).await.ok()?;
        let options = c
            .find_all(Locator::Css("#conv-profile option"))
            .await
            .ok()?;
        // "Default (…)", then each profile by name.
        (options.len() == 3 && el.is_enabled().await.ok()?).then_some(el)
    })
    .await;
    picker.select_by_value(&id.to_string()).await.unwrap();
    wait_for("the conversation's profile to be saved", || async {
        let v = from_backend(&c, "list_conversations", "l => l[0] && l[0].profileId").await?;
        (v.as_i64() == Some(id)).then_some(())
    })
    .await;
    send(&c, "Hello second server").await;
    let (status, reply) = wait_for("the reply to end", || async {
        let status = attr_of(&c, LAST_REPLY, "data-status").await?;
        if status == "streaming" || status.is_empty() {
            return None;
        }
        let text = c
            .find(Locator::Css(LAST_REPLY))
            .await
            .ok()?
            .prop("innerText")
            .await
            .ok()??;
        Some((status, text))
    })
    .await;
    let _ = std::fs::write(
        screenshot_dir().join("profile-reply.png"),
        c.screenshot().await.unwrap(),
    );
    assert_eq!(status, "done", "{reply}");
    let reply = last_reply(&c, "done").await;
    assert_eq!(reply, "Echo: Hello second server");
    let to_b: Vec<_> = b
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(to_b.len(), 1);
    assert_eq!(
        to_b[0].header("authorization").as_deref(),
        Some("Bearer sk-e2e-second-server")
    );
    assert_eq!(to_b[0].body["temperature"], 0.4);
    assert_eq!(to_b[0].body["seed"], 12);
    assert!(
        a.requests().iter().all(|r| r.method != "POST"),
        "nothing was sent to the default profile's server"
    );
    let _ = c.close().await;
}
