//! One long window session: memory (PSS of every process of the app) before and after many streamed
//! replies, and the frame gaps the page sees while a reply streams, early and late in the
//! conversation. An ignored bench that prints `BENCH name value` lines and asserts no timings:
//! `PARLEY_BENCH_REPLIES=200 tests/run.sh --test e2e bench_session -- --ignored --nocapture`.

use std::path::Path;
use std::time::Duration;

use crate::bench::env_or;
use crate::fixture::Lab;
use crate::page::messages::LAST_REPLY;
use crate::page::sidebar;
use crate::procs::lab_processes;

/// PSS (MiB) summed over every process started for this lab's data dir (the app, its web and
/// network processes: they inherit `PARLEY_DATA_DIR`), and each process's name and share.
fn app_pss_mib(data: &Path) -> (f64, Vec<String>) {
    let (mut kb, mut names) = (0.0, Vec::new());
    for (pid, comm) in lab_processes(data) {
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        };
        if let Some(v) = field("Pss:") {
            kb += v;
            // Anonymous memory beside: PSS moves when other processes that map the same libraries
            // (other WebKit apps on the machine) start or end; anonymous memory is the app's own.
            let anon = field("Anonymous:").unwrap_or(0.0);
            names.push(format!(
                "{}={:.0}(anon {:.0})",
                comm,
                v / 1024.0,
                anon / 1024.0
            ));
        }
    }
    (kb / 1024.0, names)
}

/// CPU time (ms, user + system) of each of the app's processes, by name.
fn app_cpu_ms(data: &Path) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for (pid, name) in lab_processes(data) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the ")" that closes the name: utime and stime are the 12th and 13th.
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| f.get(i).and_then(|v| v.parse::<f64>().ok()))
            .sum();
        out.push((name, ticks * 10.0));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn cpu_delta(before: &[(String, f64)], after: &[(String, f64)], per: f64) -> String {
    after
        .iter()
        .map(|(n, ms)| {
            let b = before
                .iter()
                .find(|x| &x.0 == n)
                .map(|x| x.1)
                .unwrap_or(0.0);
            format!("{n}={:.0}", (ms - b) / per)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Starts sampling frames: each gap between two animation frames, the page's own busy time within
/// it (ui/js/frameprobe.js: the time spent in its handlers), and the time from the frame's callbacks
/// to the next task (the engine's style, layout and paint of that frame, plus whatever waited).
const START_GAPS: &str = "const done = arguments[0];
    import('./app.bundle.js').then((m) => m.frameprobe).then((p) => {
      p.reset();
      window.__gaps = []; window.__own = []; window.__after = [];
      let last = performance.now(), lastBusy = 0, tickEnd = 0;
      const ch = new MessageChannel();
      ch.port1.onmessage = () => window.__after.push(performance.now() - tickEnd);
      const tick = (now) => {
        const b = p.busyMs();
        window.__gaps.push(now - last); window.__own.push(b - lastBusy);
        last = now; lastBusy = b;
        if (window.__stopGaps) return;
        requestAnimationFrame(tick);
        tickEnd = performance.now();
        ch.port2.postMessage(0);
      };
      window.__stopGaps = false; requestAnimationFrame(tick); done(null);
    });";
const STOP_GAPS: &str = "const done = arguments[0]; window.__stopGaps = true;
    import('./app.bundle.js').then((m) => m.frameprobe).then((p) => done({ gaps: window.__gaps, own: window.__own,
      after: window.__after, probe: p.stats(),
      longtask: (window.PerformanceObserver && PerformanceObserver.supportedEntryTypes || []).includes('longtask') }));";

/// Waits in the page (no WebDriver polling while the reply streams) until a new last reply is done
/// and nothing streams any more.
const WAIT_DONE: &str = "const [prev, done] = arguments;
    const ready = () => { const r = document.querySelector('#messages .message.assistant:last-of-type');
      return r && r.dataset.id !== prev && r.dataset.status === 'done'
        && !document.body.classList.contains('streaming'); };
    const iv = setInterval(() => { if (ready()) { clearInterval(iv); done(true); } }, 50);";

/// `PARLEY_BENCH_INPAGE=1`: the composer filled and sent by the page's own code (chat.js) instead
/// of WebDriver's typing, which alone leaves ~5 MiB more in the web process over 300 replies (its
/// automation keeps what it touched; a user's keyboard does not), each reply waited for in the page
/// as WAIT_DONE does. The replies between two samples go in one call: WebKit's automation also
/// keeps ~1 MiB of its own per ~4,000 script calls (README, the lever rows), which the session's
/// growth would count as the app's.
const SEND_IN_PAGE: &str = "const [texts, sel, done] = arguments;
    import('./app.bundle.js').then((m) => m.chat).then(async (chat) => {
      const last = () => document.querySelector(sel);
      for (const text of texts) {
        const r = last();
        const prev = r ? r.dataset.id : '';
        const c = document.getElementById('composer');
        c.value = text;
        c.dispatchEvent(new Event('input', { bubbles: true }));
        chat.send();
        const t0 = performance.now();
        const finished = await new Promise((ok) => { const iv = setInterval(() => { const r = last();
          const ended = r && r.dataset.id !== prev && r.dataset.status === 'done'
            && !document.body.classList.contains('streaming');
          if (ended || performance.now() - t0 > 60000) { clearInterval(iv); ok(ended); } }, 50); });
        if (!finished) { done(`the reply to ${text} did not finish in 60 s`); return; }
      }
      done(true);
    }, (e) => done(String(e)));";

/// Sends `texts` one after the other by the page's own code (SEND_IN_PAGE), each reply done.
async fn send_in_page(app: &crate::fixture::App, texts: Vec<serde_json::Value>) {
    let sent = app
        .client()
        .execute_async(
            SEND_IN_PAGE,
            vec![serde_json::Value::Array(texts), LAST_REPLY.into()],
        )
        .await
        .unwrap();
    assert_eq!(
        sent,
        serde_json::Value::Bool(true),
        "the in-page replies: {sent}"
    );
}

/// What the page holds that could grow with a session (printed every 100 replies).
const COUNTS: &str = "const done = arguments[0];
    import('./app.bundle.js').then((m) => m.render).then((r) => done({ ...r.retained(),
      nodes: document.getElementsByTagName('*').length,
      perfEntries: performance.getEntries().length,
      callbacks: window.__TAURI_INTERNALS__.callbacks.size,
      windowProps: Object.getOwnPropertyNames(window).length }));";

/// Frame samples of some replies.
#[derive(Default)]
struct Frames {
    gaps: Vec<f64>,
    /// (gap, the page's own time in it)
    own: Vec<(f64, f64)>,
    after: Vec<f64>,
    probe: Vec<serde_json::Value>,
}

impl Frames {
    fn report(&mut self, name: &str) {
        self.gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
        self.after.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let long: Vec<&(f64, f64)> = self.own.iter().filter(|g| g.0 > 50.0).collect();
        let own_in_long: f64 = long.iter().map(|g| g.1).sum();
        let long_total: f64 = long.iter().map(|g| g.0).sum();
        let own_max = self.own.iter().map(|g| g.1).fold(0.0, f64::max);
        println!("BENCH gap_{name}_frames {}", self.gaps.len());
        println!("BENCH gap_{name}_p50_ms {:.1}", pct(&self.gaps, 0.5));
        println!("BENCH gap_{name}_p95_ms {:.1}", pct(&self.gaps, 0.95));
        println!("BENCH gap_{name}_max_ms {:.1}", worst(&self.gaps));
        println!(
            "BENCH gap_{name}_over_50ms {} (total {:.0} ms, of it the page's own handlers {:.0} ms)",
            long.len(),
            long_total,
            own_in_long
        );
        println!("BENCH gap_{name}_own_max_ms {own_max:.1}");
        println!(
            "BENCH gap_{name}_frame_to_next_task_p95_ms {:.1} max {:.1}",
            pct(&self.after, 0.95),
            worst(&self.after)
        );
        for p in &self.probe {
            println!("BENCH probe_{name} {p}");
        }
    }
}

/// Sends one message and waits until its reply is done and the window idle; adds the frames seen
/// meanwhile to `frames` when given.
async fn one_reply(app: &crate::fixture::App, n: usize, frames: Option<&mut Frames>) {
    if frames.is_some() {
        app.client()
            .execute_async(START_GAPS, vec![])
            .await
            .unwrap();
    }
    let text = format!("Question {n}");
    if std::env::var("PARLEY_BENCH_INPAGE").is_ok_and(|v| v == "1") {
        send_in_page(app, vec![text.into()]).await;
    } else {
        // A script, not a WebDriver element lookup: WebKit's automation keeps a handle to every
        // element it has found for the session, which would keep each reply's DOM alive.
        let prev = app
            .js_with(
                "const r = document.querySelector(arguments[0]); return r ? r.dataset.id : '';",
                vec![serde_json::Value::String(LAST_REPLY.into())],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        app.send(&text).await;
        app.client()
            .execute_async(WAIT_DONE, vec![serde_json::Value::String(prev)])
            .await
            .unwrap();
    }
    app.wait_idle().await;
    let Some(frames) = frames else {
        return;
    };
    let v = app.client().execute_async(STOP_GAPS, vec![]).await.unwrap();
    let nums = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default()
    };
    let (gaps, own) = (nums("gaps"), nums("own"));
    frames.own.extend(gaps.iter().copied().zip(own));
    frames.gaps.extend(gaps);
    frames.after.extend(nums("after"));
    if frames.probe.is_empty() {
        println!("BENCH longtask_supported {}", v["longtask"]);
    }
    frames.probe.push(v["probe"].clone());
}

fn worst(v: &[f64]) -> f64 {
    v.last().copied().unwrap_or(0.0)
}

fn pct(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_session() {
    let replies: usize = env_or("PARLEY_BENCH_REPLIES", 200);
    // PSS and the page's counts every this many replies.
    let every: usize = env_or("PARLEY_BENCH_EVERY", 100);
    let model =
        std::env::var("PARLEY_BENCH_MODEL").unwrap_or_else(|_| "test-tokens-200-paced-2".into());
    let lab = Lab::new().await;
    let key = "sk-e2e-bench";
    let server = crate::fake_openai::FakeOpenAi::start_with_key(key);
    let app = lab.app(&server).env("OPENAI_API_KEY", key).open().await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model(&model).await;
    // PARLEY_BENCH_NOANIM=1: no CSS animation anywhere (a rule inserted through CSSOM), for an A/B.
    let noanim = std::env::var("PARLEY_BENCH_NOANIM").is_ok_and(|v| v == "1");
    if noanim {
        app.js("document.styleSheets[0].insertRule('*, *::before, *::after { animation: none !important; }', 0); return null;")
            .await;
    }
    println!("BENCH session_noanim {noanim}");
    // A batch of replies sent in the page is one script: WebDriver's 30 s default would end it.
    app.client()
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(3600)),
            None,
            None,
        ))
        .await
        .unwrap();
    let mut first = Frames::default();
    one_reply(&app, 0, Some(&mut first)).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    // PARLEY_BENCH_RELEASE_FIRST=1: the first sample after a memory release too, as the last one.
    // And after each sample of `every` replies a pause, in which the page releases on its own.
    let release_first = std::env::var("PARLEY_BENCH_RELEASE_FIRST").is_ok_and(|v| v == "1");
    // PARLEY_BENCH_RELEASE_BETWEEN=0: no pause (for an A/B; the replies then come back to back).
    let release_between =
        release_first && std::env::var("PARLEY_BENCH_RELEASE_BETWEEN").map_or(true, |v| v != "0");
    if release_first {
        println!("BENCH session_release_first {}", app.release_memory().await);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let (start, names) = app_pss_mib(lab.data());
    println!("BENCH session_pss_after 1 {start:.1} {}", names.join(","));
    let mut late = Frames::default();
    let mut cpu_from = Vec::new();
    let sampled = 5.min(replies - 1);
    let in_page = std::env::var("PARLEY_BENCH_INPAGE").is_ok_and(|v| v == "1");
    let mut batch = Vec::new();
    for n in 1..replies {
        let sample = n + sampled >= replies;
        if in_page && !sample {
            // Sent together up to the next memory sample or the first reply whose frames are kept.
            batch.push(serde_json::Value::String(format!("Question {n}")));
            if (n + 1) % every != 0 && n + 1 + sampled < replies {
                continue;
            }
            send_in_page(&app, std::mem::take(&mut batch)).await;
        } else {
            if n + sampled == replies {
                cpu_from = app_cpu_ms(lab.data());
            }
            one_reply(&app, n, sample.then_some(&mut late)).await;
        }
        if (n + 1) % every == 0 {
            let (pss, names) = app_pss_mib(lab.data());
            println!(
                "BENCH session_pss_after {} {pss:.1} {}",
                n + 1,
                names.join(",")
            );
            let counts = app.client().execute_async(COUNTS, vec![]).await.unwrap();
            println!("BENCH session_page_counts_after {} {counts}", n + 1);
            if release_between && n + 1 < replies {
                // A reader's pause: nothing streams or moves for 2.5 s, and the page asks for its
                // own release (ui/js/memory.js, after 50 replies). Up to 10 s.
                let requests = |v: serde_json::Value| v["requests"].as_u64().unwrap_or(0);
                let before = requests(app.memory_stats().await);
                let mut asked = false;
                for _ in 0..20 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    if requests(app.memory_stats().await) > before {
                        asked = true;
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                let (pss, _) = app_pss_mib(lab.data());
                let last = app.memory_stats().await["last"].clone();
                println!(
                    "BENCH session_pss_released_after {} {pss:.1} asked:{asked} {last}",
                    n + 1
                );
            }
        }
    }
    let cpu_per_reply = cpu_delta(&cpu_from, &app_cpu_ms(lab.data()), sampled.max(1) as f64);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (end, end_names) = app_pss_mib(lab.data());
    app.click(sidebar::NEW_CHAT).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (new_chat, _) = app_pss_mib(lab.data());
    // What the page asked for on its own (ui/js/memory.js), then one more request by hand: how
    // much of what is left a full collection would still free.
    let asked = app.memory_stats().await;
    println!("BENCH session_memory_requests {asked}");
    let again = app.release_memory().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (released, released_names) = app_pss_mib(lab.data());
    println!(
        "BENCH session_pss_after_another_release_mib {released:.1} {again} {}",
        released_names.join(",")
    );
    println!("BENCH session_processes_first {}", names.join(","));
    println!("BENCH session_processes_all {}", end_names.join(","));
    println!("BENCH session_model {model}");
    println!("BENCH session_replies {replies}");
    println!("BENCH session_pss_after_first_mib {start:.1}");
    println!("BENCH session_pss_after_all_mib {end:.1}");
    println!("BENCH session_pss_after_new_chat_mib {new_chat:.1}");
    println!("BENCH cpu_ms_per_last_reply {cpu_per_reply}");
    first.report("first_reply");
    late.report("last_replies");
    app.close().await;
}
