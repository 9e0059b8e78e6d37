//! Importing a 100 MB ChatGPT export: wall time and peak memory (VmHWM of a child process that
//! does only the import), against a real SQLite file.

use std::io::Write;
use std::process::Command;
use std::time::Instant;

/// The child's side: `PARLEY_BENCH_IMPORT=FILE` imports FILE into a fresh database in
/// `PARLEY_BENCH_DB_DIR` and prints its own peak memory.
pub fn child_if_asked() -> bool {
    let Some(file) = std::env::var_os("PARLEY_BENCH_IMPORT") else {
        return false;
    };
    let dir = std::env::var_os("PARLEY_BENCH_DB_DIR").expect("PARLEY_BENCH_DB_DIR");
    let (db, _) = parley_core::db::Db::open_dir(std::path::Path::new(&dir)).unwrap();
    let before = vm_hwm();
    let summary = db
        .with(|c| parley_core::transfer::import_file(c, std::path::Path::new(&file), &mut |_| true))
        .unwrap();
    println!(
        "conversations={} messages={} skipped_parts={} hwm_before_kb={} hwm_kb={}",
        summary.conversations,
        summary.messages,
        summary.skipped_parts,
        before,
        vm_hwm()
    );
    true
}

fn vm_hwm() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Writes a ChatGPT `conversations.json` of about `target` bytes: 20 messages a conversation with
/// a fork, English and Chinese, an image part now and then.
fn write_export(path: &std::path::Path, target: u64) -> usize {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let para_en =
        "The quick brown fox jumps over the lazy dog while the committee reviews the budget. ";
    let para_zh = "我们明天去北京的故宫和长城参观，然后在王府井吃晚饭。";
    out.write_all(b"[").unwrap();
    let (mut written, mut n) = (0u64, 0usize);
    while written < target {
        let mut mapping = serde_json::Map::new();
        mapping.insert(
            "root".into(),
            serde_json::json!({"id": "root", "message": null, "parent": null, "children": ["m0"]}),
        );
        for i in 0..20 {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            let text = format!(
                "{} {}",
                para_en.repeat(3 + i % 4),
                para_zh.repeat(2 + i % 3)
            );
            let parts = if i % 7 == 0 {
                serde_json::json!([{"content_type": "image_asset_pointer", "asset_pointer": "file-service://x"}, text])
            } else {
                serde_json::json!([text])
            };
            let parent = if i == 0 {
                "root".to_string()
            } else {
                format!("m{}", i - 1)
            };
            let mut children = if i < 19 {
                vec![format!("m{}", i + 1)]
            } else {
                vec![]
            };
            if i == 10 {
                children.push("alt".into());
            }
            mapping.insert(format!("m{i}"), serde_json::json!({
                "id": format!("m{i}"), "parent": parent, "children": children,
                "message": {"author": {"role": role}, "create_time": 1_700_000_000.0 + (n * 100 + i) as f64,
                            "content": {"content_type": if i % 7 == 0 { "multimodal_text" } else { "text" }, "parts": parts},
                            "metadata": {"model_slug": "gpt-4o"}}
            }));
        }
        mapping.insert("alt".into(), serde_json::json!({"id": "alt", "parent": "m10", "children": [],
            "message": {"author": {"role": "assistant"}, "content": {"content_type": "text", "parts": ["另一个回答 another answer"]}}}));
        let conv = serde_json::json!({
            "title": format!("Conversation {n} 对话"), "create_time": 1_700_000_000.0 + n as f64,
            "update_time": 1_700_000_000.0 + n as f64, "current_node": "m19", "mapping": mapping,
        });
        let text = conv.to_string();
        if n > 0 {
            out.write_all(b",\n").unwrap();
        }
        out.write_all(text.as_bytes()).unwrap();
        written += text.len() as u64 + 2;
        n += 1;
    }
    out.write_all(b"]").unwrap();
    n
}

pub fn import_100mb() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("conversations.json");
    let n = write_export(&file, 100 * 1024 * 1024);
    let bytes = std::fs::metadata(&file).unwrap().len();
    let db_dir = dir.path().join("data");
    let t = Instant::now();
    let out = Command::new(std::env::current_exe().unwrap())
        .env("PARLEY_BENCH_IMPORT", &file)
        .env("PARLEY_BENCH_DB_DIR", &db_dir)
        .output()
        .unwrap();
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let db_bytes = std::fs::metadata(db_dir.join("parley.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "import a ChatGPT export ({:.1} MB, {n} conversations)",
        bytes as f64 / 1048576.0
    );
    println!(
        "  wall time (child, incl. start)  {:.2} s",
        took.as_secs_f64()
    );
    println!("  {line}");
    println!(
        "  database after import           {:.1} MB",
        db_bytes as f64 / 1048576.0
    );
}
