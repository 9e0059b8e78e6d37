//! The streaming renderer under load, in the real webview: an ignored bench that prints numbers
//! and asserts no timings.

use std::time::{Duration, Instant};

use crate::fake_openai::FakeOpenAi;
use crate::fixture::Lab;
use crate::page::messages::LAST_REPLY;
use crate::page::sidebar;

/// A bench's knob: the number in the environment variable `name`, or `default` when it is unset
/// or not a number.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Streams `model`'s reply in the real webview and prints how the renderer kept up. Not a test of
/// timings (none are asserted): run with
/// `tests/run.sh --test e2e bench_streaming_render -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_streaming_render() {
    let lab = Lab::new().await;
    let key = "sk-e2e-bench";
    let server = FakeOpenAi::start_with_key(key);
    let app = lab.app(&server).env("OPENAI_API_KEY", key).open().await;
    let c = app.client();
    let models = std::env::var("PARLEY_BENCH_MODELS").unwrap_or_else(|_| {
        "test-markdown-50000 test-markdown-paced-20000 test-tokens-50000".into()
    });
    for model in models.split_whitespace() {
        app.click(sidebar::NEW_CHAT).await;
        app.set_conversation_model(model).await;
        // Frame gaps as the page sees them (layout and paint included), and our own render time.
        app.js("window.__gaps = []; let last = performance.now();
             const tick = (now) => { window.__gaps.push(now - last); last = now;
               if (!window.__stopGaps) requestAnimationFrame(tick); };
             window.__stopGaps = false; requestAnimationFrame(tick);
             return null;")
            .await;
        c.execute_async(
            "import('./app.bundle.js').then((m) => m.render).then(m => { m.resetRenderStats(); window.__benchStart = performance.now(); arguments[0](null); })",
            vec![],
        )
        .await
        .unwrap();
        let sent = Instant::now();
        app.send("Go").await;
        let deadline = Instant::now() + Duration::from_secs(300);
        while app.attr_of(LAST_REPLY, "data-status").await.as_deref() != Some("done") {
            assert!(Instant::now() < deadline, "the reply did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let streamed = sent.elapsed();
        // Time to display: from Send to the last block on screen (measured in the page).
        let deadline = Instant::now() + Duration::from_secs(180);
        let total_ms = loop {
            let v = c
                .execute_async(
                    "import('./app.bundle.js').then((m) => m.render).then(m => arguments[0](m.renderBusy() ? null : m.renderStats().doneAt - window.__benchStart))",
                    vec![],
                )
                .await
                .unwrap();
            if let Some(ms) = v.as_f64() {
                break ms;
            }
            assert!(Instant::now() < deadline, "the reply was not filled in");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let stats = c
            .execute_async(
                "window.__stopGaps = true;
                 const done = arguments[0];
                 import('./app.bundle.js').then((m) => m.render).then(async (m) => {
                   const s = m.renderStats();
                   const convs = await window.__TAURI__.core.invoke('list_conversations');
                   const msgs = await window.__TAURI__.core.invoke('get_messages', { conversationId: convs[0].id });
                   const text = msgs[msgs.length - 1].content;
                   // What a naive renderer would pay: the whole text so far, once per frame.
                   const naive = [];
                   for (let i = 1; i <= 10; i++) {
                     const t0 = performance.now();
                     m.renderMarkdown(text.slice(0, Math.floor(text.length * i / 10)));
                     naive.push(performance.now() - t0);
                   }
                   // Where the time goes, warm: Markdown (with KaTeX and highlight.js) vs sanitizing.
                   const md = await import('./app.bundle.js').then((m) => m.markdown);
                   const parts = [];
                   for (let r = 0; r < 3; r++) {
                     const t0 = performance.now();
                     const html = md.markdownToHtml(text);
                     const t1 = performance.now();
                     window.DOMPurify.sanitize(html, { USE_PROFILES: { html: true, svg: true }, RETURN_DOM_FRAGMENT: true });
                     const t2 = performance.now();
                     parts.push([Math.round(t1 - t0), Math.round(t2 - t1), html.length]);
                   }
                   done({ frames: s.frames, finals: s.finals, gaps: window.__gaps, naive, chars: text.length, parts });
                 });",
                vec![],
            )
            .await
            .unwrap();
        let nums = |k: &str| -> Vec<f64> {
            let mut v: Vec<f64> = stats[k]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_f64())
                .collect();
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v
        };
        let pct = |v: &[f64], p: f64| -> f64 {
            if v.is_empty() {
                return 0.0;
            }
            v[((v.len() - 1) as f64 * p).round() as usize]
        };
        let frames = nums("frames");
        let gaps = nums("gaps");
        let naive = stats["naive"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_f64())
            .collect::<Vec<_>>();
        let naive_mean = naive.iter().sum::<f64>() / naive.len() as f64;
        println!(
            "{model}: {} chars, stream done after {:.2} s, all on screen {:.2} s after Send; {} streaming renders: median {:.2} ms, p95 {:.2} ms, worst {:.2} ms, sum {:.0} ms; final render call {:.1} ms",
            stats["chars"],
            streamed.as_secs_f64(),
            total_ms / 1000.0,
            frames.len(),
            pct(&frames, 0.5),
            pct(&frames, 0.95),
            pct(&frames, 1.0),
            frames.iter().sum::<f64>(),
            nums("finals").last().copied().unwrap_or(0.0),
        );
        println!(
            "{model}: frame gaps (page, incl. layout): median {:.1} ms, p95 {:.1} ms, worst {:.1} ms over {} frames",
            pct(&gaps, 0.5),
            pct(&gaps, 0.95),
            pct(&gaps, 1.0),
            gaps.len()
        );
        println!(
            "{model}: naive full re-render of the text so far at 10%..100%: {} ms -> about {:.0} ms per frame on average, {:.0} s over the same {} frames",
            naive.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join("/"),
            naive_mean,
            naive_mean * frames.len() as f64 / 1000.0,
            frames.len()
        );
        println!(
            "{model}: whole text, warm, [markdown ms, sanitize ms, html bytes] x3: {}",
            stats["parts"]
        );
    }
    app.close().await;
}
