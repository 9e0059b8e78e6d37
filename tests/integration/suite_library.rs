//! The suite library through the window's commands (Tauri's mock runtime): a promptfoo config with
//! a CSV file imported, edited, written back as YAML that reads as the same suite; a run with
//! progress on a channel against the fake server, recorded; Stop keeps every finished cell.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use parley_core::chat::suite_library::RunRequest;
use parley_core::eval::suite::config;
use parley_desktop::commands::state::AppState;
use serde_json::{json, Value};
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::Manager;

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;
use crate::ipc::{app, invoke};

const CONFIG: &str = "description: Capitals from a CSV
prompts: ['Capital of {{country}}?']
providers: [openai:chat:suite-wait-0]
tests: file://cases.csv
";

#[test]
fn a_promptfoo_config_with_a_csv_file_is_imported_edited_and_written_back_the_same() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let files = dir.path().join("suite");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("promptfooconfig.yaml"), CONFIG).unwrap();
    std::fs::write(
        files.join("cases.csv"),
        "country,__expected\nFrance,icontains: france\nJapan,contains: Japan\n",
    )
    .unwrap();
    let (app, w) = app(&dir.path().join("data"), &server);
    // The open dialog answers with the file (the test's stand-in for a click).
    std::env::set_var("PARLEY_IMPORT_SUITE", files.join("promptfooconfig.yaml"));
    let info = invoke(&w, "import_suite", json!({})).unwrap();
    assert_eq!(info["name"], "Capitals from a CSV");
    let id = info["id"].as_i64().unwrap();
    let saved = invoke(&w, "load_suite", json!({"id": id})).unwrap();
    assert_eq!(saved["cells"], 2);
    assert_eq!(
        saved["doc"]["table"]["columns"],
        json!(["country", "__expected"])
    );
    assert_eq!(
        saved["doc"]["table"]["rows"][0],
        json!(["France", "icontains: france"])
    );
    // The CSV was read from the config's folder and inlined: the stored YAML stands alone.
    let yaml = saved["yaml"].as_str().unwrap();
    assert!(!yaml.contains("file://"), "{yaml}");

    // Edited in the window: a case pasted from a spreadsheet, a second provider.
    let pasted = invoke(
        &w,
        "paste_suite_table",
        json!({"text": "country\tExpected\nItaly\tgrade: names Rome\n"}),
    )
    .unwrap();
    let mut doc = saved["doc"].clone();
    let row = pasted["rows"][0].clone();
    doc["table"]["rows"].as_array_mut().unwrap().push(row);
    doc["providers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "openai:chat:suite-wait-1"}));
    let again = invoke(
        &w,
        "save_suite",
        json!({"id": id, "name": "Capitals", "doc": doc}),
    )
    .unwrap();
    assert_eq!(
        (again["info"]["name"].clone(), again["cells"].clone()),
        (json!("Capitals"), json!(6))
    );

    // Exported, the file is promptfoo YAML that reads back as the suite the window shows.
    let service = app.state::<AppState>().service().unwrap();
    let (file_name, text) = service.export_suite(id).unwrap();
    assert_eq!(file_name, "Capitals.promptfooconfig.yaml");
    let out = dir.path().join(&file_name);
    std::fs::write(&out, &text).unwrap();
    let read = config::load(&out).unwrap().suite;
    assert_eq!(read.tests.len(), 3);
    assert_eq!(read.tests[2].vars["country"], "Italy");
    assert_eq!(read.tests[2].assertions[0].kind(), "llm-rubric");
    assert_eq!(
        parley_core::eval::suite::doc::from_suite(&read),
        serde_json::from_value(again["doc"].clone()).unwrap()
    );

    // A bad cell is refused with its place; nothing is lost.
    let mut bad = again["doc"].clone();
    bad["table"]["rows"][1][1] = json!("regex: (");
    let err = invoke(
        &w,
        "save_suite",
        json!({"id": id, "name": "Capitals", "doc": bad}),
    )
    .unwrap_err();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("row 2, column `__expected`"),
        "{err}"
    );
    let kept = invoke(&w, "load_suite", json!({"id": id})).unwrap();
    assert_eq!(kept["cells"], 6);
    // An unsupported key is named with its line.
    std::fs::write(
        files.join("promptfooconfig.yaml"),
        format!("{CONFIG}sharing: true\n"),
    )
    .unwrap();
    let err = invoke(&w, "import_suite", json!({})).unwrap_err();
    let msg = err["message"].as_str().unwrap();
    assert!(msg.contains("sharing") && msg.contains("line 5"), "{msg}");
    std::env::remove_var("PARLEY_IMPORT_SUITE");
    assert_eq!(
        invoke(&w, "list_suites", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn doc(providers: &[&str], cases: usize) -> Value {
    let rows: Vec<Value> = (0..cases)
        .map(|i| json!([format!("question {i}"), format!("contains: question {i}")]))
        .collect();
    json!({
        "description": "",
        "prompts": [{"text": "{{q}}"}],
        "providers": providers.iter().map(|p| json!({"id": p})).collect::<Vec<_>>(),
        "table": {"columns": ["q", "__expected"], "rows": rows},
    })
}

fn progress_sink() -> (
    Arc<Mutex<Vec<Value>>>,
    Channel<parley_core::chat::suite_library::RunProgress>,
) {
    let captured: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = captured.clone();
    let channel = Channel::new(move |body: InvokeResponseBody| {
        sink.lock()
            .unwrap()
            .push(body.deserialize::<Value>().unwrap());
        Ok(())
    });
    (captured, channel)
}

#[tokio::test]
async fn a_suite_run_from_the_window_reports_progress_to_the_end_and_is_recorded() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (app, w) = app(dir.path(), &server);
    let saved = invoke(
        &w,
        "save_suite",
        json!({"id": null, "name": "two by two", "doc": doc(&["openai:chat:suite-wait-5", "openai:chat:suite-wait-6"], 2)}),
    )
    .unwrap();
    let id = saved["info"]["id"].as_i64().unwrap();
    let (captured, channel) = progress_sink();
    let request = RunRequest {
        suite_id: id,
        concurrency: Some(2),
        use_cache: false,
        run_key: "suite-run-1".into(),
    };
    let summary = parley_desktop::commands::suites_edit::run_library_suite(
        app.state::<AppState>(),
        request,
        channel,
    )
    .await
    .unwrap();
    assert_eq!((summary.progress.done, summary.progress.total), (4, 4));
    assert_eq!((summary.progress.passed, summary.cancelled), (4, false));
    let events = captured.lock().unwrap().clone();
    assert_eq!(events.first().unwrap()["done"], 0);
    assert_eq!(events.last().unwrap()["done"], 4);
    assert_eq!(events.last().unwrap()["total"], 4);
    // Recorded: the run, under the suite's name, with its four cells.
    let service = app.state::<AppState>().service().unwrap();
    let (run, cells) = service.suite_run(summary.run_id).unwrap();
    assert_eq!(
        (run.status.as_str(), run.description.as_str()),
        ("done", "two by two")
    );
    assert_eq!(run.config_path.as_deref(), Some("library:two by two"));
    assert_eq!(cells.len(), 4);
}

#[test]
fn stopping_a_window_run_stops_at_once_and_keeps_every_finished_cell() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (app, w) = app(dir.path(), &server);
    let saved = invoke(
        &w,
        "save_suite",
        json!({"id": null, "name": "slow", "doc": doc(&["openai:chat:suite-wait-150"], 40)}),
    )
    .unwrap();
    let service = app.state::<AppState>().service().unwrap();
    let seen: Arc<Mutex<usize>> = Arc::default();
    let sink = seen.clone();
    let request = RunRequest {
        suite_id: saved["info"]["id"].as_i64().unwrap(),
        concurrency: Some(2),
        use_cache: false,
        run_key: "suite-run-stop".into(),
    };
    let done = service.spawn_suite_run(request, move |p| *sink.lock().unwrap() = p.done);
    while *seen.lock().unwrap() < 3 {
        std::thread::sleep(Duration::from_millis(10));
    }
    // Stop is the page's cancel_stream with the run's key.
    assert_eq!(
        invoke(&w, "cancel_stream", json!({"streamId": "suite-run-stop"})).unwrap(),
        true
    );
    let summary = done.blocking_recv().unwrap().unwrap();
    assert!(summary.cancelled);
    assert!(
        summary.progress.done >= 3 && summary.progress.done < 40,
        "{:?}",
        summary.progress
    );
    let (run, cells) = service.suite_run(summary.run_id).unwrap();
    assert_eq!(run.status, "cancelled");
    assert_eq!(
        cells.len(),
        summary.progress.done,
        "every finished cell is kept"
    );
    // The key is free again: nothing of the run is left registered.
    assert_eq!(
        invoke(&w, "cancel_stream", json!({"streamId": "suite-run-stop"})).unwrap(),
        false
    );
}
