//! One long window session: memory (PSS of every process of the app) before and after many streamed
//! replies, and the frame gaps the page sees while a reply streams, early and late in the
//! conversation. An ignored bench that prints `BENCH name value` lines and asserts no timings:
//! `PARLEY_BENCH_REPLIES=200 tests/run.sh --test e2e bench_session -- --ignored --nocapture`.

use std::path::Path;
use std::time::Duration;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::messages::LAST_REPLY;
use crate::page::sidebar;

/// PSS (MiB) summed over every process started for this lab's data dir (the app, its web and
/// network processes: they inherit `PARLEY_DATA_DIR`), and each process's name and share.
fn app_pss_mib(data: &Path) -> (f64, Vec<String>) {
    let want = format!("PARLEY_DATA_DIR={}", data.display());
    let (mut kb, mut names) = (0.0, Vec::new());
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if !env.split(|&b| b == 0).any(|kv| kv == want.as_bytes()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        // The driver and the test harness are not the app.
        if comm.starts_with("WebKitWebDriver") || comm.starts_with("tauri-driver") {
            continue;
        }
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        if let Some(v) = rollup
            .lines()
            .find(|l| l.starts_with("Pss:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
        {
            kb += v;
            names.push(format!("{}={:.0}", comm.trim(), v / 1024.0));
        }
    }
    (kb / 1024.0, names)
}

const START_GAPS: &str = "window.__gaps = []; let last = performance.now();
    const tick = (now) => { window.__gaps.push(now - last); last = now;
      if (!window.__stopGaps) requestAnimationFrame(tick); };
    window.__stopGaps = false; requestAnimationFrame(tick); return null;";
const STOP_GAPS: &str = "window.__stopGaps = true; return window.__gaps;";

/// Sends one message and waits until its reply is done and the window idle; returns the frame
/// gaps (ms) seen meanwhile when `gaps` is set.
async fn one_reply(
    app: &crate::fixture::App,
    server: &FakeOpenAi,
    n: usize,
    gaps: bool,
) -> Vec<f64> {
    if gaps {
        app.js(START_GAPS).await;
    }
    app.send(&format!("Question {n}")).await;
    wait_for("the reply to be done", || async {
        (server.request_count() > n
            && app.attr_of(LAST_REPLY, "data-status").await.as_deref() == Some("done"))
        .then_some(())
    })
    .await;
    app.wait_idle().await;
    if !gaps {
        return Vec::new();
    }
    let v = app.js(STOP_GAPS).await;
    let mut out: Vec<f64> = v
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

fn worst(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(0.0)
}

fn p95(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * 0.95).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_session() {
    let replies: usize = std::env::var("PARLEY_BENCH_REPLIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let model =
        std::env::var("PARLEY_BENCH_MODEL").unwrap_or_else(|_| "test-tokens-200-paced-2".into());
    let lab = Lab::new().await;
    let key = "sk-e2e-bench";
    let server = FakeOpenAi::start_with_key(key);
    let app = lab.app(&server).env("OPENAI_API_KEY", key).open().await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model(&model).await;
    let first_gaps = one_reply(&app, &server, 0, true).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (start, names) = app_pss_mib(lab.data());
    let mut late_gaps = Vec::new();
    for n in 1..replies {
        let sample = n + 5 >= replies;
        let mut g = one_reply(&app, &server, n, sample).await;
        late_gaps.append(&mut g);
    }
    late_gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (end, end_names) = app_pss_mib(lab.data());
    app.click(sidebar::NEW_CHAT).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (new_chat, _) = app_pss_mib(lab.data());
    println!("BENCH session_processes_first {}", names.join(","));
    println!("BENCH session_processes_all {}", end_names.join(","));
    println!("BENCH session_model {model}");
    println!("BENCH session_replies {replies}");
    println!("BENCH session_pss_after_first_mib {start:.1}");
    println!("BENCH session_pss_after_all_mib {end:.1}");
    println!("BENCH session_pss_after_new_chat_mib {new_chat:.1}");
    println!("BENCH gap_first_reply_max_ms {:.1}", worst(&first_gaps));
    println!("BENCH gap_first_reply_p95_ms {:.1}", p95(&first_gaps));
    println!("BENCH gap_last_replies_max_ms {:.1}", worst(&late_gaps));
    println!("BENCH gap_last_replies_p95_ms {:.1}", p95(&late_gaps));
    app.close().await;
}
