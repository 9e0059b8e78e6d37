//! First run: nothing set up, the window greets with a welcome, finds the server on this machine,
//! lists its models, and the first answer streams after two clicks (counted in the page).

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, App, Lab};
use crate::page::welcome;

/// The port a fake server listens on (the probe looks there as if it were Ollama's).
pub fn port_of(server: &FakeOpenAi) -> String {
    server
        .base_url()
        .trim_end_matches("/v1")
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

/// A window as a new user gets it: no profile, no key, no OPENAI_BASE_URL; the probe looks for
/// "Ollama" on `server`'s port.
pub async fn first_start(lab: &Lab, server: &FakeOpenAi) -> App {
    lab.app(server)
        .env("OPENAI_BASE_URL", "")
        .env("PARLEY_PROBE_PORTS", format!("Ollama={}", port_of(server)))
        .open()
        .await
}

/// Saves a screenshot under tests/screenshots/ (the ones the report points at) too.
pub async fn keep_screenshot(app: &App, name: &str) {
    // Two frames and a moment for the last change to be painted (a busy machine showed a frame
    // from before a theme switch).
    let _ = app
        .client()
        .execute_async(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            vec![],
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    app.screenshot(name).await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let _ = std::fs::copy(
        root.join("target/e2e-screenshots").join(name),
        root.join("tests/screenshots").join(name),
    );
}

/// Shrinks the window to its minimum size (640x420, tauri.conf.json) and waits for the page to
/// follow. Where the window manager refuses, the page is checked at the size it has.
pub async fn min_size(app: &App) {
    let _ = app.client().set_window_size(640, 420).await;
    app.wait_js(
        "the page at the window's new size",
        "return window.innerWidth <= 640 && window.innerHeight <= 420",
    )
    .await;
    // A moment for the window to repaint, so a screenshot shows the new layout.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
}

/// Counts every click the page receives from now on.
async fn count_clicks(app: &App) {
    app.js("window.__clicks = 0; document.addEventListener('click', () => { window.__clicks += 1; }, true); return true")
        .await;
}

async fn clicks(app: &App) -> u64 {
    app.js("return window.__clicks").await.as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_finds_the_local_server_and_answers_after_two_clicks() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = first_start(&lab, &server).await;
    count_clicks(&app).await;
    min_size(&app).await;

    // The welcome, with the server on this machine already found (no click to search).
    app.wait_js(
        "the welcome",
        "return !document.getElementById('welcome').hidden",
    )
    .await;
    let found = wait_for("the local server", || async {
        let names = app.texts_of(welcome::SERVERS).await;
        (!names.is_empty()).then_some(names)
    })
    .await;
    assert!(found[0].starts_with("Ollama"), "{found:?}");
    keep_screenshot(&app, "first-start.png").await;

    // Click 1: that server. Its models are shown as a list, its own first model suggested.
    app.click(welcome::SERVERS).await;
    let models = wait_for("the model list", || async {
        let m = app.texts_of(welcome::MODELS).await;
        (m.len() > 3).then_some(m)
    })
    .await;
    assert_eq!(models[0], "test-model");
    assert_eq!(app.texts_of(welcome::SUGGESTED_MODEL).await, ["test-model"]);
    keep_screenshot(&app, "welcome-models.png").await;

    // Click 2: a model. Then type and press Enter: the first answer streams.
    app.click(welcome::SUGGESTED_MODEL).await;
    app.wait_js(
        "the welcome to close",
        "return document.getElementById('welcome').hidden",
    )
    .await;
    app.send("hello from a new user").await;
    assert_eq!(app.last_reply("done").await, "Echo: hello from a new user");
    assert_eq!(
        clicks(&app).await,
        2,
        "clicks from first start to the first answer"
    );
    let chat = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(chat.body["model"], "test-model");
    assert_eq!(chat.header("authorization"), None);
    keep_screenshot(&app, "first-answer-min-size.png").await;

    // The new profile is the default, so a new chat uses it too, and the welcome stays away.
    let default = app.ask_backend("get_profile", "r => r.name").await.unwrap();
    assert_eq!(default, "Ollama");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_does_not_come_back_once_a_server_is_set_up() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    // The usual test setup (OPENAI_BASE_URL pointing at a server): nothing to welcome.
    let app = lab.open(&server).await;
    app.wait_js(
        "the empty chat",
        "return document.getElementById('welcome').hidden && !document.getElementById('empty-state').hidden",
    )
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_model_chosen_the_error_offers_the_servers_models_in_one_click() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    // The usual test setup: a server, but no model chosen anywhere.
    let app = lab.open(&server).await;
    app.send("which model?").await;
    let choices = wait_for("the models under the error", || async {
        let m = app.texts_of(welcome::MODEL_CHOICE).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert!(choices.iter().any(|m| m == "test-model"), "{choices:?}");
    keep_screenshot(&app, "no-model-choices.png").await;
    app.click(&format!(
        "{}[data-model='test-model']",
        welcome::MODEL_CHOICE
    ))
    .await;
    assert_eq!(app.last_reply("done").await, "Echo: which model?");
    app.close().await;
}

/// Start-up (issue 15): the first view is painted before the ~550 KB of Markdown, math and code
/// libraries are asked for (with no conversation to show, nothing on screen needs them); they
/// still arrive, since the page is ready only once replies render as Markdown. (WebKit keeps no
/// resource timing for the app's own scheme: markdown.js marks when it asks for the files.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_markdown_libraries_are_asked_for_only_after_the_first_view_is_shown() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let seen = app
        .js(
            "const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? null;
             return { shown: at('parley:shown'), renderer: at('parley:renderer'),
                      markdown: typeof window.markdownit === 'function' };",
        )
        .await;
    let shown = seen["shown"]
        .as_f64()
        .expect("the page marked its first view");
    let asked = seen["renderer"]
        .as_f64()
        .expect("markdown.js marked when it asked for the libraries");
    assert!(
        asked >= shown,
        "the libraries were asked for before the first view was shown: {seen}"
    );
    assert_eq!(seen["markdown"], true, "the libraries arrived: {seen}");
    app.close().await;
}

/// Start-up (issue 15): the page's code comes as one bundle (no module of ui/js/ is asked for)
/// and each file is fetched once. With WebKit's "document viewer" cache model (no memory cache)
/// every module the `modulepreload` links had fetched was fetched again when imported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_one_bundle_and_each_file_is_fetched_once() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let log = lab.data().join("window-trace.log");
    let app = lab
        .app(&server)
        .env("PARLEY_TRACE", "1")
        .stderr_to(&log)
        .open()
        .await;
    app.close().await;
    let text = std::fs::read_to_string(&log).unwrap();
    let mut served = std::collections::BTreeMap::<&str, usize>::new();
    for line in text.lines() {
        if let Some(path) = line.split(" ms served ").nth(1) {
            *served.entry(path.trim()).or_default() += 1;
        }
    }
    assert_eq!(served.get("/app.bundle.js"), Some(&1), "{served:?}");
    assert!(
        !served.keys().any(|path| path.starts_with("/js/")),
        "{served:?}"
    );
    let css: Vec<_> = served
        .iter()
        .filter(|(path, _)| path.starts_with("/css/"))
        .collect();
    assert!(css.len() > 5, "{served:?}");
    assert!(css.iter().all(|(_, n)| **n == 1), "{css:?}");
}

/// A server tried, then Back, then an OpenAI key: the key goes to an OpenAI profile, never to the
/// tried server (it was saved on that server's profile, the default of the moment, and sent there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_key_after_back_never_goes_to_the_server_tried_before() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = first_start(&lab, &server).await;
    wait_for("the local server", || async {
        (!app.texts_of(welcome::SERVERS).await.is_empty()).then_some(())
    })
    .await;
    app.click(welcome::SERVERS).await;
    wait_for("the model list", || async {
        (!app.texts_of(welcome::MODELS).await.is_empty()).then_some(())
    })
    .await;
    app.click("#welcome-back").await;
    app.type_into("#welcome-key", "sk-welcome-openai-0123456789")
        .await;
    app.click("#welcome-openai-go").await;
    let keyed = wait_for("the key saved", || async {
        let v = app
            .ask_backend(
                "list_profiles",
                "o => o.profiles.filter((p) => p.hasKey || p.keyHeldFor).map((p) => p.kind)",
            )
            .await?;
        (v.as_array()?.len() == 1).then_some(v)
    })
    .await;
    assert_eq!(keyed, serde_json::json!(["openai"]), "on an OpenAI profile");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "the tried server never saw the key"
    );
    app.close().await;
}
