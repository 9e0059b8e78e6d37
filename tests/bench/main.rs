//! `cargo bench --bench bench`: prints numbers, asserts nothing.
//! - `parley ask` wall time vs `curl -N` on the same local stream of 2,000 tokens (instant, and
//!   at 2 ms per token), and `parley --version`
//! - long chats: loading the active path of a 10,000- and a 100,000-message conversation
//! - SSE parsing throughput
//! - the local tokenizer, and fitting a long history into a context window
//! - the arena leaderboard (Bradley–Terry + 1,000 bootstrap rounds), κ and Spearman
//! - search over 1,000,000 messages (index vs a LIKE scan), and paging a 10,000-message thread
//! - importing a 100 MB ChatGPT export: time and peak memory (`import_100mb`)
//! - `parley eval run` on 1,000 cases at -j 16 vs the ideal wall time, and promptfoo (`suites_1000`)

#[path = "../support/bins.rs"]
mod bins;
#[path = "../support/fake_hostile.rs"]
mod fake_hostile;
#[path = "../support/fake_openai.rs"]
mod fake_openai;
#[path = "../support/history.rs"]
mod history;
mod import;
mod judge;
mod search;
mod suites;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fake_openai::FakeOpenAi;
use parley_core::db::messages::{self, Outcome};
use parley_core::db::{conversations, Db};
use parley_core::openai::types::ChatMessage;

pub(crate) fn stats(mut samples: Vec<Duration>) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:7.1} ms  min {:7.1} ms  max {:7.1} ms  (n={})",
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(*samples.last().unwrap()),
        samples.len()
    )
}

pub(crate) fn time<F: FnMut()>(runs: usize, mut f: F) -> Vec<Duration> {
    f(); // warm-up
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn ask_vs_curl() {
    ask_vs_curl_on("test-tokens-2000", "instant", 20);
    ask_vs_curl_on("test-tokens-2000-paced-2", "2 ms per token", 5);
}

/// `parley ask` and `curl -N` on the same local stream of 2,000 tokens from `model`.
fn ask_vs_curl_on(model: &str, pace: &str, runs: usize) {
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let body = format!(
        r#"{{"model":"{model}","messages":[{{"role":"user","content":"go"}}],"stream":true,"stream_options":{{"include_usage":true}}}}"#
    );
    let url = format!("{}/chat/completions", server.base_url());
    let curl = time(runs, || {
        let out = Command::new("curl")
            .args([
                "-N",
                "-s",
                "-H",
                "Content-Type: application/json",
                "-d",
                &body,
                &url,
            ])
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(out.status.success() && out.stdout.ends_with(b"[DONE]\n\n"));
    });
    let ask = time(runs, || {
        let out = Command::new(bins::parley())
            .args([
                "ask",
                "--base-url",
                &server.base_url(),
                "--model",
                model,
                "go",
            ])
            .env("PARLEY_DATA_DIR", data.path())
            .env("OPENAI_API_KEY", "sk-bench")
            .env_remove("DISPLAY")
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.ends_with(b" tok1999"));
    });
    let version = time(runs, || {
        let out = Command::new(bins::parley())
            .arg("--version")
            .output()
            .unwrap();
        assert!(out.status.success());
    });
    println!(
        "stream of 2,000 tokens from 127.0.0.1, {pace} (wall time per run, process start to exit)"
    );
    println!("  curl -N          {}", stats(curl));
    println!(
        "  parley ask       {}   (parses, prints and saves to SQLite)",
        stats(ask)
    );
    println!("  parley --version {}", stats(version));
}

/// A conversation of `n` messages (a reply of ~600 characters each), then the cost of opening it.
fn long_chat(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let conv = db.with(|c| conversations::create(c, None)).unwrap();
    let reply = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(10);
    let build = Instant::now();
    db.with(|c| {
        let tx = c.transaction()?;
        {
            let mut st = tx.prepare(
                "INSERT INTO messages(conversation_id, parent_id, role, content, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'done', 0)",
            )?;
            let mut parent: Option<i64> = None;
            for i in 0..n {
                let (role, text) = if i % 2 == 0 {
                    ("user", "question?")
                } else {
                    ("assistant", reply.as_str())
                };
                st.execute(rusqlite::params![conv.id, parent, role, text])?;
                parent = Some(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(())
    })
    .unwrap();
    let built = build.elapsed();
    let open = time(5, || {
        let path = db.with(|c| messages::active_path(c, conv.id)).unwrap();
        assert_eq!(path.len(), n);
    });
    let leaf = time(5, || {
        db.with(|c| messages::active_leaf(c, conv.id)).unwrap();
    });
    let last = db
        .with(|c| messages::active_leaf(c, conv.id))
        .unwrap()
        .unwrap();
    let history = time(5, || {
        assert_eq!(db.with(|c| messages::path_to(c, last)).unwrap().len(), n);
    });
    let size = std::fs::metadata(dir.path().join("parley.db"))
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.path().join("parley.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "conversation of {n} messages ({:.1} MB on disk, inserted in {:.0} ms)",
        size as f64 / 1e6,
        built.as_secs_f64() * 1e3
    );
    println!("  load active path   {}", stats(open));
    println!("  find where to add  {}", stats(leaf));
    println!("  history for reply  {}", stats(history));
    // The thread as the window asks for it: the path with every message's versions.
    let thread = time(5, || {
        assert_eq!(db.with(|c| messages::thread(c, conv.id)).unwrap().len(), n);
    });
    println!("  thread (versions)  {}", stats(thread));
    // Fitting the whole history into a 128k window before a send: counting stops at the window.
    let path = db.with(|c| messages::path_to(c, last)).unwrap();
    let chat: Vec<ChatMessage> = path
        .iter()
        .map(|m| ChatMessage {
            role: m.role.as_str().into(),
            content: m.content.clone(),
            ..Default::default()
        })
        .collect();
    let fit = time(5, || {
        let f = parley_core::chat::context::fit("gpt-4o", chat.clone(), Some(128_000), 4096);
        assert!(f.messages.len() < n);
    });
    println!("  fit to 128k window {}", stats(fit));
    let _ = Outcome::default();
}

/// The local tokenizer (used when a server reports no usage): a 50,000-token reply.
fn tokenizer() {
    let text = "The quick brown fox jumps over the lazy dog; 敏捷的棕色狐狸。 ".repeat(2_500);
    // The first call loads the encoding (once per process).
    let first = Instant::now();
    parley_core::chat::tokens::count_text("gpt-4o-mini", "warm");
    let load = first.elapsed();
    let tokens = parley_core::chat::tokens::count_text("gpt-4o", &text);
    let samples = time(5, || {
        parley_core::chat::tokens::count_text("gpt-4o", &text);
    });
    println!(
        "tokenizer (o200k), {tokens} tokens / {:.0} KB of text (loading the encoding: {:.1} ms, once)",
        text.len() as f64 / 1024.0,
        load.as_secs_f64() * 1e3
    );
    println!("  {}", stats(samples));
}

/// SSE → typed chunks, in memory: the parser's own cost per token.
fn sse_throughput() {
    let chunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" token\"},\"finish_reason\":null}]}\n\n";
    let n = 50_000;
    let body: Vec<u8> = chunk.repeat(n).into_bytes();
    let samples = time(5, || {
        let mut parser = parley_core::openai::sse::SseParser::new();
        let count: usize = body.chunks(1500).map(|c| parser.feed(c).len()).sum();
        assert_eq!(count, n);
    });
    let median = {
        let mut s = samples.clone();
        s.sort();
        s[s.len() / 2]
    };
    println!("SSE parsing, {n} chunks in 1,500-byte packets");
    println!(
        "  {}  ({:.2} µs per token)",
        stats(samples),
        median.as_secs_f64() * 1e6 / n as f64
    );
}

/// Local-server probing: 4 candidates at once (one fake server, closed ports, a silent one), and what
/// building an HTTP client costs (why clients are cached per proxy / timeout setting).
fn probing_and_clients() {
    use parley_core::openai::probe::{self, Candidate};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = FakeOpenAi::start();
    let port: u16 = server
        .base_url()
        .trim_end_matches("/v1")
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let closed = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let answering = vec![
        Candidate::new("Fake", port),
        Candidate::new("Closed 1", closed()),
        Candidate::new("Closed 2", closed()),
        Candidate::new("Closed 3", closed()),
    ];
    let fast = time(20, || {
        let found = rt
            .block_on(probe::probe(&answering, probe::PROBE_TIMEOUT))
            .unwrap();
        assert_eq!(found.len(), 1);
    });
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut with_silent = answering.clone();
    with_silent[3] = Candidate::new("Silent", silent.local_addr().unwrap().port());
    let slow = time(3, || {
        rt.block_on(probe::probe(&with_silent, probe::PROBE_TIMEOUT))
            .unwrap();
    });
    println!(
        "probing 4 local ports at once (timeout {} ms)",
        probe::PROBE_TIMEOUT.as_millis()
    );
    println!("  1 server + 3 closed     {}", stats(fast));
    println!("  … one of them silent    {}", stats(slow));
    let build = time(20, || {
        drop(
            parley_core::openai::Client::new(parley_core::openai::ClientOptions::default())
                .unwrap(),
        );
    });
    println!("building one HTTP client (avoided by the per-setting cache)");
    println!("  Client::new             {}", stats(build));
}

fn leaderboard_stats() {
    use parley_core::eval::stats::{
        self, Battle, BattleOutcome, LeaderboardOptions, PairwiseLabel,
    };
    let mut rng = fastrand::Rng::with_seed(42);
    let truth: Vec<f64> = (0..10).map(|k| 1200.0 - 40.0 * k as f64).collect();
    let battles: Vec<Battle> = (0..10_000)
        .map(|_| {
            let i = rng.usize(..10);
            let j = (i + 1 + rng.usize(..9)) % 10;
            let p = 1.0 / (1.0 + 10f64.powf((truth[j] - truth[i]) / 400.0));
            let u = rng.f64();
            let o = if u < 0.1 {
                BattleOutcome::Tie
            } else if u < 0.1 + 0.9 * p {
                BattleOutcome::A
            } else {
                BattleOutcome::B
            };
            Battle::new(format!("model-{i}"), format!("model-{j}"), o)
        })
        .collect();
    let opts = LeaderboardOptions::default();
    let mut rows = 0;
    let lb = time(5, || {
        rows = stats::leaderboard(&battles, &opts).unwrap().rows.len();
    });
    println!("leaderboard: 10,000 battles, {rows} models, Bradley–Terry + 1,000 bootstrap rounds");
    println!("  leaderboard             {}", stats(lb));
    let point = LeaderboardOptions {
        bootstrap_rounds: 0,
        ..opts
    };
    let fit = time(20, || {
        stats::leaderboard(&battles, &point).unwrap();
    });
    println!("  same, no bootstrap      {}", stats(fit));
    let labels = [PairwiseLabel::A, PairwiseLabel::B, PairwiseLabel::Tie];
    let pairs: Vec<_> = (0..10_000)
        .map(|_| (labels[rng.usize(..3)], labels[rng.usize(..3)]))
        .collect();
    let kappa = time(20, || {
        stats::pairwise_agreement(&pairs);
    });
    let scores: Vec<(f64, f64)> = (0..10_000)
        .map(|_| (rng.u8(1..=5) as f64, rng.u8(1..=10) as f64))
        .collect();
    let rho = time(20, || {
        stats::spearman(&scores);
    });
    println!("agreement on 10,000 items");
    println!("  Cohen's kappa           {}", stats(kappa));
    println!("  Spearman (many ties)    {}", stats(rho));
}

/// The prompt library: importing a 5,000-row act,prompt CSV (one transaction), searching it, and
/// filling a prompt's variables.
fn prompt_library() {
    use parley_core::prompts::{library, transfer, variables};
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = Db::open_dir(dir.path()).unwrap();
    let mut csv = String::from("act,prompt\n");
    for i in 0..5_000 {
        csv.push_str(&format!(
            "\"Role {i}\",\"I want you to act as role {i}. Answer questions about {{{{topic}}}} in a {{{{tone:choice(calm, lively)=calm}}}} tone.\"\n"
        ));
    }
    let t = Instant::now();
    let report = db.with(|c| transfer::import(c, &csv)).unwrap();
    let import = t.elapsed();
    assert_eq!(report.imported.len(), 5_000);
    let search = time(10, || {
        let found = db
            .with(|c| library::list(c, "role 4999", library::Sort::Uses))
            .unwrap();
        assert_eq!(found.len(), 1);
    });
    let all = time(5, || {
        assert_eq!(
            db.with(|c| library::list(c, "", library::Sort::Uses))
                .unwrap()
                .len(),
            5_000
        );
    });
    let body = db
        .with(|c| library::get(c, "role-42"))
        .unwrap()
        .latest
        .draft
        .body;
    let values: std::collections::HashMap<String, String> =
        [("topic".to_string(), "tea".to_string())].into();
    let builtins = parley_core::prompts::builtins_now(None);
    let fill = time(1_000, || {
        variables::fill(&body, &values, &builtins).unwrap();
    });
    println!(
        "prompt library: 5,000-row CSV imported in {:.0} ms (one transaction)",
        import.as_secs_f64() * 1e3
    );
    println!("  search (\"role 4999\")   {}", stats(search));
    println!("  list all 5,000          {}", stats(all));
    println!("  fill 2 variables        {}", stats(fill));
}

fn main() {
    if import::child_if_asked() {
        return;
    }
    // `cargo bench --bench bench -- judge` runs only the benchmarks whose name contains "judge".
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let benches: [(&str, fn()); 13] = [
        ("search_1m", search::search_1m),
        ("thread_page_10k", search::thread_page_10k),
        ("leaderboard", leaderboard_stats),
        ("probing", probing_and_clients),
        ("ask_vs_curl", ask_vs_curl),
        ("long_chat_10k", || long_chat(10_000)),
        ("long_chat_100k", || long_chat(100_000)),
        ("sse", sse_throughput),
        ("tokenizer", tokenizer),
        ("judge", judge::judge_throughput),
        ("prompts", prompt_library),
        ("import_100mb", import::import_100mb),
        ("suites_1000", suites::suite_1000),
    ];
    for (name, f) in benches {
        if filters.is_empty() || filters.iter().any(|x| name.contains(x.as_str())) {
            f();
        }
    }
}
