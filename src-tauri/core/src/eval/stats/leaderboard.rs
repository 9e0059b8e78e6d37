//! Leaderboard statistics from pairwise votes.
//!
//! Pure functions over slices (no database, no UI): the caller applies filters (tag, topic,
//! date) and passes the battles it selected.
//!
//! # Choices (documented, exposed where they are a choice)
//! - **Ranking** is Bradley–Terry maximum likelihood, fitted with the MM (Zermelo) iteration of
//!   Hunter (2004, *Ann. Statist.* 32:384–406). `P(i beats j) = γi / (γi + γj)`.
//! - **Scale**: `rating = 400·log10(γ)` shifted so that the **mean rating of the listed models is
//!   1000**; a 400-point gap means 10:1 odds, as in Elo.
//! - **Ties** count as half a win for each side (the likelihood is the BT likelihood with
//!   fractional wins, as in Chatbot Arena).
//! - **"Both bad"** votes: [`BothBadPolicy`] — `Tie` (default, as Chatbot Arena: neither was
//!   better) or `Exclude` (dropped before anything is counted).
//! - **Regularisation**: every model plays `prior_games` virtual games (default 1) against a fixed
//!   virtual opponent of strength 1 (rating 1000 before centring), half won and half lost. This
//!   keeps ratings finite when a model never loses or never wins, and ties otherwise
//!   unconnected groups of models to a common reference. With 10,000 real battles its effect is
//!   negligible; with few battles it shrinks ratings towards the middle. `prior_games = 0` gives
//!   the plain MLE, which exists only if the "beats" graph is strongly connected (else an
//!   `invalid` error); it is allowed only without bootstrap (a resample can break that).
//! - **Disconnected comparison graphs** (groups of models never compared with each other): the
//!   fit still works because of the virtual opponent, but ratings *across* groups are only
//!   related through that prior and are not meaningful; [`Leaderboard::components`] says how many
//!   groups there are so the UI can warn.
//! - **Convergence**: stop when no log-strength moves by more than `tolerance` (default 1e-10)
//!   in one iteration, or after `max_iterations` (default 10,000); [`Leaderboard::converged`].
//!   Each MM step is followed by an exact step on the common level of all strengths (only the
//!   prior depends on it); without it MM needs ~54,000 iterations on 10,000 battles, with it ~60.
//! - **Bootstrap**: battles are resampled with replacement `bootstrap_rounds` times (default
//!   1000); each resample is refitted and centred the same way; the interval is the 2.5 / 97.5
//!   percentile (linear interpolation, as numpy's default). Round `r` uses its own RNG seeded
//!   from `(seed, r)`, so results are reproducible and independent of the number of threads.
//!   Battles are aggregated into (pair, outcome) cells first, so a round costs O(battles) draws
//!   plus a fit on the small pair matrix; rounds run on all cores.
//! - **Online Elo** (shown beside, not used for ranking): battles in the given order, K = 4 by
//!   default (Chatbot Arena's value; 32 reacts faster but is noisier), start 1000, tie = ½.
//!   It depends on the order; Bradley–Terry does not.
//! - **Win rate** (per model and in the matrix) counts ties as half a win.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use super::bradley_terry::{bradley_terry, PairResult};
use super::bradley_terry::{centred_ratings, mm_fit, Scratch, SCALE};

/// The outcome of one vote between model `a` and model `b` (the one "who won" type).
pub use crate::outcome::Outcome as BattleOutcome;

/// One pairwise vote. The order of `a`/`b` carries no meaning beyond the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Battle {
    pub a: String,
    pub b: String,
    pub outcome: BattleOutcome,
}

impl Battle {
    pub fn new(a: impl Into<String>, b: impl Into<String>, outcome: BattleOutcome) -> Self {
        Battle {
            a: a.into(),
            b: b.into(),
            outcome,
        }
    }
}

/// What a "both bad" vote counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BothBadPolicy {
    /// A tie: neither reply was better (Chatbot Arena's choice).
    #[default]
    Tie,
    /// Dropped: not counted anywhere.
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LeaderboardOptions {
    /// Bootstrap resamples; 0 = no intervals (`ciLow`/`ciHigh` are null).
    pub bootstrap_rounds: usize,
    pub seed: u64,
    pub both_bad: BothBadPolicy,
    /// K factor of the online Elo shown beside the ranking.
    pub elo_k: f64,
    /// Virtual games per model against a fixed opponent of rating 1000 (half won, half lost).
    pub prior_games: f64,
    /// Largest change of any natural-log strength in one iteration at which the fit stops.
    pub tolerance: f64,
    pub max_iterations: usize,
}

impl Default for LeaderboardOptions {
    fn default() -> Self {
        LeaderboardOptions {
            bootstrap_rounds: 1000,
            seed: 0x5EED_1EAD,
            both_bad: BothBadPolicy::Tie,
            elo_k: 4.0,
            prior_games: 1.0,
            tolerance: 1e-10,
            max_iterations: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// 1-based position by Bradley–Terry rating.
    pub rank: usize,
    pub model: String,
    /// Bradley–Terry rating: 400·log10 strength, mean of all listed models = 1000.
    pub rating: f64,
    /// Bootstrap 2.5 % / 97.5 % percentiles of the rating (None without bootstrap).
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Battles counted (after the both-bad policy), wins, losses, ties.
    pub battles: u64,
    pub wins: u64,
    pub losses: u64,
    pub ties: u64,
    /// (wins + ties/2) / battles.
    pub win_rate: f64,
    /// Online Elo after all battles in the given order (order-dependent; not the ranking).
    pub elo: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leaderboard {
    /// Models in ranking order; the order of `rows` and of both matrices' rows and columns.
    pub models: Vec<String>,
    pub rows: Vec<Row>,
    /// `win_matrix[i][j]`: model i's win rate against model j (ties as half); None if they
    /// never met (and on the diagonal).
    pub win_matrix: Vec<Vec<Option<f64>>>,
    /// `battle_counts[i][j]`: battles between model i and model j (symmetric).
    pub battle_counts: Vec<Vec<u64>>,
    /// Battles counted (after the both-bad policy).
    pub total_battles: u64,
    /// Groups of models connected by comparisons; > 1 means ratings across groups are not
    /// comparable (they meet only through the prior).
    pub components: usize,
    /// Whether the point fit met the tolerance.
    pub converged: bool,
    pub options: LeaderboardOptions,
}

/// Online Elo in the given order (`P(a wins) = 1/(1+10^((Rb−Ra)/400))`, tie = ½), start 1000.
pub fn online_elo(battles: &[Battle], k: f64, both_bad: BothBadPolicy) -> HashMap<String, f64> {
    let mut r: HashMap<String, f64> = HashMap::new();
    for b in battles {
        let score_a = match (b.outcome, both_bad) {
            (BattleOutcome::A, _) => 1.0,
            (BattleOutcome::B, _) => 0.0,
            (BattleOutcome::Tie | BattleOutcome::Inconsistent, _)
            | (BattleOutcome::Bad, BothBadPolicy::Tie) => 0.5,
            (BattleOutcome::Bad, BothBadPolicy::Exclude) => continue,
        };
        let ra = *r.get(&b.a).unwrap_or(&1000.0);
        let rb = *r.get(&b.b).unwrap_or(&1000.0);
        let expected_a = 1.0 / (1.0 + 10f64.powf((rb - ra) / 400.0));
        let delta = k * (score_a - expected_a);
        r.insert(b.a.clone(), ra + delta);
        r.insert(b.b.clone(), rb - delta);
    }
    r
}

/// Builds the Bradley–Terry leaderboard with bootstrap intervals, the win matrix, battle counts
/// and the online Elo. Errors (`invalid`) on a battle of a model against itself, an empty model
/// name, or bad options.
pub fn leaderboard(battles: &[Battle], opts: &LeaderboardOptions) -> Result<Leaderboard> {
    if !(opts.elo_k.is_finite() && opts.elo_k >= 0.0) {
        return Err(Error::invalid("elo_k must be a finite number ≥ 0"));
    }
    if opts.prior_games == 0.0 && opts.bootstrap_rounds > 0 {
        return Err(Error::invalid(
            "the bootstrap needs prior_games > 0 (a resample may leave a model without a win)",
        ));
    }
    // Index models (first appearance) and aggregate battles into (pair, outcome) cells.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    fn id<'a>(
        index: &mut HashMap<&'a str, usize>,
        names: &mut Vec<&'a str>,
        name: &'a str,
    ) -> Result<usize> {
        if name.trim().is_empty() {
            return Err(Error::invalid("a battle has an empty model name"));
        }
        Ok(*index.entry(name).or_insert_with(|| {
            names.push(name);
            names.len() - 1
        }))
    }
    // cell = pair * 3 + outcome, outcome 0: lower index won, 1: higher index won, 2: tie.
    let mut pair_of: HashMap<(usize, usize), usize> = HashMap::new();
    let mut pair_list: Vec<(usize, usize)> = Vec::new();
    let mut cells: Vec<u32> = Vec::with_capacity(battles.len());
    for b in battles {
        if b.a == b.b {
            return Err(Error::invalid(format!(
                "a battle of \"{}\" against itself",
                b.a
            )));
        }
        let a_won = match (b.outcome, opts.both_bad) {
            (BattleOutcome::A, _) => Some(true),
            (BattleOutcome::B, _) => Some(false),
            (BattleOutcome::Tie | BattleOutcome::Inconsistent, _)
            | (BattleOutcome::Bad, BothBadPolicy::Tie) => None,
            (BattleOutcome::Bad, BothBadPolicy::Exclude) => {
                if b.a.trim().is_empty() || b.b.trim().is_empty() {
                    return Err(Error::invalid("a battle has an empty model name"));
                }
                continue;
            }
        };
        let ia = id(&mut index, &mut names, &b.a)?;
        let ib = id(&mut index, &mut names, &b.b)?;
        let (lo, hi) = (ia.min(ib), ia.max(ib));
        let p = *pair_of.entry((lo, hi)).or_insert_with(|| {
            pair_list.push((lo, hi));
            pair_list.len() - 1
        });
        let outcome = match a_won {
            None => 2,
            Some(a_won) => u32::from(a_won != (ia == lo)),
        };
        cells.push(p as u32 * 3 + outcome);
    }
    let n = names.len();
    let counts = count_cells(&cells, pair_list.len());
    let pairs = to_pairs(&pair_list, &counts);
    let (ratings, converged) = bradley_terry(
        n,
        &pairs,
        opts.prior_games,
        opts.tolerance,
        opts.max_iterations,
    )?;
    let theta: Vec<f64> = ratings.iter().map(|r| (r - 1000.0) / SCALE).collect();
    let intervals = bootstrap(&cells, &pair_list, n, &theta, opts);

    // Tallies per model and per pair.
    let mut wins = vec![0u64; n];
    let mut losses = vec![0u64; n];
    let mut ties = vec![0u64; n];
    let mut score = vec![vec![0.0f64; n]; n];
    let mut games = vec![vec![0u64; n]; n];
    for (p, &(lo, hi)) in pair_list.iter().enumerate() {
        let [lo_won, hi_won, tied] = [counts[p * 3], counts[p * 3 + 1], counts[p * 3 + 2]];
        wins[lo] += lo_won;
        losses[lo] += hi_won;
        wins[hi] += hi_won;
        losses[hi] += lo_won;
        ties[lo] += tied;
        ties[hi] += tied;
        let total = lo_won + hi_won + tied;
        games[lo][hi] = total;
        games[hi][lo] = total;
        score[lo][hi] = lo_won as f64 + tied as f64 / 2.0;
        score[hi][lo] = hi_won as f64 + tied as f64 / 2.0;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| {
        ratings[y]
            .total_cmp(&ratings[x])
            .then_with(|| names[x].cmp(names[y]))
    });
    let elo = online_elo(battles, opts.elo_k, opts.both_bad);
    let rows = order
        .iter()
        .enumerate()
        .map(|(pos, &k)| {
            let battles = wins[k] + losses[k] + ties[k];
            Row {
                rank: pos + 1,
                model: names[k].to_string(),
                rating: ratings[k],
                ci_low: intervals.as_ref().map(|iv| iv[k].0),
                ci_high: intervals.as_ref().map(|iv| iv[k].1),
                battles,
                wins: wins[k],
                losses: losses[k],
                ties: ties[k],
                win_rate: (wins[k] as f64 + ties[k] as f64 / 2.0) / battles as f64,
                elo: elo.get(names[k]).copied().unwrap_or(1000.0),
            }
        })
        .collect();
    let win_matrix = order
        .iter()
        .map(|&x| {
            order
                .iter()
                .map(|&y| (games[x][y] > 0).then(|| score[x][y] / games[x][y] as f64))
                .collect()
        })
        .collect();
    let battle_counts = order
        .iter()
        .map(|&x| order.iter().map(|&y| games[x][y]).collect())
        .collect();
    Ok(Leaderboard {
        models: order.iter().map(|&k| names[k].to_string()).collect(),
        rows,
        win_matrix,
        battle_counts,
        total_battles: cells.len() as u64,
        components: components(n, &pair_list),
        converged,
        options: opts.clone(),
    })
}

fn count_cells(cells: &[u32], pairs: usize) -> Vec<u64> {
    let mut counts = vec![0u64; pairs * 3];
    for &c in cells {
        counts[c as usize] += 1;
    }
    counts
}

fn to_pairs(pair_list: &[(usize, usize)], counts: &[u64]) -> Vec<PairResult> {
    pair_list
        .iter()
        .enumerate()
        .map(|(p, &(i, j))| {
            let [w, l, t] = [counts[p * 3], counts[p * 3 + 1], counts[p * 3 + 2]];
            PairResult {
                i,
                j,
                wins_i: w as f64 + t as f64 / 2.0,
                games: (w + l + t) as f64,
            }
        })
        .collect()
}

fn components(n: usize, pair_list: &[(usize, usize)]) -> usize {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut groups = n;
    for &(i, j) in pair_list {
        let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
        if ri != rj {
            parent[ri] = rj;
            groups -= 1;
        }
    }
    groups
}

/// A well-mixed seed for bootstrap round `r` (splitmix64 of seed and round).
fn round_seed(seed: u64, r: usize) -> u64 {
    let mut z = seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Percentile intervals (2.5 %, 97.5 %) of the centred ratings over bootstrap resamples.
fn bootstrap(
    cells: &[u32],
    pair_list: &[(usize, usize)],
    n: usize,
    theta0: &[f64],
    opts: &LeaderboardOptions,
) -> Option<Vec<(f64, f64)>> {
    let rounds = opts.bootstrap_rounds;
    if rounds == 0 || cells.is_empty() {
        return (rounds > 0).then(|| vec![(1000.0, 1000.0); n]);
    }
    let run = |range: std::ops::Range<usize>| -> Vec<Vec<f64>> {
        let mut scratch = Scratch::new(n);
        let mut counts = vec![0u64; pair_list.len() * 3];
        let mut pairs = to_pairs(pair_list, &counts);
        range
            .map(|r| {
                let mut rng = fastrand::Rng::with_seed(round_seed(opts.seed, r));
                counts.iter_mut().for_each(|c| *c = 0);
                for _ in 0..cells.len() {
                    counts[cells[rng.usize(..cells.len())] as usize] += 1;
                }
                for (p, pr) in pairs.iter_mut().enumerate() {
                    let [w, l, t] = [counts[p * 3], counts[p * 3 + 1], counts[p * 3 + 2]];
                    pr.wins_i = w as f64 + t as f64 / 2.0;
                    pr.games = (w + l + t) as f64;
                }
                let mut theta = theta0.to_vec();
                mm_fit(
                    &pairs,
                    opts.prior_games,
                    opts.tolerance.max(1e-9),
                    opts.max_iterations,
                    &mut theta,
                    &mut scratch,
                );
                centred_ratings(&theta)
            })
            .collect()
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, rounds.div_ceil(50));
    let chunk = rounds.div_ceil(threads);
    let samples: Vec<Vec<f64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk)..((t + 1) * chunk).min(rounds);
                s.spawn(move || run(range))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("bootstrap thread panicked"))
            .collect()
    });
    Some(
        (0..n)
            .map(|k| {
                let mut xs: Vec<f64> = samples.iter().map(|s| s[k]).collect();
                xs.sort_by(f64::total_cmp);
                (percentile(&xs, 0.025), percentile(&xs, 0.975))
            })
            .collect(),
    )
}

/// Percentile of sorted data with linear interpolation between closest ranks (numpy default);
/// NaN for no data.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests;
