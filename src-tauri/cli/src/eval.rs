//! `parley eval run|list|show|compare`: evaluation suites in promptfoo's format, for CI.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Subcommand;
use tokio_util::sync::CancellationToken;

use parley_core::error::{Error, Result};
use parley_core::eval::suite::{config, report, runner, ResultRow, RunRow};

use crate::{one_line, service};

/// Exit code when some test failed (promptfoo's convention).
pub const EXIT_FAILED: i32 = 100;

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Run a suite (promptfooconfig.yaml): every prompt × provider × test, then a summary table.
    ///
    /// Exit codes: 0 every test passed, 100 some failed, 1 an error in the config or the run,
    /// 130 stopped with Ctrl+C (finished cells are kept).
    Run(RunArgs),
    /// The runs, newest first.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// A run's summary and cells.
    Show {
        run: i64,
        /// The whole run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Two runs cell by cell: what got fixed, broke, got better or worse.
    Compare { run_a: i64, run_b: i64 },
    /// Wait again for the batches of a `--batch` run that was interrupted, and store its cells
    /// (the suite file is read again from where the run read it). Exit codes as for `run`.
    Resume { run: i64 },
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The suite file (promptfoo's config format).
    config: PathBuf,
    /// Only the tests whose description (else vars) matches this regular expression.
    #[arg(long, value_name = "RE")]
    filter_pattern: Option<String>,
    /// Requests in flight per provider (default: the suite's maxConcurrency, else 4).
    #[arg(short = 'j', long = "max-concurrency", value_name = "N")]
    jobs: Option<usize>,
    /// Send every request, even those answered before.
    #[arg(long)]
    no_cache: bool,
    /// Write the results: JSON, or JUnit XML when the name ends in .xml.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Send the grid through the Batch API (/v1/files, /v1/batches): one batch per provider,
    /// polled until done, at the batch discount. Resumable with `parley eval resume RUN`.
    #[arg(long)]
    batch: bool,
}

pub async fn run(action: Action) -> Result<i32> {
    match action {
        Action::Run(args) => run_suite(args).await,
        Action::List { limit } => list(limit),
        Action::Show { run, json } => show(run, json),
        Action::Compare { run_a, run_b } => compare(run_a, run_b),
        Action::Resume { run } => resume(run).await,
    }
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

async fn run_suite(args: RunArgs) -> Result<i32> {
    if let Some(path) = &args.output {
        output_is_xml(path)?;
    }
    let loaded = config::load(&args.config)?;
    for f in &loaded.files {
        errln!("parley: reading {}", f.display());
    }
    let suite = loaded.suite;
    let filter = match &args.filter_pattern {
        Some(re) => Some(regex_lite(re)?),
        None => None,
    };
    let concurrency = args.jobs.or(suite.max_concurrency).unwrap_or(4);
    if concurrency == 0 || concurrency > 1024 {
        return Err(Error::invalid("-j takes a number from 1 to 1024."));
    }
    let service = service()?;
    if let Err((label, e)) = service.resolve_suite(&suite).await {
        return Err(e.map_text(|t| format!("provider {label}: {t}")));
    }
    let opts = runner::RunOptions {
        concurrency,
        use_cache: !args.no_cache,
        filter,
        // Absolute, so `parley eval resume` finds it from any folder.
        config_path: Some(
            std::path::absolute(&args.config)
                .unwrap_or_else(|_| args.config.clone())
                .display()
                .to_string(),
        ),
    };
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    // Ctrl+C stops the run (finished cells are kept); a second one quits at once.
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if stop.is_cancelled() {
                errln!("parley: interrupted");
                std::process::exit(130);
            }
            stop.cancel();
        }
    });
    let tty = std::io::stderr().is_terminal();
    let mut on_progress = |p: &runner::Progress| {
        if tty {
            let eta = p
                .eta()
                .map(|d| format!(" · ETA {}", secs(d)))
                .unwrap_or_default();
            // Numbers only: the line is redrawn in place with the terminal's own codes (through
            // `errp!` they were escaped and printed as text).
            eprint!(
                "\r\x1b[2K[{}/{}] {} passed, {} failed{}{eta}",
                p.done,
                p.total,
                p.passed,
                p.failed,
                if p.cached > 0 {
                    format!(", {} cached", p.cached)
                } else {
                    String::new()
                }
            );
        }
    };
    let finished = if args.batch {
        service
            .run_suite_batch(&suite, &opts, &cancel, &mut on_progress)
            .await?
    } else {
        service
            .run_suite(&suite, &opts, &cancel, &mut on_progress)
            .await?
    };
    if tty {
        errln!();
    }
    report_finished(&service, &finished, args.output.as_deref())
}

async fn resume(id: i64) -> Result<i32> {
    let service = service()?;
    let (run, _) = service.suite_run(id)?;
    let path = run
        .config_path
        .ok_or_else(|| Error::invalid(format!("Run {id} has no suite file to read again.")))?;
    let suite = config::load(std::path::Path::new(&path))?.suite;
    let cancel = CancellationToken::new();
    let finished = service
        .resume_suite_batch(&suite, id, &cancel, &mut |_| {})
        .await?;
    report_finished(&service, &finished, None)
}

fn report_finished(
    service: &parley_core::chat::ChatService,
    finished: &runner::Finished,
    output: Option<&std::path::Path>,
) -> Result<i32> {
    let (run, rows) = service.suite_run(finished.run_id)?;
    print_summary(&run, &rows);
    let p = finished.progress;
    errln!(
        "parley: run {} · {} cells in {} · {} passed, {} failed ({} request errors, {} from the cache)",
        run.id,
        p.done,
        secs(p.elapsed),
        p.passed,
        p.failed,
        p.errors,
        p.cached
    );
    let failed = rows.iter().any(|r| !r.pass);
    if let Some(path) = output {
        write_output(path, &run, &rows)?;
        errln!("parley: wrote {}", path.display());
    }
    Ok(if finished.cancelled {
        errln!("parley: stopped; the finished cells are kept");
        130
    } else if failed {
        EXIT_FAILED
    } else {
        0
    })
}

fn regex_lite(re: &str) -> Result<regex::Regex> {
    regex::Regex::new(re).map_err(|e| Error::invalid(format!("--filter-pattern: {e}")))
}

/// Whether `-o` names a file this can write: checked before the run (it was after every request
/// was sent, hours of them with `--batch`).
fn output_is_xml(path: &std::path::Path) -> Result<bool> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("xml") => Ok(true),
        Some("json") => Ok(false),
        _ => Err(Error::invalid(
            "-o writes .json (results) or .xml (JUnit); name the file so.",
        )),
    }
}

fn write_output(path: &std::path::Path, run: &RunRow, rows: &[ResultRow]) -> Result<()> {
    let text = if output_is_xml(path)? {
        report::junit(run, rows)
    } else {
        serde_json::to_string_pretty(&report::to_json(run, rows))
            .map_err(|e| Error::invalid(e.to_string()))?
    };
    // Owner-only and whole, as every other file Parley writes.
    parley_core::transfer::write_private(path, |out| Ok(out.write_all(text.as_bytes())?))
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn print_summary(run: &RunRow, rows: &[ResultRow]) {
    outln!(
        "Run {} · {} · {} · {}/{} cells",
        run.id,
        if run.description.is_empty() {
            "(no description)"
        } else {
            &run.description
        },
        run.status,
        rows.len(),
        run.total
    );
    outln!(
        "PROMPT\tPROVIDER\tPASSED\tPASS RATE\tSCORE\tACCURACY\tFLUENCY\tDIVERSITY\tLATENCY\tCOST"
    );
    for s in report::summaries(run, rows) {
        let opt =
            |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "-".into());
        outln!(
            "{}\t{}\t{}/{}\t{}\t{:.2}\t{}\t{}\t{}\t{}\t{}",
            one_line(&s.prompt, 40),
            s.provider,
            s.passed,
            s.cells,
            pct(s.pass_rate),
            s.mean_score,
            opt(s.accuracy, &pct),
            opt(s.fluency, &|f| format!("{:.1}/10", f * 10.0)),
            opt(s.diversity, &|d| format!("{d:.2}")),
            opt(s.mean_latency_ms, &|l| format!("{l:.0} ms")),
            opt(s.cost_usd, &|c| format!("${c:.4}")),
        );
    }
}

fn list(limit: i64) -> Result<i32> {
    let service = service()?;
    outln!("RUN\tSTATUS\tCELLS\tPASSED\tDESCRIPTION\tCONFIG");
    for r in service.suite_runs(limit.clamp(1, 10_000))? {
        outln!(
            "{}\t{}\t{}/{}\t{}\t{}\t{}",
            r.id,
            r.status,
            r.done,
            r.total,
            r.passed,
            one_line(&r.description, 50),
            r.config_path.as_deref().unwrap_or("-")
        );
    }
    Ok(0)
}

fn show(id: i64, json: bool) -> Result<i32> {
    let service = service()?;
    let (run, rows) = service.suite_run(id)?;
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report::to_json(&run, &rows)).unwrap_or_default()
        );
        return Ok(0);
    }
    print_summary(&run, &rows);
    println!();
    outln!("TEST\tPROMPT\tPROVIDER\tRESULT\tSCORE\tOUTPUT");
    let label = |l: &[String], i: usize| l.get(i).cloned().unwrap_or_default();
    for r in &rows {
        let result = match (&r.error, r.pass) {
            (Some(_), _) => "ERROR",
            (None, true) => "PASS",
            (None, false) => "FAIL",
        };
        outln!(
            "{}\t{}\t{}\t{result}\t{:.2}\t{}",
            one_line(&label(&run.grid.tests, r.test), 40),
            one_line(&label(&run.grid.prompts, r.prompt), 30),
            label(&run.grid.providers, r.provider),
            r.score,
            one_line(r.error.as_deref().unwrap_or(&r.output), 60)
        );
    }
    Ok(0)
}

fn compare(a: i64, b: i64) -> Result<i32> {
    let service = service()?;
    let (ra, rows_a) = service.suite_run(a)?;
    let (rb, rows_b) = service.suite_run(b)?;
    let c = report::compare((&ra, &rows_a), (&rb, &rows_b));
    outln!(
        "Run {a} → run {b}: {} fixed, {} broken, {} better, {} worse, {} unchanged ({} cells only in {a}, {} only in {b})",
        c.fixed.len(),
        c.broken.len(),
        c.better.len(),
        c.worse.len(),
        c.unchanged,
        c.only_before,
        c.only_after
    );
    for (what, list) in [
        ("FIXED", &c.fixed),
        ("BROKEN", &c.broken),
        ("BETTER", &c.better),
        ("WORSE", &c.worse),
    ] {
        for ch in list {
            outln!(
                "{what}\t{}\t{}\t{}\t{:.2} → {:.2}",
                one_line(&ch.test, 40),
                one_line(&ch.prompt, 30),
                ch.provider,
                ch.before.1,
                ch.after.1
            );
        }
    }
    Ok(0)
}
