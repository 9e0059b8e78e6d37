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
            "tauri:options": { "application": env!("CARGO_BIN_EXE_parley-desktop") }
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
                Ok(client) => {
                    // Clicks before the page has wired its handlers would go nowhere.
                    wait_js(
                        &client,
                        "the page to be ready",
                        "return document.documentElement.dataset.ready === 'true'",
                    )
                    .await;
                    return client;
                }
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
    // In a scrolling dialog or panel WebKitWebDriver only clicks what it can see.
    if let Ok(arg) = serde_json::to_value(&el) {
        let _ = c
            .execute("arguments[0].scrollIntoView({block: 'nearest'})", vec![arg])
            .await;
    }
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
    open_conversation_panel(c).await;
    type_into(c, "#conv-model", model).await;
    wait_for("the model to be saved", || async {
        let v = from_backend(c, "list_conversations", "l => l[0] && l[0].model").await?;
        (v == model).then_some(())
    })
    .await;
}

/// Opens the conversation's settings panel once a conversation is active (the toggle is
/// disabled until then: a click right after "New chat" could otherwise go nowhere).
async fn open_conversation_panel(c: &Client) {
    let deadline = Instant::now() + WAIT;
    loop {
        let state = c
            .execute(
                "const t = document.getElementById('toggle-conv-settings');
                 const p = document.getElementById('conv-settings');
                 if (!t.disabled && p.hidden) t.click();
                 return [t.disabled, p.hidden, document.getElementById('conv-model').disabled];",
                vec![],
            )
            .await;
        if let Ok(v) = &state {
            if v == &json!([false, false, false]) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the conversation panel did not open: [toggle disabled, panel hidden, model disabled] = {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    // The toggle is enabled once the new conversation is active.
    open_conversation_panel(&c).await;
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

/// Clicks the `n`th (from 0) element matching `css`, once there are that many.
async fn click_nth(c: &Client, css: &str, n: usize) {
    let el = wait_for(&format!("{css} #{n}"), || async {
        let all = c.find_all(Locator::Css(css)).await.ok()?;
        all.into_iter().nth(n)
    })
    .await;
    let arg = serde_json::to_value(&el).unwrap();
    let _ = c
        .execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
        .await;
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css} #{n}: {e}"));
}

/// The innerText of every element matching `css`, in page order.
async fn texts_of(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for el in c.find_all(Locator::Css(css)).await.unwrap_or_default() {
        let text = el
            .prop("innerText")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        out.push(text.trim().to_string());
    }
    out
}

/// Waits until no reply is streaming (the window has finished and re-rendered).
async fn wait_idle(c: &Client) {
    wait_js(
        c,
        "the replies to end",
        "return !document.body.classList.contains('streaming')",
    )
    .await;
}

/// Waits until `script` (a function body) returns true in the page.
async fn wait_js(c: &Client, what: &str, script: &str) {
    wait_for(what, || async {
        let v = c.execute(script, vec![]).await.ok()?;
        (v == json!(true)).then_some(())
    })
    .await;
}

/// The message bodies on screen, in order (columns of a group included).
async fn bodies(c: &Client) -> Vec<String> {
    texts_of(c, "#messages .message .message-body").await
}

async fn wait_bodies(c: &Client, want: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let last = bodies(c).await;
        if last == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waiting for {want:?}, the page shows {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the conversation panel (if closed) and sets a field by its id, firing input and change.
async fn set_panel_field(c: &Client, id: &str, value: &str) {
    open_conversation_panel(c).await;
    let script = format!(
        "const el = document.getElementById('{id}'); el.value = arguments[0];
         el.dispatchEvent(new Event('input', {{bubbles: true}}));
         el.dispatchEvent(new Event('change', {{bubbles: true}}));"
    );
    c.execute(&script, vec![json!(value)]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerate_edit_and_navigate_versions() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server);
    let c = driver.session().await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;
    click(&c, "#toggle-conv-settings").await;
    send(&c, "first").await;
    last_reply(&c, "done").await;
    send(&c, "second").await;
    wait_bodies(&c, &["first", "Echo: first", "second", "Echo: second"]).await;

    // Regenerate the first reply: a new version replaces it on screen; the old one stays.
    click_nth(&c, "#messages .message.assistant button.regenerate", 0).await;
    wait_bodies(&c, &["first", "Echo: first"]).await;
    wait_for("the version counter 2/2", || async {
        let pos = texts_of(&c, "#messages .message.assistant .branch-pos").await;
        (pos == ["2/2"]).then_some(())
    })
    .await;
    // Back to version 1: the turns that followed it come back.
    click(&c, "#messages .message.assistant .branch-prev").await;
    wait_bodies(&c, &["first", "Echo: first", "second", "Echo: second"]).await;
    assert_eq!(
        texts_of(&c, "#messages .message.assistant .branch-pos").await,
        ["1/2"]
    );

    // Edit the second question: a new branch from the same point.
    click_nth(&c, "#messages .message.user button.edit", 1).await;
    type_into(&c, "#messages textarea.edit-input", "second, edited").await;
    click(&c, "#messages button.edit-send").await;
    wait_bodies(
        &c,
        &[
            "first",
            "Echo: first",
            "second, edited",
            "Echo: second, edited",
        ],
    )
    .await;
    wait_for("the edited question's counter", || async {
        let pos = texts_of(&c, "#messages .message.user .branch-pos").await;
        (pos == ["2/2"]).then_some(())
    })
    .await;
    let _ = std::fs::write(
        screenshot_dir().join("branches.png"),
        c.screenshot().await.unwrap(),
    );
    // The original wording and its answer are still there.
    click(&c, "#messages .message.user .branch-prev").await;
    wait_bodies(&c, &["first", "Echo: first", "second", "Echo: second"]).await;
    // After a restart of the window the chosen branch is the one shown.
    let rows = from_backend(&c, "list_conversations", "l => l.length").await;
    assert_eq!(rows, Some(json!(1)));
    let _ = c.close().await;
    drop(driver);
    let driver = Driver::start(data.path(), &server);
    let c = driver.session().await;
    click(&c, "#conversation-list li.conversation").await;
    wait_bodies(&c, &["first", "Echo: first", "second", "Echo: second"]).await;
    let _ = c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_choices_models_side_by_side_and_a_legacy_completion() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server);
    let c = driver.session().await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;

    // n = 3: three columns from one request; continue with the second.
    set_panel_field(&c, "n-choices", "3").await;
    wait_for("n to be saved", || async {
        let v = from_backend(&c, "list_conversations", "l => l[0].n").await?;
        (v == json!(3)).then_some(())
    })
    .await;
    send(&c, "pick").await;
    wait_bodies(
        &c,
        &[
            "pick",
            "Choice 1: Echo: pick",
            "Choice 2: Echo: pick",
            "Choice 3: Echo: pick",
        ],
    )
    .await;
    assert_eq!(server.requests().last().unwrap().body["n"], 3);
    wait_for("three finished columns", || async {
        let n = c
            .find_all(Locator::Css(
                ".reply-group .reply-column .message[data-status=done]",
            ))
            .await
            .ok()?
            .len();
        (n == 3).then_some(())
    })
    .await;
    let _ = std::fs::write(
        screenshot_dir().join("n-choices.png"),
        c.screenshot().await.unwrap(),
    );
    wait_idle(&c).await;
    click_nth(&c, ".reply-group .choose-reply", 1).await;
    wait_for("column 2 to be the current one", || async {
        // innerText: WebKitWebDriver reads ellipsised text as "".
        let label = texts_of(&c, ".reply-column.current .column-label").await;
        (label == ["Choice 2"]).then_some(())
    })
    .await;
    set_panel_field(&c, "n-choices", "").await;
    wait_for("n to be cleared", || async {
        let v = from_backend(&c, "list_conversations", "l => l[0].n").await?;
        v.is_null().then_some(())
    })
    .await;
    send(&c, "go on").await;
    wait_bodies(
        &c,
        &["pick", "Choice 2: Echo: pick", "go on", "Echo: go on"],
    )
    .await;
    let history = server.requests().last().unwrap().body["messages"].clone();
    assert_eq!(history[1]["content"], "Choice 2: Echo: pick");

    // Two models side by side; the slow one is stopped on its own.
    set_panel_field(&c, "compare-models", "test-slow-40").await;
    send(&c, "compare").await;
    wait_for("two columns streaming", || async {
        let labels = texts_of(&c, ".reply-group .column-label").await;
        (labels == ["test-model", "test-slow-40"]).then_some(())
    })
    .await;
    wait_for("the fast column to finish", || async {
        let s = attr_of(&c, ".reply-column:first-child .message", "data-status").await?;
        (s == "done").then_some(())
    })
    .await;
    click(&c, ".reply-column:last-child .column-stop").await;
    wait_for("the slow column to stop", || async {
        let s = attr_of(&c, ".reply-column:last-child .message", "data-status").await?;
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
    let _ = std::fs::write(
        screenshot_dir().join("side-by-side.png"),
        c.screenshot().await.unwrap(),
    );

    // The legacy completions endpoint: prompt in, text out.
    set_panel_field(&c, "compare-models", "").await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;
    set_panel_field(&c, "endpoint", "completions").await;
    wait_for("the endpoint to be saved", || async {
        let v = from_backend(&c, "list_conversations", "l => l[0].endpoint").await?;
        (v == "completions").then_some(())
    })
    .await;
    send(&c, "Roses are").await;
    assert_eq!(last_reply(&c, "done").await, "Echo: Roses are");
    let req = server.requests().last().unwrap().clone();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "Roses are");
    // The conversation's totals are shown beside its title.
    wait_for("the totals", || async {
        let t = c
            .execute(
                "return document.getElementById('conv-totals').textContent",
                vec![],
            )
            .await
            .ok()?;
        t.as_str()?.starts_with("1 reply · ").then_some(())
    })
    .await;
    let _ = c.close().await;
}

// ---------------------------------------------------------------------------------------------
// Rich replies (SECURITY.md W4–W7): Markdown, code, math, links, images.

/// Runs `body` (a JS function body ending in `return …`) in the page and returns its JSON value.
async fn js(c: &Client, body: &str) -> serde_json::Value {
    c.execute(body, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
}

/// A program for PARLEY_LINK_OPENER that appends each URL it gets to `log`.
fn link_opener(dir: &Path, log: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn opened(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for the link dialog in `state` ("confirm" or "refused"); returns (message, url) as shown.
async fn link_dialog(c: &Client, state: &str) -> (String, String) {
    wait_for(&format!("the link dialog ({state})"), || async {
        let v = js(
            c,
            "const d = document.getElementById('link-dialog');
             if (!d || !d.open) return null;
             return { state: d.dataset.state,
                      message: d.querySelector('.link-message').textContent,
                      url: d.querySelector('.link-url').hidden ? '' : d.querySelector('.link-url').textContent };",
        )
        .await;
        (v["state"] == state).then(|| {
            (
                v["message"].as_str().unwrap().to_string(),
                v["url"].as_str().unwrap().to_string(),
            )
        })
    })
    .await
}

async fn close_link_dialog(c: &Client) {
    click(c, "#link-dialog .link-cancel").await;
    wait_for("the link dialog to close", || async {
        let open = js(
            c,
            "const d = document.getElementById('link-dialog'); return !!(d && d.open);",
        )
        .await;
        (open == false).then_some(())
    })
    .await;
}

async fn click_link(c: &Client, href: &str) {
    let css = format!("{LAST_REPLY} .message-body a[href=\"{href}\"]");
    let el = wait_for(&css, || async { c.find(Locator::Css(&css)).await.ok() }).await;
    let arg = serde_json::to_value(&el).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
        .await
        .unwrap();
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_markdown_reply_renders_safely_and_links_ask_first() {
    let _one_at_a_time = SERIAL.lock().await;
    let key = "sk-e2e-render";
    let server = FakeOpenAi::start_with_key(key);
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("opened.txt");
    let opener = link_opener(data.path(), &log);
    let driver = Driver::start_with(
        data.path(),
        &server,
        &[
            ("OPENAI_API_KEY", key),
            ("PARLEY_LINK_OPENER", opener.to_str().unwrap()),
        ],
    );
    let c = driver.session().await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-hostile-markdown").await;
    send(&c, "Show me everything").await;
    last_reply(&c, "done").await;

    let v = js(
        &c,
        r#"const body = document.querySelector('#messages .message.assistant:last-of-type .message-body');
        const onAttrs = [];
        for (const el of document.querySelectorAll('*'))
          for (const a of el.attributes) if (a.name.toLowerCase().startsWith('on')) onAttrs.push(el.tagName + ' ' + a.name);
        const katexStyled = [...body.querySelectorAll('.katex [style]')];
        return {
          th: [...body.querySelectorAll('table th')].map(e => e.textContent),
          rightAligned: body.querySelectorAll('td.align-right').length,
          keywords: body.querySelectorAll('.code-block pre code.hljs.language-python span.hljs-keyword').length,
          codeLang: body.querySelector('.code-block .code-lang')?.textContent ?? null,
          code: body.querySelector('.code-block pre code')?.textContent ?? null,
          copyButtons: body.querySelectorAll('.code-block button.code-copy').length,
          katex: body.querySelectorAll('.katex').length,
          mathLabel: body.querySelector('.math-inline')?.getAttribute('aria-label') ?? null,
          katexStyled: katexStyled.length,
          katexStylesApplied: katexStyled.filter(e => e.style.length > 0).length,
          styleOutsideKatex: [...body.querySelectorAll('[style]')].filter(e => !e.closest('.katex')).length,
          scripts: document.querySelectorAll('#messages script, #messages style, #messages iframe, #messages object').length,
          svgsOutsideKatex: [...body.querySelectorAll('svg')].filter(e => !e.closest('.katex')).length,
          katexSvgParts: [...new Set([...body.querySelectorAll('.katex svg, .katex svg *')].map(e => e.tagName.toLowerCase()))].sort(),
          onAttrs,
          imgSrcs: [...document.querySelectorAll('#messages img')].map(i => i.getAttribute('src')),
          remoteSrcInDom: body.outerHTML.includes('src="https://example.com'),
          placeholders: [...body.querySelectorAll('a.remote-image')].map(a => a.getAttribute('href')),
          scriptLinks: [...document.querySelectorAll('a[href]')].filter(a => /^\s*(javascript|vbscript|data):/i.test(a.getAttribute('href'))).length,
          links: [...body.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
          pwned: window.__pwned ?? null,
          text: body.innerText,
          remoteRequests: performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('example.com')),
        };"#,
    )
    .await;
    let text = v["text"].as_str().unwrap();
    assert_eq!(v["th"], json!(["Name", "Value"]), "{v}");
    assert_eq!(v["rightAligned"], 2, "column alignment survives as a class");
    assert!(v["keywords"].as_u64().unwrap() >= 2, "highlighted: {v}");
    assert_eq!(v["codeLang"], "python");
    assert_eq!(
        v["code"],
        "def greet(name):\n    return f\"hello {name}\"\n"
    );
    assert_eq!(v["copyButtons"], 1);
    assert_eq!(v["katex"], 2, "{v}");
    assert_eq!(v["mathLabel"], "E=mc^2");
    assert!(v["katexStyled"].as_u64().unwrap() > 0);
    assert_eq!(
        v["katexStyled"], v["katexStylesApplied"],
        "the CSP lets KaTeX's inline styles apply"
    );
    assert_eq!(v["styleOutsideKatex"], 0);
    assert_eq!(v["scripts"], 0);
    assert_eq!(v["svgsOutsideKatex"], 0, "no SVG from the reply");
    // KaTeX draws the radical sign as SVG: only its own plain shapes are kept.
    assert_eq!(v["katexSvgParts"], json!(["path", "svg"]), "{v}");
    assert_eq!(v["onAttrs"], json!([]), "no inline handler anywhere");
    assert_eq!(v["imgSrcs"], json!([]), "no image element at all");
    assert_eq!(v["remoteSrcInDom"], false);
    assert_eq!(
        v["placeholders"],
        json!(["https://example.com/track.png"]),
        "the remote image is a placeholder link"
    );
    assert_eq!(v["scriptLinks"], 0, "javascript: is never a link");
    assert_eq!(v["pwned"], serde_json::Value::Null, "nothing ran");
    assert_eq!(
        v["remoteRequests"],
        json!([]),
        "no request left for example.com"
    );
    // Raw HTML and the javascript: links show as text, the reader sees what the model sent.
    assert!(
        text.contains("<script>window.__pwned = 'script'</script>"),
        "{text}"
    );
    assert!(text.contains("[run me](javascript:alert(1))"), "{text}");
    assert!(text.contains("Image not loaded: tracker"), "{text}");

    // The screenshot shows the whole reply: settings panel closed, reply scrolled into view.
    click(&c, "#toggle-conv-settings").await;
    js(
        &c,
        "document.querySelector('#messages .message.assistant:last-of-type').scrollIntoView({block: 'start'}); return null;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join("markdown-reply.png"), png).unwrap();

    // Copy puts the code on the clipboard.
    click(&c, &format!("{LAST_REPLY} .code-copy")).await;
    let label = wait_for("the copy result", || async {
        let t = text_of(&c, &format!("{LAST_REPLY} .code-copy")).await?;
        (t != "Copy").then_some(t)
    })
    .await;
    assert_eq!(label, "Copied");
    let via = attr_of(&c, &format!("{LAST_REPLY} .code-copy"), "data-via").await;
    eprintln!("copy went through: {via:?}");

    // An https link: the full URL is shown; Cancel opens nothing, Open hands exactly it to the opener.
    click_link(&c, "https://example.com/docs?q=1").await;
    let (_, url) = link_dialog(&c, "confirm").await;
    assert_eq!(url, "https://example.com/docs?q=1");
    close_link_dialog(&c).await;
    assert!(opened(&log).is_empty(), "Cancel opens nothing");
    click_link(&c, "https://example.com/docs?q=1").await;
    link_dialog(&c, "confirm").await;
    click(&c, "#link-dialog .link-open").await;
    wait_for("the URL to reach the opener", || async {
        (opened(&log) == ["https://example.com/docs?q=1"]).then_some(())
    })
    .await;

    // file:/// and calculator:// are refused with a clear reason, and never reach the opener.
    click_link(&c, "file:///etc/passwd").await;
    let (message, _) = link_dialog(&c, "refused").await;
    assert!(
        message.contains("\"file:\"") && message.contains("https"),
        "{message}"
    );
    close_link_dialog(&c).await;
    click_link(&c, "calculator://open").await;
    let (message, _) = link_dialog(&c, "refused").await;
    assert!(message.contains("\"calculator:\""), "{message}");
    close_link_dialog(&c).await;

    // The image placeholder, a middle click and window.open all take the same path.
    click_link(&c, "https://example.com/track.png").await;
    let (_, url) = link_dialog(&c, "confirm").await;
    assert_eq!(url, "https://example.com/track.png");
    close_link_dialog(&c).await;
    js(
        &c,
        "document.querySelector('#messages a[href=\"https://example.com/docs?q=1\"]')
           .dispatchEvent(new MouseEvent('auxclick', { button: 1, bubbles: true, cancelable: true }));
         return null;",
    )
    .await;
    let (_, url) = link_dialog(&c, "confirm").await;
    assert_eq!(url, "https://example.com/docs?q=1");
    close_link_dialog(&c).await;
    // Keyboard: Enter on the focused link.
    let link = c
        .find(Locator::Css(&format!(
            "{LAST_REPLY} .message-body a[href=\"https://example.com/docs?q=1\"]"
        )))
        .await
        .unwrap();
    link.send_keys("\u{e007}").await.unwrap();
    let (_, url) = link_dialog(&c, "confirm").await;
    assert_eq!(url, "https://example.com/docs?q=1");
    close_link_dialog(&c).await;
    let popup = js(
        &c,
        "return window.open('https://google.com@evil.example/', '_blank') === null;",
    )
    .await;
    assert_eq!(popup, true, "window.open never returns a window");
    let (message, _) = link_dialog(&c, "refused").await;
    assert!(message.contains("evil.example"), "{message}");
    close_link_dialog(&c).await;
    // The raw anchor the model wrote is text, not a link; no link became anything else.
    assert_eq!(opened(&log), ["https://example.com/docs?q=1"]);
    // Navigation away from the app is refused by the webview's guard (gui.rs).
    js(
        &c,
        "location.href = 'https://example.com/away'; return null;",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still_here = js(&c, "return location.href;").await;
    assert!(
        still_here
            .as_str()
            .unwrap()
            .starts_with("tauri://localhost"),
        "{still_here}"
    );
    let _ = c.close().await;
}

/// Streams `model`'s reply in the real webview and prints how the renderer kept up. Not a test of
/// timings (none are asserted): run with
/// `tests/run.sh --test e2e bench_streaming_render -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_streaming_render() {
    let _one_at_a_time = SERIAL.lock().await;
    let key = "sk-e2e-bench";
    let server = FakeOpenAi::start_with_key(key);
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start_with(data.path(), &server, &[("OPENAI_API_KEY", key)]);
    let c = driver.session().await;
    let models = std::env::var("PARLEY_BENCH_MODELS").unwrap_or_else(|_| {
        "test-markdown-50000 test-markdown-paced-20000 test-tokens-50000".into()
    });
    for model in models.split_whitespace() {
        click(&c, "#new-chat").await;
        set_conversation_model(&c, model).await;
        // Frame gaps as the page sees them (layout and paint included), and our own render time.
        js(
            &c,
            "window.__gaps = []; let last = performance.now();
             const tick = (now) => { window.__gaps.push(now - last); last = now;
               if (!window.__stopGaps) requestAnimationFrame(tick); };
             window.__stopGaps = false; requestAnimationFrame(tick);
             return null;",
        )
        .await;
        c.execute_async(
            "import('./js/render.js').then(m => { m.resetRenderStats(); window.__benchStart = performance.now(); arguments[0](null); })",
            vec![],
        )
        .await
        .unwrap();
        let sent = Instant::now();
        send(&c, "Go").await;
        let deadline = Instant::now() + Duration::from_secs(300);
        while attr_of(&c, LAST_REPLY, "data-status").await.as_deref() != Some("done") {
            assert!(Instant::now() < deadline, "the reply did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let streamed = sent.elapsed();
        // Time to display: from Send to the last block on screen (measured in the page).
        let deadline = Instant::now() + Duration::from_secs(180);
        let total_ms = loop {
            let v = c
                .execute_async(
                    "import('./js/render.js').then(m => arguments[0](m.renderBusy() ? null : m.renderStats().doneAt - window.__benchStart))",
                    vec![],
                )
                .await
                .unwrap();
            if let Some(ms) = v.as_f64() {
                break ms;
            }
            assert!(Instant::now() < deadline, "the reply was not filled in");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let stats = c
            .execute_async(
                "window.__stopGaps = true;
                 const done = arguments[0];
                 import('./js/render.js').then(async (m) => {
                   const s = m.renderStats();
                   const convs = await window.__TAURI__.core.invoke('list_conversations');
                   const msgs = await window.__TAURI__.core.invoke('get_messages', { conversationId: convs[0].id });
                   const text = msgs[msgs.length - 1].content;
                   // What a naive renderer would pay: the whole text so far, once per frame.
                   const naive = [];
                   for (let i = 1; i <= 10; i++) {
                     const t0 = performance.now();
                     m.renderMarkdown(text.slice(0, Math.floor(text.length * i / 10)));
                     naive.push(performance.now() - t0);
                   }
                   // Where the time goes, warm: Markdown (with KaTeX and highlight.js) vs sanitizing.
                   const md = await import('./js/markdown.js');
                   const parts = [];
                   for (let r = 0; r < 3; r++) {
                     const t0 = performance.now();
                     const html = md.markdownToHtml(text);
                     const t1 = performance.now();
                     window.DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true }, RETURN_DOM_FRAGMENT: true });
                     const t2 = performance.now();
                     parts.push([Math.round(t1 - t0), Math.round(t2 - t1), html.length]);
                   }
                   done({ frames: s.frames, finals: s.finals, gaps: window.__gaps, naive, chars: text.length, parts });
                 });",
                vec![],
            )
            .await
            .unwrap();
        let nums = |k: &str| -> Vec<f64> {
            let mut v: Vec<f64> = stats[k]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_f64())
                .collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v
        };
        let pct = |v: &[f64], p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            v[((v.len() - 1) as f64 * p).round() as usize]
        };
        let frames = nums("frames");
        let gaps = nums("gaps");
        let naive = stats["naive"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_f64())
            .collect::<Vec<_>>();
        let naive_mean = naive.iter().sum::<f64>() / naive.len() as f64;
        println!(
            "{model}: {} chars, stream done after {:.2} s, all on screen {:.2} s after Send; {} streaming renders: median {:.2} ms, p95 {:.2} ms, worst {:.2} ms, sum {:.0} ms; final render call {:.1} ms",
            stats["chars"],
            streamed.as_secs_f64(),
            total_ms / 1000.0,
            frames.len(),
            pct(&frames, 0.5),
            pct(&frames, 0.95),
            pct(&frames, 1.0),
            frames.iter().sum::<f64>(),
            nums("finals").last().copied().unwrap_or(0.0),
        );
        println!(
            "{model}: frame gaps (page, incl. layout): median {:.1} ms, p95 {:.1} ms, worst {:.1} ms over {} frames",
            pct(&gaps, 0.5),
            pct(&gaps, 0.95),
            pct(&gaps, 1.0),
            gaps.len()
        );
        println!(
            "{model}: naive full re-render of the text so far at 10%..100%: {} ms -> about {:.0} ms per frame on average, {:.0} s over the same {} frames",
            naive.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join("/"),
            naive_mean,
            naive_mean * frames.len() as f64 / 1000.0,
            frames.len()
        );
        println!(
            "{model}: whole text, warm, [markdown ms, sanitize ms, html bytes] x3: {}",
            stats["parts"]
        );
    }
    let _ = c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_a_reply_run_an_arena_round_and_see_the_leaderboard_change() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let exports = data.path().join("exports");
    let driver = Driver::start_with(
        data.path(),
        &server,
        &[("PARLEY_EXPORT_DIR", exports.to_str().unwrap())],
    );
    let c = driver.session().await;

    // Rate a reply: thumbs up, 4 of 5, a reason and a tag; then change it.
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;
    send(&c, "rate me").await;
    last_reply(&c, "done").await;
    click(&c, &format!("{LAST_REPLY} .rate-thumb[data-thumb='1']")).await;
    wait_for("the thumb to be saved", || async {
        attr_of(
            &c,
            &format!("{LAST_REPLY} .rate-thumb[data-thumb='1']"),
            "aria-pressed",
        )
        .await
        .filter(|v| v == "true")
    })
    .await;
    click(&c, &format!("{LAST_REPLY} .rate-score[data-score='4']")).await;
    wait_for("the score to be saved", || async {
        attr_of(
            &c,
            &format!("{LAST_REPLY} .rate-score[data-score='4']"),
            "aria-pressed",
        )
        .await
        .filter(|v| v == "true")
    })
    .await;
    click(&c, &format!("{LAST_REPLY} .rate-more")).await;
    click(&c, &format!("{LAST_REPLY} .chip[data-reason='accurate']")).await;
    type_into(&c, &format!("{LAST_REPLY} .rate-tags"), "e2e, fruit").await;
    click(&c, &format!("{LAST_REPLY} .rate-save")).await;
    let reply_id: i64 = attr_of(&c, LAST_REPLY, "data-id")
        .await
        .unwrap()
        .parse()
        .unwrap();
    let rating = wait_for("the rating in the database", || async {
        let v = js(
            &c,
            &format!(
                "return window.__TAURI__.core.invoke('get_rating', {{messageId: {reply_id}}});"
            ),
        )
        .await;
        (v["rating"]["tags"] == json!(["e2e", "fruit"])).then_some(v)
    })
    .await;
    assert_eq!(rating["rating"]["thumb"], 1);
    assert_eq!(rating["rating"]["score"], 4);
    assert_eq!(rating["rating"]["reasons"], json!(["accurate"]));
    // A change keeps the earlier rating in the history.
    click(&c, &format!("{LAST_REPLY} .rate-score[data-score='2']")).await;
    wait_for("the history", || async {
        let v = js(
            &c,
            &format!(
                "return window.__TAURI__.core.invoke('get_rating', {{messageId: {reply_id}}});"
            ),
        )
        .await;
        // thumb, then score, then reasons and tags were three states before this one.
        (v["rating"]["score"] == 2 && v["history"].as_array()?.len() == 3).then_some(())
    })
    .await;

    // Ask a judge about the same reply.
    click(&c, &format!("{LAST_REPLY} .rate-more")).await;
    type_into(&c, &format!("{LAST_REPLY} .judge-model"), "test-judge").await;
    click(&c, &format!("{LAST_REPLY} .judge-run")).await;
    let verdict = wait_for("the judge's verdict", || async {
        let t = texts_of(&c, &format!("{LAST_REPLY} .judge-verdict"))
            .await
            .pop()?;
        t.starts_with("test-judge: ").then_some(t)
    })
    .await;
    assert!(verdict.contains("/10"), "{verdict}");

    // An arena round: the names are nowhere in the page before the vote.
    click(&c, "#open-arena").await;
    // The judge graded a reply the user rated: it shows up in the agreement table.
    wait_for("the agreement table", || async {
        let cells = texts_of(&c, "#agreement td").await;
        (cells.first()? == "test-judge" && cells.get(2)? == "1").then_some(())
    })
    .await;
    type_into(&c, "#arena-pool", "gpt-north, gpt-south").await;
    type_into(&c, "#arena-prompt", "Which way?").await;
    click(&c, "#arena-start").await;
    wait_for("both sides", || async {
        let a = texts_of(&c, "#arena-a").await;
        let b = texts_of(&c, "#arena-b").await;
        (a == ["Echo: Which way?"] && b == ["Echo: Which way?"]).then_some(())
    })
    .await;
    wait_js(
        &c,
        "the vote buttons",
        "return !document.querySelector('.arena-vote').disabled",
    )
    .await;
    let html = c.source().await.unwrap();
    assert!(
        !html.contains("gpt-north\"")
            && !html.contains(">gpt-north<")
            && !html.contains("gpt-south<"),
        "a model name is in the DOM before the vote"
    );
    let page_text = js(&c, "return document.body.innerText;").await;
    let visible = page_text
        .as_str()
        .unwrap()
        .replace("gpt-north, gpt-south", "");
    assert!(!visible.contains("gpt-north") && !visible.contains("gpt-south"));
    click(&c, ".arena-vote[data-winner='a']").await;
    let reveal = wait_for("the reveal", || async {
        let t = texts_of(&c, "#arena-reveal").await.pop()?;
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
        let models = texts_of(&c, ".leaderboard .lb-model").await;
        let battles = texts_of(&c, ".leaderboard .lb-battles").await;
        (models.len() == 2 && models[0] == winner && battles == ["1", "1"]).then_some(())
    })
    .await;
    // The win-rate matrix: the winner beat the other once.
    wait_for("the win-rate matrix", || async {
        let cells = texts_of(&c, "#win-matrix td").await;
        (cells.contains(&"100% (1)".to_string()) && cells.contains(&"0% (1)".to_string()))
            .then_some(())
    })
    .await;
    let _ = std::fs::write(
        screenshot_dir().join("arena.png"),
        c.screenshot().await.unwrap(),
    );
    // A second round changes it.
    click(&c, "#arena-start").await;
    wait_js(
        &c,
        "the second round's vote buttons",
        "return document.getElementById('arena-reveal').hidden && !document.querySelector('.arena-vote').disabled",
    )
    .await;
    click(&c, ".arena-vote[data-winner='tie']").await;
    wait_for("two battles each", || async {
        let battles = texts_of(&c, ".leaderboard .lb-battles").await;
        (battles == ["2", "2"]).then_some(())
    })
    .await;
    // Ratings by model (the rated reply: score 2), drawn as charts, and exported.
    wait_for("the ratings table", || async {
        let models = texts_of(&c, "#ratings-view .rv-model").await;
        let means = texts_of(&c, "#ratings-view .rv-mean").await;
        (models == ["test-model"] && means == ["2.00"]).then_some(())
    })
    .await;
    wait_js(
        &c,
        "the charts",
        "return !!window.Chart && document.querySelectorAll('#ratings-view canvas').length === 2",
    )
    .await;
    click(&c, "#export-csv").await;
    let saved = wait_for("the export", || async {
        let t = texts_of(&c, "#export-status").await.pop()?;
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
    wait_js(
        &c,
        "the rubrics",
        "return document.getElementById('rubric-body').value.length > 0",
    )
    .await;
    js(
        &c,
        "document.getElementById('rubric-body').value = 'Grade 1 to 10 on accuracy only.'; return true;",
    )
    .await;
    click(&c, "#save-rubric").await;
    wait_for("version 2", || async {
        let t = texts_of(&c, "#rubric-status").await.pop()?;
        t.starts_with("Saved as version 2").then_some(())
    })
    .await;
    let versions = js(
        &c,
        "return window.__TAURI__.core.invoke('list_rubrics').then(l => l.map(r => r.name + ' v' + r.version));",
    )
    .await;
    assert!(
        versions.as_array().unwrap().contains(&json!("default v2")),
        "{versions}"
    );
    let _ = std::fs::write(
        screenshot_dir().join("ratings.png"),
        c.screenshot().await.unwrap(),
    );
    let _ = c.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_a_prompt_with_a_variable_insert_it_with_slash_fill_the_form_and_send() {
    let _one_at_a_time = SERIAL.lock().await;
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let driver = Driver::start(data.path(), &server);
    let c = driver.session().await;
    click(&c, "#new-chat").await;
    set_conversation_model(&c, "test-model").await;

    // Save a prompt with two variables in the library, then change it: version 2.
    click(&c, "#open-prompts").await;
    type_into(&c, "#prompt-name", "haiku").await;
    type_into(&c, "#prompt-title", "A haiku").await;
    type_into(
        &c,
        "#prompt-body",
        "Write a haiku about {{topic}} in a {{mood:choice(calm, wild)=calm}} mood",
    )
    .await;
    click(&c, "#prompt-save").await;
    wait_for("version 1", || async {
        let t = texts_of(&c, "#prompt-status").await.pop()?;
        t.starts_with("Saved as version 1").then_some(())
    })
    .await;
    type_into(
        &c,
        "#prompt-body",
        "Write one haiku about {{topic}} in a {{mood:choice(calm, wild)=calm}} mood",
    )
    .await;
    type_into(&c, "#prompt-message", "one haiku only").await;
    click(&c, "#prompt-save").await;
    wait_for("version 2 with its history", || async {
        let rows = texts_of(&c, "#prompt-history tbody tr").await;
        (rows.len() == 2 && rows[0].contains("one haiku only")).then_some(())
    })
    .await;
    click(&c, "#close-prompts").await;

    // "/" in the composer: filter, choose with the keyboard, fill the form, send.
    type_into(&c, "#composer", "/hai").await;
    wait_for("the slash menu", || async {
        let names = texts_of(&c, "#slash-list .slash-name").await;
        (names == ["/haiku"]).then_some(())
    })
    .await;
    c.find(Locator::Css("#composer"))
        .await
        .unwrap()
        .send_keys("\u{e007}")
        .await
        .unwrap();
    wait_js(
        &c,
        "the variables form",
        "return document.getElementById('vars-dialog').open",
    )
    .await;
    type_into(
        &c,
        "#vars-fields .var-input[data-var='topic']",
        "autumn rain",
    )
    .await;
    js(
        &c,
        "const s = document.querySelector(\"#vars-fields .var-input[data-var='mood']\"); s.value = 'wild'; return true;",
    )
    .await;
    click(&c, "#vars-insert").await;
    wait_for("the filled prompt in the composer", || async {
        let v = c
            .find(Locator::Css("#composer"))
            .await
            .ok()?
            .prop("value")
            .await
            .ok()??;
        (v == "Write one haiku about autumn rain in a wild mood").then_some(())
    })
    .await;
    click(&c, "#send").await;
    let reply = last_reply(&c, "done").await;
    assert_eq!(
        reply,
        "Echo: Write one haiku about autumn rain in a wild mood"
    );
    // The message records the version it came from: the use counts, and the version shows it.
    let uses = wait_for("the use to be counted", || async {
        let v = js(
            &c,
            "return window.__TAURI__.core.invoke('prompt_scores', {name: 'haiku'});",
        )
        .await;
        let sent = v[0]["uses"].as_i64()?;
        (sent == 1).then_some(v)
    })
    .await;
    assert_eq!(uses[0]["version"], 2);
    assert_eq!(uses[1]["uses"], 0);
    let _ = c.close().await;
}
