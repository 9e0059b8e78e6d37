//! The data the hostile-text test opens the window on (issue 14): the payload corpus in every
//! stored field the page shows. Conversations arrive through the real importers (a Parley JSON
//! export and a ChatGPT conversations.json, both full of payloads); folder and tag names, titles,
//! prompts, a rubric and a judge verdict are written straight into the database, past the
//! validation the app applies, as a damaged or older file could hold them.
//! Attachment names (image names and text-file names as fence info strings) and a stored suite
//! run (description, grid labels, outputs, errors, assertion reasons) are seeded the same way.

use std::path::Path;

use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// Groups of payloads small enough to show in one title, folder or tag name.
pub const GROUP: usize = 24;

/// Every payload, one per line (what a reply or a message body carries).
pub fn corpus(payloads: &[String]) -> String {
    payloads.join("\n\n")
}

/// Writes the seeded data into `dir` (the lab's data folder), before the window opens.
pub fn seed(dir: &Path, payloads: &[String]) {
    let all = corpus(payloads);
    // A scratch database with one conversation that uses every column the page renders, exported
    // to Parley JSON: the lab's database gets it through the importer.
    let scratch = tempfile::tempdir().unwrap();
    let export = scratch.path().join("hostile-parley.json");
    {
        let (db, _) = parley_core::db::Db::open_dir(scratch.path()).unwrap();
        db.with(|c| {
            rich_conversation(c, payloads, &all);
            let mut out = std::fs::File::create(&export).unwrap();
            parley_core::transfer::export(
                c,
                &parley_core::transfer::Selection::All,
                parley_core::transfer::Format::Json,
                &mut out,
            )?;
            Ok(())
        })
        .unwrap();
    }
    let chatgpt = scratch.path().join("conversations.json");
    std::fs::write(&chatgpt, chatgpt_export(payloads).to_string()).unwrap();

    let (db, _) = parley_core::db::Db::open_dir(dir).unwrap();
    db.with(|c| {
        for file in [&export, &chatgpt] {
            let summary = parley_core::transfer::import_file(c, file, &mut |_| true)?;
            assert!(summary.conversations >= 1, "{summary:?}");
        }
        stored_names(c, payloads, &all);
        attachment_names(c, payloads);
        suite_run(c, payloads, &all);
        Ok(())
    })
    .unwrap();
}

/// One conversation: a user message with the corpus, a reply with it as text, reasoning, token
/// probabilities and a judge verdict (with a hostile rubric), a tool call with it as arguments,
/// and a failed reply with it as the server's error.
fn rich_conversation(c: &Connection, payloads: &[String], all: &str) {
    c.execute(
        "INSERT INTO conversations(title, system_prompt, model, created_at, updated_at)
         VALUES ('Hostile rich', ?1, 'test-model', 1000, 1000)",
        [all],
    )
    .unwrap();
    let conv = c.last_insert_rowid();
    let logprobs: Vec<Value> = payloads
        .iter()
        .map(|p| json!({ "token": p, "logprob": -0.5, "top": [{ "token": p, "logprob": -0.5 }, { "token": format!("alt{p}"), "logprob": -1.5 }] }))
        .collect();
    let calls = json!([{ "id": "call_<img src=x onerror=top.__pwned=1>", "type": "function",
        "function": { "name": "<svg onload=top.__pwned=1>", "arguments": json!({ "query": all }).to_string() } }]);
    let mut parent: Option<i64> = None;
    let mut insert = |role: &str, content: &str, status: &str, extra: &[(&str, Value)]| {
        let mut cols = vec![
            "conversation_id",
            "parent_id",
            "role",
            "content",
            "status",
            "model",
            "created_at",
        ];
        let mut vals: Vec<rusqlite::types::Value> = vec![
            conv.into(),
            parent.map_or(rusqlite::types::Value::Null, Into::into),
            role.to_string().into(),
            content.to_string().into(),
            status.to_string().into(),
            "test-model".to_string().into(),
            2000i64.into(),
        ];
        for (k, v) in extra {
            cols.push(k);
            vals.push(match v {
                Value::String(s) => s.clone().into(),
                Value::Number(n) if n.is_f64() => n.as_f64().unwrap().into(),
                Value::Number(n) => n.as_i64().unwrap().into(),
                other => other.to_string().into(),
            });
        }
        let marks = (1..=cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        c.execute(
            &format!("INSERT INTO messages({}) VALUES ({marks})", cols.join(", ")),
            rusqlite::params_from_iter(vals),
        )
        .unwrap();
        parent = Some(c.last_insert_rowid());
        c.last_insert_rowid()
    };
    insert("user", all, "done", &[]);
    let reply = insert(
        "assistant",
        all,
        "done",
        &[
            ("reasoning", json!(all)),
            ("logprobs", Value::Array(logprobs)),
            ("mean_logprob", json!(-0.5)),
            ("served_model", json!(payloads[0])),
        ],
    );
    insert("user", "call a tool", "done", &[]);
    insert(
        "assistant",
        "",
        "done",
        &[
            ("tool_calls", calls),
            ("finish_reason", json!("tool_calls")),
        ],
    );
    insert("user", "fail", "done", &[]);
    insert(
        "assistant",
        "",
        "error",
        &[
            ("error_kind", json!("server")),
            ("error_message", json!(all)),
        ],
    );
    c.execute(
        "INSERT INTO rubrics(name, version, kind, body, created_at) VALUES (?1, 1, 'single', ?2, 5)",
        params!["<img src=x onerror=top.__pwned=1>", all],
    )
    .unwrap();
    let rubric = c.last_insert_rowid();
    c.execute(
        "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, score, reasoning, raw, created_at)
         VALUES ('single', ?1, ?2, ?3, 7, ?4, ?4, 3000)",
        params![rubric, payloads[1], reply, all],
    )
    .unwrap();
}

/// A ChatGPT export: one conversation per group, titled with the group, its messages the payloads.
fn chatgpt_export(payloads: &[String]) -> Value {
    let convs: Vec<Value> = payloads
        .chunks(GROUP)
        .enumerate()
        .map(|(g, group)| {
            let mut mapping = serde_json::Map::new();
            let mut parent = Value::Null;
            for (i, p) in group.iter().enumerate() {
                let id = format!("m{i}");
                let role = if i % 2 == 0 { "user" } else { "assistant" };
                let children = if i + 1 < group.len() { json!([format!("m{}", i + 1)]) } else { json!([]) };
                mapping.insert(id.clone(), json!({ "id": id, "parent": parent, "children": children,
                    "message": { "id": id, "author": { "role": role }, "create_time": 1700000000.0 + i as f64,
                        "content": { "content_type": "text", "parts": [p] }, "metadata": { "model_slug": p } } }));
                parent = json!(id);
            }
            json!({ "title": format!("ChatGPT {g} {}", group.join(" ")), "create_time": 1700000000.0 + g as f64,
                "update_time": 1700000000.0 + g as f64, "current_node": format!("m{}", group.len() - 1), "mapping": mapping })
        })
        .collect();
    Value::Array(convs)
}

/// Titles, folder names, tag names, prompts (names, titles and bodies) and a rubric, stored as is.
fn stored_names(c: &Connection, payloads: &[String], all: &str) {
    for (g, group) in payloads.chunks(GROUP).enumerate() {
        let joined = group.join(" ");
        c.execute(
            "INSERT INTO folders(name, position, created_at) VALUES (?1, ?2, 1)",
            params![format!("F{g} {joined}"), g as i64],
        )
        .unwrap();
        let folder = c.last_insert_rowid();
        c.execute(
            "INSERT INTO tags(name, created_at) VALUES (?1, 1)",
            [format!("G{g} {joined}")],
        )
        .unwrap();
        let tag = c.last_insert_rowid();
        c.execute(
            "INSERT INTO conversations(title, model, folder_id, created_at, updated_at)
             VALUES (?1, 'test-model', ?2, 4000, 4000)",
            params![format!("T{g} {joined}"), folder],
        )
        .unwrap();
        let conv = c.last_insert_rowid();
        c.execute(
            "INSERT INTO conversation_tags(conversation_id, tag_id) VALUES (?1, ?2)",
            params![conv, tag],
        )
        .unwrap();
        c.execute(
            "INSERT INTO prompts(name, created_at, updated_at) VALUES (?1, 1, 1)",
            [format!("p{g}{}", group[0].replace(char::is_whitespace, ""))],
        )
        .unwrap();
        c.execute(
            "INSERT INTO prompt_versions(prompt_id, version, title, body, system_prompt, message, created_at)
             VALUES (?1, 1, ?2, ?3, ?3, ?2, 1)",
            params![c.last_insert_rowid(), joined, all],
        )
        .unwrap();
    }
    c.execute(
        "INSERT INTO rubrics(name, version, kind, body, created_at) VALUES (?1, 1, 'single', ?2, 5)",
        params!["<svg onload=top.__pwned=1>", all],
    )
    .unwrap();
}

/// "Hostile files": user messages with ten images each, named with the payloads as stored (past
/// the name cleaning the app applies), and text files named with them as fenced blocks.
fn attachment_names(c: &Connection, payloads: &[String]) {
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 6, image::Rgb([200, 40, 40])))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (blob, _) = parley_core::attachments::images::prepare("x.png", &png, 64).unwrap();
    parley_core::db::attachments::store(c, &blob).unwrap();
    c.execute(
        "INSERT INTO conversations(title, model, created_at, updated_at)
         VALUES ('Hostile files', 'test-model', 4500, 4500)",
        [],
    )
    .unwrap();
    let conv = c.last_insert_rowid();
    let mut parent: Option<i64> = None;
    for group in payloads.chunks(parley_core::attachments::MAX_ATTACHMENTS) {
        let files: Vec<_> = group
            .iter()
            .map(|p| parley_core::attachments::TextFile {
                name: p.clone(),
                text: p.clone(),
            })
            .collect();
        let content = parley_core::attachments::compose("files", &files);
        c.execute(
            "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at)
             VALUES (?1, ?2, 'user', ?3, 'done', 'test-model', 4500)",
            params![conv, parent, content],
        )
        .unwrap();
        let id = c.last_insert_rowid();
        parent = Some(id);
        for (i, p) in group.iter().enumerate() {
            c.execute(
                "INSERT INTO message_images(message_id, position, sha256, name, detail)
                 VALUES (?1, ?2, ?3, ?4, 'auto')",
                params![id, i as i64, blob.sha256, p],
            )
            .unwrap();
        }
    }
}

/// A finished suite run whose description, grid labels, outputs, errors and assertion reasons
/// are payloads (what the suite runs view shows).
fn suite_run(c: &mut Connection, payloads: &[String], all: &str) {
    use parley_core::db::suites::{create_run, finish_run, insert_results, Grid, ResultRow};
    let labels = |n: usize, offset: usize| -> Vec<String> {
        (0..n)
            .map(|i| payloads[(i + offset) % payloads.len()].clone())
            .collect()
    };
    let grid = Grid {
        prompts: labels(2, 0),
        providers: labels(2, 2),
        tests: labels(payloads.len().div_ceil(4), 4),
    };
    let total = (grid.prompts.len() * grid.providers.len() * grid.tests.len()) as i64;
    let run = create_run(c, all, Some(&payloads[3]), &grid, total).unwrap();
    let mut rows = Vec::new();
    let mut n = 0;
    for prompt in 0..grid.prompts.len() {
        for provider in 0..grid.providers.len() {
            for test in 0..grid.tests.len() {
                let p = &payloads[n % payloads.len()];
                n += 1;
                let outcome = json!([{ "type": p, "pass": n % 2 == 0, "score": 0.5, "weight": 1.0, "reason": p }]);
                rows.push(ResultRow {
                    prompt,
                    provider,
                    test,
                    output: p.clone(),
                    error: (n % 3 == 0).then(|| p.clone()),
                    pass: n % 2 == 0,
                    score: 0.5,
                    assertions: outcome.to_string(),
                    latency_ms: Some(12.0),
                    prompt_tokens: Some(3),
                    completion_tokens: Some(4),
                    cost_usd: None,
                    cached: n % 5 == 0,
                });
            }
        }
    }
    insert_results(c, run, &rows).unwrap();
    finish_run(c, run, "error", Some(all)).unwrap();
}
