//! Long histories in the real webview: 5,000 conversations in the sidebar and 10,000-message
//! conversations opened, scrolled to the top and closed again. An ignored bench that prints numbers
//! and asserts no timings: `tests/run.sh --test e2e bench_long_history -- --ignored --nocapture`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::bench::env_or;
use crate::fake_openai::FakeOpenAi;
use crate::fixture::Lab;
use crate::history;
use crate::procs::lab_processes;

/// One field (MB) of /proc/PID/smaps_rollup: `Pss` as smem counts it, `Pss_Anon` (heaps) or
/// `Pss_File` (mapped libraries and fonts).
fn rollup_mb(pid: &str, field: &str) -> Option<f64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let kb: f64 = rollup
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn pss_mb(pid: &str) -> Option<f64> {
    rollup_mb(pid, "Pss")
}

/// The web process's anonymous and file-backed PSS (MB).
fn web_split_mb(data: &std::path::Path) -> Option<(f64, f64)> {
    let pid = web_pid(data)?;
    Some((rollup_mb(&pid, "Pss_Anon")?, rollup_mb(&pid, "Pss_File")?))
}

fn web_pid(data: &std::path::Path) -> Option<String> {
    lab_processes(data)
        .into_iter()
        .find_map(|(pid, comm)| comm.starts_with("WebKitWebProces").then_some(pid))
}

/// PSS (MB) of the web process and of the app serving this lab's window (found by its data dir).
fn memory_mb(data: &std::path::Path) -> (Option<f64>, Option<f64>) {
    let (mut web, mut app) = (None, None);
    for (pid, comm) in lab_processes(data) {
        if comm.starts_with("WebKitWebProces") {
            web = pss_mb(&pid);
        } else if comm == "parley-desktop" {
            app = pss_mb(&pid);
        }
    }
    (web, app)
}

fn seed(data: &std::path::Path, long: usize) -> Vec<i64> {
    let (db, _) = parley_core::db::Db::open_dir(data).unwrap();
    db.with(|c| {
        history::seed(c, 5_000, 2, 1);
        let mut ids = Vec::new();
        for i in 0..long {
            history::seed(c, 1, 10_000, 2 + i as u64);
            let id = c.last_insert_rowid();
            let conv: i64 = c.query_row(
                "SELECT conversation_id FROM messages WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            c.execute(
                "UPDATE conversations SET title = ?2, updated_at = ?3 WHERE id = ?1",
                rusqlite::params![
                    conv,
                    format!("Long conversation {i}"),
                    1_900_000_000_000_i64 + i as i64
                ],
            )?;
            ids.push(conv);
        }
        Ok(ids)
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_long_history() {
    let lab = Lab::new().await;
    let long = seed(lab.data(), 3);
    // The last page read in this process (the same debug build as the app's core).
    let (db, _) = parley_core::db::Db::open_dir(lab.data()).unwrap();
    let read_ms = db
        .with(|c| {
            let mut ms = Vec::new();
            for _ in 0..5 {
                let t = std::time::Instant::now();
                parley_core::db::messages::thread_window(c, long[0], 9_970, 30)?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok(ms)
        })
        .unwrap();
    drop(db);
    println!("read the last page of 10,000 from the database (ms): {read_ms:.1?}");
    let scroll_rounds: usize = env_or("PARLEY_BENCH_SCROLLS", 2);
    // PARLEY_BENCH_SCROLL_PX: the step of each frame (default 1,500: a fast fling, the whole view
    // new every frame; 120 is one wheel notch); PARLEY_BENCH_SCROLL_SECS: where a scroll stops if
    // the top is not reached (default 240).
    let scroll_px: f64 = env_or("PARLEY_BENCH_SCROLL_PX", 1500.0);
    let scroll_ms = env_or("PARLEY_BENCH_SCROLL_SECS", 240.0) * 1000.0;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let c = app.client();
    c.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
        Some(Duration::from_secs(300)),
        None,
        None,
    ))
    .await
    .unwrap();
    // Where a frame's time goes: animation-frame callbacks by name, observer callbacks, layout
    // reads, IPC (tests/e2e/bench_probe.js); PARLEY_BENCH_CSS adds a style sheet for an A/B run.
    let css = std::env::var("PARLEY_BENCH_CSS").unwrap_or_default();
    let probe = c
        .execute_async(include_str!("bench_probe.js"), vec![json!(css)])
        .await
        .unwrap();
    println!("probe: {probe}");

    // The sidebar: a full paint of 5,003 conversations, then the update after one new message.
    let sidebar = c
        .execute_async(
            "const id = arguments[0];
             const done = arguments[arguments.length - 1];
             import('./app.bundle.js').then((m) => m.sidebar).then(async (s) => {
               try {
               const full = [];
               for (let i = 0; i < 5; i++) {
                 const t0 = performance.now(); s.renderConversations(); document.body.offsetHeight;
                 full.push(performance.now() - t0);
               }
               const one = [];
               for (let i = 0; i < 5; i++) {
                 const t0 = performance.now(); await Promise.race([s.refreshConversation(id), new Promise((r) => setTimeout(r, 20000))]); document.body.offsetHeight;
                 one.push(performance.now() - t0);
               }
               done({ full, one, rows: document.querySelectorAll('#conversation-list li').length,
                      nodes: document.getElementsByTagName('*').length });
               } catch (e) { done({ error: String(e) }); }
             }, (e) => done({ error: String(e) }));",
            vec![json!(long[0])],
        )
        .await
        .unwrap();
    println!("sidebar, 5,003 conversations: {sidebar}");

    // Where an open's time goes: the IPC round trip of the last page (and its size), building its
    // DOM, the layout, and the frame after; the header's other calls (totals, settings) beside it.
    let phases = c
        .execute_async(
            "const id = arguments[0]; const done = arguments[arguments.length - 1];
             Promise.all([import('./app.bundle.js').then((m) => m.api), import('./app.bundle.js').then((m) => m.messages)]).then(async ([{ api }, view]) => {
               const el = document.getElementById('messages');
               const out = { ipc: [], bytes: 0, build: [], layout: [], paint: [], totals: [], bare: [], short: [] };
               for (let i = 0; i < 5; i++) {
                 let t = performance.now();
                 await api.appInfo();
                 out.bare.push(performance.now() - t);
                 t = performance.now();
                 await api.getThreadPage(1, {}, 30);
                 out.short.push(performance.now() - t);
               }
               for (let i = 0; i < 5; i++) {
                 let t = performance.now();
                 const page = await api.getThreadPage(id, {}, 30);
                 out.ipc.push(performance.now() - t);
                 out.bytes = JSON.stringify(page).length;
                 t = performance.now();
                 await api.conversationTotals(id);
                 out.totals.push(performance.now() - t);
                 t = performance.now();
                 view.renderAll(page.messages);
                 out.build.push(performance.now() - t);
                 t = performance.now();
                 el.scrollTop = el.scrollHeight;
                 out.layout.push(performance.now() - t);
                 t = performance.now();
                 await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
                 out.paint.push(performance.now() - t);
               }
               done(out);
             }, (e) => done({ error: String(e) }));",
            vec![json!(long[0])],
        )
        .await
        .unwrap();
    println!("open phases (ms; bytes of the page): {phases}");

    let before = memory_mb(lab.data());
    let split_before = web_split_mb(lab.data());
    let mut opens = Vec::new();
    let mut scrolls: Vec<Value> = Vec::new();
    for round in 0..10 {
        let id = long[round % long.len()];
        // Open: from the click to the frame after the last message is painted.
        let open = c
            .execute_async(
                "const id = arguments[0]; const done = arguments[arguments.length - 1];
                 const t0 = performance.now();
                 window.__TAURI__ && document.querySelector('#conversation-list li.conversation[data-id=\"' + id + '\"]').click();
                 const check = () => {
                   const m = document.getElementById('messages');
                   if (m.querySelector('.message') && !m.hasAttribute('aria-busy'))
                     requestAnimationFrame(() => done(performance.now() - t0));
                   else requestAnimationFrame(check);
                 };
                 requestAnimationFrame(check);",
                vec![json!(id)],
            )
            .await
            .unwrap();
        opens.push(open.as_f64().unwrap_or(f64::NAN));
        if round < scroll_rounds {
            // Scroll to the top as a fast wheel would: one step per frame; frame gaps measured.
            let s = c
                .execute_async(
                    "const [px, limitMs, done] = arguments;
                     Promise.all([import('./app.bundle.js').then((m) => m.messages), import('./app.bundle.js').then((m) => m.paging)]).then(([view, paging]) => {
                       paging.resetPagingStats?.();
                       const P = window.__probe;
                       Object.assign(P, { raf: {}, io: 0, ioN: 0, layout: 0, layoutN: 0, ipc: 0, ipcN: 0, ipcBytes: 0 });
                       const el = document.getElementById('messages');
                       const gaps = []; let last = performance.now(); let maxNodes = 0; const t0 = last;
                       const step = (now) => {
                         gaps.push(now - last); last = now;
                         // Counting every node costs ~1 ms: every 8th frame, so the measure costs little.
                         if (gaps.length % 8 === 0) maxNodes = Math.max(maxNodes, el.getElementsByTagName('*').length);
                         if ((view.thread.start === 0 && el.scrollTop === 0) || now - t0 > limitMs) {
                           gaps.sort((a, b) => a - b);
                           done({ px, ms: now - t0, top: el.scrollTop === 0 && view.thread.start === 0, frames: gaps.length, p50: gaps[gaps.length >> 1],
                                  p95: gaps[Math.floor(gaps.length * 0.95)], max: gaps[gaps.length - 1], maxNodes,
                                  messagesInDom: el.querySelectorAll('.message').length,
                                  probe: JSON.parse(JSON.stringify(P)), paging: paging.pagingStats?.() });
                           return;
                         }
                         el.scrollTop = Math.max(0, el.scrollTop - px);
                         requestAnimationFrame(step);
                       };
                       requestAnimationFrame(step);
                     });",
                    vec![json!(scroll_px), json!(scroll_ms)],
                )
                .await
                .unwrap();
            scrolls.push(s);
        }
    }
    // Ctrl+Home and Ctrl+End (ui/js/jump.js) in the last one opened: from the key to the frame
    // after the path's first (or last) page is painted, five of each, alternated.
    let mut jumps: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..5 {
        for (k, key) in ["Home", "End"].iter().enumerate() {
            let ms = c
                .execute_async(
                    "const [key, done] = arguments;
                     import('./app.bundle.js').then(({ messages: view, paging }) => {
                       const el = document.getElementById('messages');
                       const t0 = performance.now();
                       document.body.dispatchEvent(new KeyboardEvent('keydown', { key, ctrlKey: true, bubbles: true }));
                       const there = () => key === 'Home' ? view.thread.start === 0 && el.scrollTop === 0
                         : paging.atEnd() && view.isAtBottom();
                       const check = () => there() ? requestAnimationFrame(() => done(performance.now() - t0)) : requestAnimationFrame(check);
                       requestAnimationFrame(check);
                     });",
                    vec![json!(key)],
                )
                .await
                .unwrap();
            jumps[k].push(ms.as_f64().unwrap_or(f64::NAN));
        }
    }
    println!(
        "Ctrl+Home / Ctrl+End in 10,000 messages (ms, key to painted): {:.1?} / {:.1?}",
        jumps[0], jumps[1]
    );
    // Close: a short conversation, then let the engine settle.
    c.execute(
        "document.querySelectorAll('#conversation-list li.conversation')[5].click(); return null;",
        vec![],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = memory_mb(lab.data());
    let split_after = web_split_mb(lab.data());
    println!("open a 10,000-message conversation (ms, click to painted): {opens:.1?}");
    for s in &scrolls {
        println!("scroll 10,000 messages to the top: {s}");
    }
    println!("PSS (web process, app) MB: {before:.0?} before ten opens, {after:.0?} after closing");
    println!(
        "web process (Pss_Anon, Pss_File) MB: {split_before:.1?} before, {split_after:.1?} after"
    );
    // What the window's own request gives back (the web process extension's full collection).
    let released = app.release_memory().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "released on request {released}: PSS {:.0?}, web (Pss_Anon, Pss_File) {:.1?}",
        memory_mb(lab.data()),
        web_split_mb(lab.data())
    );
    // Does the engine give more back later (its garbage collector and allocator run on timers)?
    tokio::time::sleep(Duration::from_secs(23)).await;
    println!(
        "30 s after closing: PSS {:.0?}, web (Pss_Anon, Pss_File) {:.1?}",
        memory_mb(lab.data()),
        web_split_mb(lab.data())
    );
    // Is what stays garbage the collector has not reached? Short-lived buffers (memory the JS
    // heap owes) and objects grow the heap past its next collection; then measure again.
    for _ in 0..3 {
        c.execute(
            "for (let i = 0; i < 64; i++) new Uint8Array(4 << 20).fill(1);
             for (let r = 0; r < 20; r++) { let a = []; for (let i = 0; i < 100000; i++) a.push({ i, s: 'x' + i }); a = null; }
             return null;",
            vec![],
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    println!(
        "after a full collection was provoked: PSS {:.0?}, web (Pss_Anon, Pss_File) {:.1?}",
        memory_mb(lab.data()),
        web_split_mb(lab.data())
    );
    // What the page itself still holds after closing: message entries, replies waiting to be
    // rendered, DOM nodes in all.
    let held = c
        .execute_async(
            "const done = arguments[0];
             Promise.all([import('./app.bundle.js').then((m) => m.messages), import('./app.bundle.js').then((m) => m.lazymd), import('./app.bundle.js').then((m) => m.render)]).then(([view, lazy, render]) =>
               done({ entries: view.count(), waiting: lazy.waitingCount(), parked: render.parkedCount?.(),
                      nodes: document.getElementsByTagName('*').length }));",
            vec![],
        )
        .await
        .unwrap();
    println!("held by the page after closing: {held}");
    app.close().await;
}
