//! Importing a large ChatGPT export in the window: a progress bar with a Cancel shows while it
//! runs, and a cancelled import leaves the history exactly as it was.

use std::fmt::Write as _;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::history;

/// A ChatGPT `conversations.json` of `n` conversations, each a line of `turns` messages of about a
/// kilobyte (English and Chinese): large enough that importing it takes a while.
fn big_chatgpt_export(n: usize, turns: usize) -> String {
    let vocab = history::Vocab::new();
    let mut rng = history::Rng::new(5);
    let mut out = String::from("[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"title":"Imported {i}","create_time":1700000000.0,"update_time":1700000100.0,"current_node":"n{last}","mapping":{{"root":{{"id":"root","message":null,"parent":null,"children":["n0"]}}"#,
            last = turns - 1
        );
        for k in 0..turns {
            let role = if k % 2 == 0 { "user" } else { "assistant" };
            let parent = if k == 0 {
                "root".to_string()
            } else {
                format!("n{}", k - 1)
            };
            let children = if k + 1 < turns {
                format!(r#"["n{}"]"#, k + 1)
            } else {
                "[]".into()
            };
            let text = serde_json::to_string(&vocab.text(&mut rng, 400)).unwrap();
            let _ = write!(
                out,
                r#","n{k}":{{"id":"n{k}","parent":"{parent}","children":{children},"message":{{"author":{{"role":"{role}"}},"content":{{"content_type":"text","parts":[{text}]}}}}}}"#
            );
        }
        out.push_str("}}");
    }
    out.push(']');
    out
}

fn counts(data: &std::path::Path) -> (i64, i64) {
    let (db, _) = parley_core::db::Db::open_dir(data).unwrap();
    db.with(|c| {
        Ok((
            c.query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))?,
            c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?,
        ))
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_shows_its_progress_and_cancel_stops_it_with_nothing_changed() {
    let lab = Lab::new().await;
    {
        let (db, _) = parley_core::db::Db::open_dir(lab.data()).unwrap();
        db.with(|c| {
            history::seed(c, 1, 4, 3);
            c.execute("UPDATE conversations SET title = 'Keep me'", [])?;
            Ok(())
        })
        .unwrap();
    }
    let before = counts(lab.data());
    let file = lab.data().join("conversations.json");
    std::fs::write(&file, big_chatgpt_export(6_000, 12)).unwrap();
    let server = FakeOpenAi::start();
    let app = lab
        .app(&server)
        .env("PARLEY_IMPORT_FILE", &file)
        .open()
        .await;
    app.click(crate::page::settings::OPEN).await;
    app.click("#import-conversations").await;
    // The bar moves while the file is read.
    wait_for("the import's progress", || async {
        let v = app
            .js("const p = document.querySelector('#import-progress progress'); return p ? p.value : 0;")
            .await;
        (v.as_f64().unwrap_or(0.0) > 0.0).then_some(())
    })
    .await;
    app.click("#import-cancel").await;
    let toast = wait_for("the cancelled import's notice", || async {
        app.texts_of(crate::page::sidebar::TOAST)
            .await
            .into_iter()
            .find(|t| t.contains("cancelled"))
    })
    .await;
    assert!(toast.contains("nothing was changed"), "{toast}");
    wait_for("the progress to go", || async {
        app.find("#import-progress").await.is_none().then_some(())
    })
    .await;
    assert_eq!(app.conversation_titles().await, ["Keep me"]);
    app.close().await;
    assert_eq!(counts(lab.data()), before);
}
