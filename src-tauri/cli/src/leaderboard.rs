//! `parley leaderboard`: Bradley–Terry ratings with bootstrap intervals from every vote.

use std::io::Write;

use parley_core::error::Result;

use crate::service;

/// `parley leaderboard`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the whole result as JSON (with the win-rate matrix).
    #[arg(long)]
    json: bool,
    /// Only votes from the arena or from choices among replies.
    #[arg(long, value_enum)]
    source: Option<SourceArg>,
    /// Only battles where a reply carries this rating tag.
    #[arg(long)]
    tag: Option<String>,
}

/// Where a vote came from.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SourceArg {
    Arena,
    Choice,
}

pub async fn run(args: Args) -> Result<i32> {
    let Args { json, source, tag } = args;
    use parley_core::eval::arena::{BattleFilter, Source};
    let service = service()?;
    let filter = BattleFilter {
        source: source.map(|s| match s {
            SourceArg::Choice => Source::Choice,
            SourceArg::Arena => Source::Arena,
        }),
        tag,
        ..Default::default()
    };
    let options = parley_core::eval::stats::LeaderboardOptions::default();
    let board = service.leaderboard(filter, options.clone()).await?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = woutln!(
            out,
            "{}",
            serde_json::to_string_pretty(&board).unwrap_or_default()
        );
        return Ok(0);
    }
    if board.rows.is_empty() {
        errln!("parley: no votes yet (parley arena, or continue from one of several models side by side)");
        return Ok(0);
    }
    let _ = woutln!(
        out,
        "{:>3}  {:<32} {:>7}  {:>15}  {:>7}  {:>11}  {:>6}  {:>6}",
        "#",
        "model",
        "rating",
        "95% interval",
        "battles",
        "W/L/T",
        "win %",
        "elo"
    );
    let ci = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or_else(|| "—".into());
    for r in &board.rows {
        let _ = woutln!(
            out,
            "{:>3}  {:<32} {:>7.0}  {:>15}  {:>7}  {:>11}  {:>5.1}%  {:>6.0}",
            r.rank,
            r.model,
            r.rating,
            format!("{} – {}", ci(r.ci_low), ci(r.ci_high)),
            r.battles,
            format!("{}/{}/{}", r.wins, r.losses, r.ties),
            r.win_rate * 100.0,
            r.elo
        );
    }
    let _ = woutln!(
        out,
        "{} battle{}; Bradley–Terry maximum likelihood, {} bootstrap rounds; both-bad votes count as {:?}",
        board.total_battles,
        if board.total_battles == 1 { "" } else { "s" },
        options.bootstrap_rounds,
        options.both_bad
    );
    Ok(0)
}
