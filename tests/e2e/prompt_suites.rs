//! A saved prompt's versions with their evaluation-suite pass rates in the library's history
//! (the latest run of each version, and how many runs used it); light/dark, en/zh-CN, 640x420.

use parley_core::db::suites::{self, Grid, ResultRow};
use parley_core::db::{suite_prompts, Db};
use parley_core::prompts::library::{self, Draft};

use crate::fake_openai::FakeOpenAi;
use crate::feedback::{set_look, LOOKS};
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, Lab};
use crate::page::prompts;

/// Two versions of `summarise`; run 1 used v1 (2 of 2 passed), run 2 used v2 (1 of 2 passed).
fn seed(data: &std::path::Path) {
    let (db, _) = Db::open_dir(data).unwrap();
    let row = |test: usize, pass: bool| ResultRow {
        prompt: 0,
        provider: 0,
        test,
        output: String::new(),
        error: None,
        pass,
        score: f64::from(u8::from(pass)),
        assertions: "[]".into(),
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
        cost_usd: None,
        cached: false,
    };
    let draft = |body: &str| Draft {
        title: "Summary".into(),
        body: body.into(),
        ..Default::default()
    };
    db.with(|c| {
        let v1 = library::save(c, "summarise", draft("Summarise {{text}}."), "")?;
        let v2 = library::save(c, "summarise", draft("Shorten {{text}}."), "shorter")?;
        for (version, passes) in [(v1.latest.id, [true, true]), (v2.latest.id, [true, false])] {
            let run = suites::create_run(c, "", None, &Grid::default(), 2)?;
            suite_prompts::record(c, run, &[(0, version)])?;
            suites::insert_results(c, run, &[row(0, passes[0]), row(1, passes[1])])?;
        }
        Ok(())
    })
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompts_history_shows_each_versions_suite_pass_rate() {
    let lab = Lab::new().await;
    seed(lab.data());
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(prompts::OPEN).await;
    app.click("#prompt-list li[data-name='summarise'] button")
        .await;
    wait_for("the suite pass rates in the history", || async {
        let rows = app.texts_of(prompts::HISTORY_ROWS).await;
        (rows.len() == 2
            && rows[0].contains("50% (run #2; runs: 1)")
            && rows[1].contains("100% (run #1; runs: 1)"))
        .then_some(())
    })
    .await;
    min_size(&app).await;
    app.js_with(
        "const h = document.querySelector('#prompt-history'); h.scrollIntoView(); \
         h.scrollLeft = h.scrollWidth; return null;",
        vec![],
    )
    .await;
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        if lang != "en" {
            wait_for("the history in the new language", || async {
                let rows = app.texts_of(prompts::HISTORY_ROWS).await;
                rows.first()?.contains("共 1 次").then_some(())
            })
            .await;
        }
        keep_screenshot(
            &app,
            &format!("prompt-suite-rate-{lang}-{theme}-640x420.png"),
        )
        .await;
    }
    set_look(&app, "en", "light").await;
}
