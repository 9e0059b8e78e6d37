//! Suite runs in the window (issue 13): two runs of a two-case, two-provider suite made against
//! the fake server through the core (as `parley eval run` does, same data directory), then the
//! Runs list, a run's grid with pass/fail, a cell opened as a reply and rated, and the two runs
//! compared with their fixed/broken counts. Screenshots of the list, grid and compare at the
//! minimum size in light and dark, English and Chinese.

use std::path::Path;
use std::sync::Arc;

use parley_core::chat::EnvFallback;
use parley_core::eval::suite::config;
use parley_core::eval::suite::runner::RunOptions;
use parley_core::secrets::MemoryStore;
use tokio_util::sync::CancellationToken;

use crate::fake_openai::FakeOpenAi;
use crate::feedback::{set_look, LOOKS};
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{messages, rating};

const OPEN: &str = "#open-suite-runs";
const RUN_ROWS: &str = "#suiteruns-dialog .sr-run-row";
const CELLS: &str = "#suiteruns-dialog .sr-grid .sr-cell";

/// The suite; the second run's assertions differ (same labels): "ann" breaks, "bob" is fixed.
fn suite_yaml(second: bool) -> String {
    let (ann, bob) = if second {
        ("Nobody", "Bob")
    } else {
        ("Ann", "Zed")
    };
    format!(
        "description: greetings\n\
         prompts: ['Say hi to {{{{name}}}}']\n\
         providers: [openai:chat:suite-wait-0, openai:chat:suite-wait-1]\n\
         tests:\n\
         \x20 - description: ann\n\
         \x20   vars: {{name: Ann}}\n\
         \x20   assert: [{{type: contains, value: '{ann}'}}]\n\
         \x20 - description: bob\n\
         \x20   vars: {{name: Bob}}\n\
         \x20   assert: [{{type: contains, value: '{bob}'}}]\n"
    )
}

/// Runs each suite text in turn, stored in `data` (the service is closed before the window opens).
async fn run_suites(data: &Path, server: &FakeOpenAi, texts: &[String]) {
    let env = EnvFallback {
        api_key: None,
        base_url: Some(server.base_url()),
    };
    let (svc, _) = parley_core::open_service(data, Arc::new(MemoryStore::default()), env).unwrap();
    for (i, text) in texts.iter().enumerate() {
        let path = data.join(format!("suite-{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let suite = config::load(&path).unwrap().suite;
        let opts = RunOptions {
            concurrency: 16,
            use_cache: false,
            filter: None,
            config_path: Some(path.display().to_string()),
        };
        svc.run_suite(&suite, &opts, &CancellationToken::new(), &mut |_| {})
            .await
            .unwrap();
    }
}

async fn count_rows(app: &App, n: usize) {
    count(app, "#suiteruns-dialog .sr-grid .sr-grid-row", n).await;
}

async fn count(app: &App, css: &str, n: usize) {
    wait_for(&format!("{n} of {css}"), || async {
        (app.find_all(css).await.len() == n).then_some(())
    })
    .await;
}

/// Opens the Runs list: the sidebar's button once, then (at the minimum size, where the sidebar
/// may be folded away) the module's own entry point, as the suites editor calls it.
async fn open_list(app: &App, click: bool) {
    app.js("document.getElementById('suiteruns-dialog')?.close(); return true")
        .await;
    if click {
        app.click(OPEN).await;
    } else {
        app.js("import('./app.bundle.js').then((m) => m.suiteruns).then(m => m.showRuns()); return true")
            .await;
    }
}

async fn open_run(app: &App, id: i64) {
    open_list(app, false).await;
    count(app, RUN_ROWS, 2).await;
    app.click(&format!("{RUN_ROWS}[data-run-id='{id}'] .sr-link"))
        .await;
    count(app, CELLS, 4).await;
}

async fn compare(app: &App) {
    open_run(app, 2).await;
    app.click("#sr-compare").await;
    wait_for("the counts of the comparison", || async {
        app.text_of("#suiteruns-dialog .sr-count[data-count='fixed'] strong")
            .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn see_a_runs_grid_rate_a_cell_and_compare_two_runs() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    run_suites(lab.data(), &server, &[suite_yaml(false), suite_yaml(true)]).await;
    let app = lab.open(&server).await;

    // The first run: "ann" passes and "bob" fails on both providers.
    open_list(&app, true).await;
    count(&app, RUN_ROWS, 2).await;
    open_run(&app, 1).await;
    let pass: Vec<String> = {
        let mut v = Vec::new();
        for c in app.find_all(CELLS).await {
            v.push(c.attr("data-pass").await.unwrap().unwrap());
        }
        v
    };
    assert_eq!(pass, ["true", "true", "false", "false"]);
    let summary = app.texts_of("#suiteruns-dialog .sr-summary-row").await;
    assert_eq!(summary.len(), 2);
    assert!(summary[0].contains("50%"), "{summary:?}");

    // A cell opens as a reply in the chat view, rated like any other.
    app.click(&format!("{CELLS}[data-test='1'] .sr-cell-btn"))
        .await;
    let text = app.last_reply("done").await;
    assert_eq!(text.trim(), "Echo: Say hi to Bob");
    let thumb = messages::in_last_reply(rating::THUMB_UP);
    app.click(&thumb).await;
    wait_for("the thumb to be saved", || async {
        app.attr_of(&thumb, "aria-pressed")
            .await
            .filter(|v| v == "true")
    })
    .await;

    // The second run against the first: "bob" fixed and "ann" broken on both providers.
    compare(&app).await;
    let n = |d: &'static str| {
        let app = &app;
        async move {
            app.text_of(&format!(
                "#suiteruns-dialog .sr-count[data-count='{d}'] strong"
            ))
            .await
            .unwrap()
        }
    };
    assert_eq!(
        (n("fixed").await, n("broken").await, n("unchanged").await),
        ("2".to_string(), "2".to_string(), "0".to_string())
    );
    assert_eq!(
        app.find_all("#suiteruns-dialog .sr-compare .sr-cell")
            .await
            .len(),
        4
    );

    // Screenshots at the minimum size: the list, the grid, the comparison.
    min_size(&app).await;
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        compare(&app).await;
        keep_screenshot(
            &app,
            &format!("suiteruns-compare-{lang}-{theme}-640x420.png"),
        )
        .await;
        open_run(&app, 1).await;
        keep_screenshot(&app, &format!("suiteruns-grid-{lang}-{theme}-640x420.png")).await;
        app.click("#suiteruns-dialog .sr-back").await;
        count(&app, RUN_ROWS, 2).await;
        keep_screenshot(&app, &format!("suiteruns-list-{lang}-{theme}-640x420.png")).await;
        app.click("#close-suite-runs").await;
    }
    app.js("localStorage.removeItem('parley.theme'); localStorage.removeItem('parley.lang'); return true")
        .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_case_run_shows_its_grid_a_hundred_tests_at_a_time() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let tests: String = (0..1000)
        .map(|i| format!("  - vars: {{q: 'question {i}'}}\n    assert: [{{type: contains, value: 'question {i}'}}]\n"))
        .collect();
    let yaml =
        format!("prompts: ['{{{{q}}}}']\nproviders: [openai:chat:suite-wait-0]\ntests:\n{tests}");
    run_suites(lab.data(), &server, &[yaml]).await;
    let app = lab.open(&server).await;
    app.js(
        "import('./app.bundle.js').then((m) => m.suiteruns).then(m => m.showRun(1)); return true",
    )
    .await;
    count_rows(&app, 100).await;
    assert!(app
        .text_of("#suiteruns-dialog .sr-pager")
        .await
        .unwrap()
        .contains("1–100"));
    app.click("#suiteruns-dialog .sr-next").await;
    // The row header sticks to the left edge; WebDriver's visible text skips it, its text does not.
    let first = "return document.querySelector('#suiteruns-dialog .sr-grid tbody th').textContent";
    wait_for("the second page", || async {
        app.js(first)
            .await
            .as_str()
            .filter(|t| *t == "q=question 100")
            .map(|_| ())
    })
    .await;
    count_rows(&app, 100).await;
    app.close().await;
}
