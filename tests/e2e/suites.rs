//! Evaluation suites in the window (issue 13): a two-case suite made in the editor from a table
//! pasted out of a spreadsheet, with two providers (two models of the local server, one picked
//! from the saved profile), run from the window: the progress bar reaches the end and the run is
//! recorded. A promptfooconfig.yaml with a CSV file imported through the Import button.
//! Screenshots of the library and the editor, light/dark, en/zh-CN, 640x420.

use std::time::Duration;

use serde_json::{json, Value};

use crate::fake_openai::FakeOpenAi;
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};

const OPEN: &str = "#open-suites";
const ROWS: &str = "#suite-list .suite-row";
const CASES: &str = "#suite-table tbody tr";
const GRID_CELLS: &str = "#suiteruns-dialog .sr-grid .sr-cell";

/// Sets a field's value as typing would (the page listens for `input`).
async fn fill(app: &App, css: &str, text: &str) {
    app.js_with(
        "const el = document.querySelector(arguments[0]); el.value = arguments[1];
         el.dispatchEvent(new Event('input', { bubbles: true })); return true",
        vec![json!(css), json!(text)],
    )
    .await;
}

async fn count(app: &App, css: &str) -> usize {
    app.find_all(css).await.len()
}

async fn wait_count(app: &App, what: &str, css: &str, n: usize) {
    wait_for(what, || async {
        (count(app, css).await == n).then_some(())
    })
    .await;
}

/// The window's run line once the run has ended: (state, bar value, bar max, text).
async fn finished(app: &App) -> (String, Value, Value, String) {
    app.wait_js(
        "the run to end",
        "const s = document.getElementById('suite-run').dataset.state; return s === 'done' || s === 'stopped' || s === 'error'",
    )
    .await;
    let v = app
        .js("const bar = document.getElementById('suite-run-bar');
             return [document.getElementById('suite-run').dataset.state, bar.value, bar.max,
                     document.getElementById('suite-run-text').textContent]")
        .await;
    (
        v[0].as_str().unwrap().to_string(),
        v[1].clone(),
        v[2].clone(),
        v[3].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_case_suite_pasted_in_the_window_runs_on_two_models_to_the_end_and_is_recorded() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(OPEN).await;
    app.click("#suite-new").await;
    app.type_into("#suite-name", "Sums").await;
    fill(&app, "#suite-prompts textarea", "Compute {{question}}").await;
    // Two providers: one typed, one picked from the saved profile and a model.
    app.click("#suite-add-provider").await; // nothing typed: nothing added
    assert_eq!(count(&app, "#suite-providers input").await, 0);
    app.type_into("#suite-pick-model", "suite-wait-20").await;
    app.click("#suite-add-provider").await;
    wait_count(&app, "the picked provider", "#suite-providers input", 1).await;
    let picked = app.value_of("#suite-providers input").await.unwrap();
    assert!(
        picked.starts_with("parley:") && picked.ends_with(":suite-wait-20"),
        "{picked}"
    );
    // The second is typed: picked first, then its id rewritten by hand.
    app.js(
        "document.querySelector('#suite-pick-model').value = 'suite-wait-30';
         document.querySelector('#suite-add-provider').click(); return true",
    )
    .await;
    wait_count(&app, "two providers", "#suite-providers input", 2).await;
    fill(
        &app,
        "#suite-providers .suite-item:nth-child(2) input",
        "openai:chat:suite-wait-30",
    )
    .await;
    // Cells copied from a spreadsheet (a header row, tab-separated), pasted into the table.
    app.js_with(
        "const dt = new DataTransfer(); dt.setData('text/plain', arguments[0]);
         const cell = document.querySelector('#suite-table .suite-cell');
         let ev;
         try { ev = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }); } catch { ev = null; }
         if (ev && ev.clipboardData) { cell.dispatchEvent(ev); return 'event'; }
         const box = document.getElementById('suite-paste-text');
         box.closest('details').open = true; box.value = arguments[0];
         document.getElementById('suite-paste-fill').click(); return 'box'",
        vec![json!("question\texpected\n2+2\tcontains: 2+2\n3+3\ticontains: echo\n")],
    )
    .await;
    wait_count(&app, "the two pasted cases", CASES, 2).await;
    let cells: Vec<String> = app
        .js("return [...document.querySelectorAll('#suite-table .suite-cell')].map(c => c.value)")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cells, ["2+2", "contains: 2+2", "3+3", "icontains: echo"]);
    app.click("#suite-save-run").await;
    let (state, value, max, text) = finished(&app).await;
    assert_eq!(state, "done", "{text}");
    assert_eq!(
        (value, max),
        (json!(4), json!(4)),
        "the bar reached the end"
    );
    assert!(text.contains("4 of 4 passed"), "{text}");
    // Recorded: the run and its four cells are in the database.
    let run_id: i64 = app
        .js("return Number(document.getElementById('suite-run').dataset.runId)")
        .await
        .as_i64()
        .unwrap();
    let db = rusqlite::Connection::open(lab.data().join("parley.db")).unwrap();
    let (status, cells): (String, i64) = db
        .query_row(
            "SELECT status, (SELECT count(*) FROM eval_results WHERE run_id = r.id) FROM eval_runs r WHERE id = ?1",
            [run_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((status.as_str(), cells), ("done", 4));
    // The finished run opens as its grid: two tests by two providers, every cell passed.
    wait_count(&app, "the run's grid", GRID_CELLS, 4).await;
    assert_eq!(
        count(&app, &format!("{GRID_CELLS}[data-pass='true']")).await,
        4
    );
    // Back in the library the suite is listed; run it again and compare the two runs.
    app.js("document.getElementById('suiteruns-dialog').close(); return true")
        .await;
    app.click("#suites-back").await;
    wait_count(&app, "the suite in the library", ROWS, 1).await;
    assert_eq!(app.texts_of("#suite-list .suite-row-name").await, ["Sums"]);
    app.click("#suite-list .suite-run-btn").await;
    app.wait_js(
        "the second run to end",
        &format!("const r = document.getElementById('suite-run'); return r.dataset.state === 'done' && Number(r.dataset.runId) !== {run_id}"),
    )
    .await;
    wait_count(&app, "the second run's grid", GRID_CELLS, 4).await;
    app.click("#sr-compare").await;
    let unchanged = wait_for("the comparison's counts", || async {
        app.text_of("#suiteruns-dialog .sr-count[data-count='unchanged'] strong")
            .await
    })
    .await;
    assert_eq!(
        unchanged.trim(),
        "4",
        "the same answers twice: nothing changed"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_promptfoo_suite_in_light_dark_english_and_chinese_at_the_minimum_size() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let dir = lab.data().join("suite-files");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("promptfooconfig.yaml"),
        "description: Capitals\nprompts: ['What is the capital of {{country}}?']\n\
         providers: [openai:chat:suite-wait-1500, openai:chat:suite-wait-2000]\ntests: file://cases.csv\n\
         evaluateOptions: {maxConcurrency: 1}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("cases.csv"),
        "country,__expected,__expected2\nFrance,icontains: france,not-contains: London\nJapan,contains: Japan,\"grade: names Tokyo\"\n",
    )
    .unwrap();
    let exports = lab.data().join("exports");
    let app = lab
        .app(&server)
        .env("PARLEY_IMPORT_SUITE", dir.join("promptfooconfig.yaml"))
        .env("PARLEY_EXPORT_DIR", &exports)
        .open()
        .await;
    app.click(OPEN).await;
    app.click("#suite-import").await;
    wait_count(&app, "the imported suite", ROWS, 1).await;
    assert_eq!(
        app.texts_of("#suite-list .suite-row-name").await,
        ["Capitals"]
    );
    for (lang, theme) in [
        ("en", "light"),
        ("en", "dark"),
        ("zh-CN", "light"),
        ("zh-CN", "dark"),
    ] {
        app.js_with(
            "localStorage.setItem('parley.theme', arguments[1]); localStorage.setItem('parley.lang', arguments[0]);
             window.__oldPage = true; location.reload(); return true",
            vec![json!(lang), json!(theme)],
        )
        .await;
        app.wait_js(
            "the reloaded page",
            "return !window.__oldPage && document.readyState === 'complete' && !!document.getElementById('open-suites')",
        )
        .await;
        min_size(&app).await;
        app.click(OPEN).await;
        wait_count(&app, "the library", ROWS, 1).await;
        keep_screenshot(&app, &format!("suites-{lang}-{theme}-640x420.png")).await;
        // A run under way: the bar, the time left and Stop; then stopped, finished cells kept
        // (cells finished in an earlier language come from the cache).
        app.click("#suite-list .suite-run-btn").await;
        app.wait_js(
            "a first finished cell",
            "const box = document.getElementById('suite-run');
             return box.dataset.state !== 'running' || document.getElementById('suite-run-bar').value >= 1",
        )
        .await;
        keep_screenshot(&app, &format!("suite-run-{lang}-{theme}-640x420.png")).await;
        if app
            .js("return document.getElementById('suite-run').dataset.state")
            .await
            == json!("running")
        {
            app.click("#suite-run-cancel").await;
        }
        let (state, value, _, text) = finished(&app).await;
        if lang == "en" && theme == "light" {
            assert_eq!(state, "stopped", "{text}");
            let kept = value.as_i64().unwrap();
            assert!((1..4).contains(&kept), "{text}");
            assert!(text.contains(&format!("{kept} of 4 cells kept")), "{text}");
        }
        // The finished run opens as its grid (the runs view): back to the library.
        app.wait_js(
            "the run's grid",
            "return !!document.getElementById('suiteruns-dialog')?.open",
        )
        .await;
        app.js("document.getElementById('suiteruns-dialog').close(); return true")
            .await;
        app.click("#suite-list .suite-edit").await;
        wait_count(&app, "the cases", CASES, 2).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        keep_screenshot(&app, &format!("suite-editor-{lang}-{theme}-640x420.png")).await;
        app.js("document.getElementById('suite-providers').scrollIntoView({ block: 'center' }); return true")
            .await;
        keep_screenshot(&app, &format!("suite-providers-{lang}-{theme}-640x420.png")).await;
        // Scrolled to the table of cases.
        app.js("document.getElementById('suite-table-wrap').scrollIntoView({ block: 'center' }); return true")
            .await;
        keep_screenshot(&app, &format!("suite-cases-{lang}-{theme}-640x420.png")).await;
    }
    app.js("localStorage.removeItem('parley.theme'); localStorage.removeItem('parley.lang'); return true")
        .await;
    // Exported as every other export: whole, readable by its owner only.
    app.js("document.querySelectorAll('dialog[open]').forEach((d) => d.close()); return true")
        .await;
    // It opens again on the suite being edited (nothing typed is lost); Back: the library.
    app.click(OPEN).await;
    app.wait_js(
        "the editor, as it was left",
        "return !document.getElementById('suite-editor').hidden",
    )
    .await;
    app.click("#suites-back").await;
    wait_count(&app, "the library", ROWS, 1).await;
    app.click("#suite-list .suite-export").await;
    let file = crate::fixture::wait_for("the exported suite", || async {
        let entry = std::fs::read_dir(&exports).ok()?.flatten().next()?;
        let path = entry.path();
        (path.extension()? == "yaml").then_some(path)
    })
    .await;
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    assert!(std::fs::read_to_string(&file).unwrap().contains("Capitals"));
    app.close().await;
}
