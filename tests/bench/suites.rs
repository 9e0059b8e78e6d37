//! `cargo bench --bench bench -- suites`: `parley eval run` on 1,000 cases against the fake
//! server answering each request in 50 ms, at -j 16: wall time against the ideal (cases ×
//! latency ÷ concurrency = 3.125 s; goal ≤ 1.2×) and the parley process's peak memory (goal
//! < 60 MB, `/usr/bin/time -v`'s maximum resident set). Then the same config through promptfoo
//! 0.121 (`npx`), when npm can fetch it, and the ratio. Prints numbers, asserts nothing.
//!
//! `PARLEY_BENCH_BIN=target/release/parley` measures a given binary (e.g. a release build made
//! with `cargo build -p parley-cli --release`) instead of building one with the bench's profile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fake_openai::FakeOpenAi;

const CASES: usize = 1_000;
const LATENCY_MS: u64 = 50;
const JOBS: usize = 16;

fn write_suite(dir: &Path, base_url: &str) -> PathBuf {
    let mut csv = String::from("q,__expected\n");
    for i in 0..CASES {
        csv.push_str(&format!("question {i},contains: question {i}\n"));
    }
    std::fs::write(dir.join("tests.csv"), csv).unwrap();
    let cfg = dir.join("promptfooconfig.yaml");
    std::fs::write(
        &cfg,
        format!(
            "description: bench\nprompts: ['{{{{q}}}}']\nproviders:\n  - id: openai:chat:suite-wait-{LATENCY_MS}\n    config:\n      apiBaseUrl: {base_url}\ntests: file://tests.csv\n"
        ),
    )
    .unwrap();
    cfg
}

/// Runs a command under `/usr/bin/time -v`: (wall time, peak RSS in MB, exit code).
fn measure(mut cmd: Command) -> (Duration, Option<f64>, Option<i32>) {
    let timed = Path::new("/usr/bin/time").exists();
    let mut run = if timed {
        let mut t = Command::new("/usr/bin/time");
        t.arg("-v").arg(cmd.get_program()).args(cmd.get_args());
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => t.env(k, v),
                None => t.env_remove(k),
            };
        }
        if let Some(d) = cmd.get_current_dir() {
            t.current_dir(d);
        }
        t
    } else {
        std::mem::replace(&mut cmd, Command::new("true"))
    };
    let start = Instant::now();
    let out = run
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the command runs");
    let wall = start.elapsed();
    let rss = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0);
    (wall, rss, out.status.code())
}

pub fn suite_1000() {
    let server = FakeOpenAi::start();
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let cfg = write_suite(dir.path(), &server.base_url());
    let bin = std::env::var_os("PARLEY_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(crate::bins::parley);
    let ideal = Duration::from_millis(LATENCY_MS) * CASES as u32 / JOBS as u32;
    println!(
        "suites: {CASES} cases, {LATENCY_MS} ms each, -j {JOBS}: ideal {:.3} s ({})",
        ideal.as_secs_f64(),
        bin.display()
    );
    let mut cmd = Command::new(&bin);
    cmd.env("PARLEY_DATA_DIR", data.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .args(["eval", "run"])
        .arg(&cfg)
        .args(["-j", &JOBS.to_string(), "--no-cache"]);
    let (wall, rss, code) = measure(cmd);
    let mb = rss.map_or("?".into(), |m| format!("{m:.1} MB"));
    println!(
        "  parley eval run:   {:.3} s = {:.2}x ideal (goal ≤ 1.2x), peak RSS {mb} (goal < 60 MB), exit {code:?}",
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
    // promptfoo on the same suite, when npm can fetch it.
    let npx = Command::new("npx").arg("--version").output();
    if npx.map(|o| o.status.success()).unwrap_or(false) {
        let mut cmd = Command::new("npx");
        cmd.current_dir(dir.path())
            .env("OPENAI_API_KEY", "sk-bench-not-used")
            .env("PROMPTFOO_DISABLE_TELEMETRY", "1")
            .env("PROMPTFOO_DISABLE_UPDATE", "1")
            .args(["-y", "promptfoo@0.121", "eval", "-c"])
            .arg(&cfg)
            .args([
                "-j",
                &JOBS.to_string(),
                "--no-cache",
                "--no-write",
                "--no-table",
            ]);
        let (pf_wall, pf_rss, pf_code) = measure(cmd);
        let pf_mb = pf_rss.map_or("?".into(), |m| format!("{m:.1} MB"));
        println!(
            "  promptfoo 0.121:   {:.3} s = {:.2}x ideal, peak RSS {pf_mb} (npx's own process tree: \
             time -v reports the largest process), exit {pf_code:?}",
            pf_wall.as_secs_f64(),
            pf_wall.as_secs_f64() / ideal.as_secs_f64()
        );
        println!(
            "  promptfoo / parley wall time: {:.2}x",
            pf_wall.as_secs_f64() / wall.as_secs_f64()
        );
    } else {
        println!("  promptfoo: npx not available here; not compared");
    }
}
