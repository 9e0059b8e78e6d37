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

/// Wins and games of one unordered pair (i < j), ties already counted as half a win each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairResult {
    pub i: usize,
    pub j: usize,
    /// Wins of `i` over `j` (ties as ½).
    pub wins_i: f64,
    /// All games between them.
    pub games: f64,
}

const SCALE: f64 = 400.0 / std::f64::consts::LN_10;

/// Fits Bradley–Terry strengths by the MM iteration and returns ratings on the Elo-like scale
/// centred at mean 1000, with whether the tolerance was met (ratings are indexed like the
/// models `0..models` of `pairs`). Errors on bad input and when `prior_games == 0` and the MLE does not exist.
pub fn bradley_terry(
    models: usize,
    pairs: &[PairResult],
    prior_games: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Result<(Vec<f64>, bool)> {
    check_fit_input(models, pairs, prior_games, tolerance)?;
    if prior_games == 0.0 && !mle_exists(models, pairs) {
        return Err(Error::invalid(
            "the Bradley–Terry estimate does not exist without a prior: some group of models \
             never lost (or never won) against the others; use prior_games > 0",
        ));
    }
    let mut theta = vec![0.0; models];
    let mut scratch = Scratch::new(models);
    let converged = mm_fit(
        pairs,
        prior_games,
        tolerance,
        max_iterations,
        &mut theta,
        &mut scratch,
    );
    Ok((centred_ratings(&theta), converged))
}

fn check_fit_input(models: usize, pairs: &[PairResult], prior: f64, tol: f64) -> Result<()> {
    if !(prior.is_finite() && prior >= 0.0) {
        return Err(Error::invalid("prior_games must be a finite number ≥ 0"));
    }
    if !(tol.is_finite() && tol > 0.0) {
        return Err(Error::invalid("tolerance must be a finite number > 0"));
    }
    for p in pairs {
        let ok = p.i < models
            && p.j < models
            && p.i != p.j
            && p.games.is_finite()
            && p.wins_i.is_finite()
            && p.wins_i >= 0.0
            && p.wins_i <= p.games;
        if !ok {
            return Err(Error::invalid(format!("bad pair result {p:?}")));
        }
    }
    Ok(())
}

/// Plain MLE existence (Hunter 2004, Assumption 1): the directed graph "i won (at least half a
/// game) against j" is strongly connected. Models with no games at all make it fail too.
fn mle_exists(models: usize, pairs: &[PairResult]) -> bool {
    if models <= 1 {
        return true;
    }
    let mut fwd = vec![Vec::new(); models];
    let mut back = vec![Vec::new(); models];
    for p in pairs {
        if p.wins_i > 0.0 {
            fwd[p.i].push(p.j);
            back[p.j].push(p.i);
        }
        if p.games - p.wins_i > 0.0 {
            fwd[p.j].push(p.i);
            back[p.i].push(p.j);
        }
    }
    let reach = |adj: &Vec<Vec<usize>>| {
        let mut seen = vec![false; models];
        let mut stack = vec![0];
        seen[0] = true;
        while let Some(v) = stack.pop() {
            for &w in &adj[v] {
                if !seen[w] {
                    seen[w] = true;
                    stack.push(w);
                }
            }
        }
        seen.into_iter().all(|s| s)
    };
    reach(&fwd) && reach(&back)
}

struct Scratch {
    gamma: Vec<f64>,
    wins: Vec<f64>,
    denom: Vec<f64>,
    old: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Self {
        Scratch {
            gamma: vec![0.0; n],
            wins: vec![0.0; n],
            denom: vec![0.0; n],
            old: vec![0.0; n],
        }
    }
}

/// Hunter's MM update for all models at once, with the virtual opponent of strength 1:
/// `γi ← (Wi + prior/2) / (Σj nij/(γi+γj) + prior/(γi+1))`. Works in place on natural-log
/// strengths `theta`; returns whether it converged.
fn mm_fit(
    pairs: &[PairResult],
    prior: f64,
    tol: f64,
    max_iter: usize,
    theta: &mut [f64],
    s: &mut Scratch,
) -> bool {
    let n = theta.len();
    s.wins.iter_mut().for_each(|w| *w = prior / 2.0);
    for p in pairs {
        s.wins[p.i] += p.wins_i;
        s.wins[p.j] += p.games - p.wins_i;
    }
    for _ in 0..max_iter {
        for ((g, d), t) in s.gamma.iter_mut().zip(&mut s.denom).zip(theta.iter()) {
            *g = t.exp();
            *d = prior / (*g + 1.0);
        }
        for p in pairs {
            if p.games > 0.0 {
                let d = p.games / (s.gamma[p.i] + s.gamma[p.j]);
                s.denom[p.i] += d;
                s.denom[p.j] += d;
            }
        }
        s.old.copy_from_slice(theta);
        for ((t, w), d) in theta.iter_mut().zip(&s.wins).zip(&s.denom) {
            if *d > 0.0 && *w > 0.0 {
                *t = (w / d).ln();
            }
        }
        if prior == 0.0 {
            // Without the anchor the likelihood is shift-invariant: keep the mean at 0.
            let mean = theta.iter().sum::<f64>() / n as f64;
            theta.iter_mut().for_each(|t| *t -= mean);
        } else {
            // The real games do not depend on a common shift of all strengths, only the prior
            // does, so MM alone moves the overall level very slowly (54,000 iterations for
            // 10,000 battles). Put the level at its exact optimum given the differences:
            // Σ σ(θk + c) = n/2 (1-D Newton; the objective only grows, as in MM).
            let mut c = 0.0;
            for _ in 0..100 {
                let (mut f, mut fp) = (-(n as f64) / 2.0, 0.0);
                for t in theta.iter() {
                    let sg = 1.0 / (1.0 + (-(t + c)).exp());
                    f += sg;
                    fp += sg * (1.0 - sg);
                }
                let step = (f / fp).clamp(-2.0, 2.0);
                c -= step;
                if step.abs() < 1e-13 {
                    break;
                }
            }
            theta.iter_mut().for_each(|t| *t += c);
        }
        let change = theta
            .iter()
            .zip(&s.old)
            .fold(0.0f64, |m, (t, o)| m.max((t - o).abs()));
        if change < tol {
            return true;
        }
    }
    false
}

fn centred_ratings(theta: &[f64]) -> Vec<f64> {
    if theta.is_empty() {
        return Vec::new();
    }
    let mean = theta.iter().sum::<f64>() / theta.len() as f64;
    theta.iter().map(|t| 1000.0 + SCALE * (t - mean)).collect()
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
mod tests {
    use super::*;
    use BattleOutcome::{Bad as BothBad, Tie, A as AWins, B as BWins};

    fn repeat(out: &mut Vec<Battle>, a: &str, b: &str, o: BattleOutcome, times: usize) {
        out.extend((0..times).map(|_| Battle::new(a, b, o)));
    }

    /// AB: A 7, B 3, 2 ties; BC: B 6, C 4; AC: A 8, C 2.
    fn three_models() -> Vec<Battle> {
        let mut v = Vec::new();
        repeat(&mut v, "A", "B", AWins, 7);
        repeat(&mut v, "B", "A", AWins, 3);
        repeat(&mut v, "A", "B", Tie, 2);
        repeat(&mut v, "B", "C", AWins, 6);
        repeat(&mut v, "C", "B", AWins, 4);
        repeat(&mut v, "A", "C", AWins, 8);
        repeat(&mut v, "A", "C", BWins, 2);
        v
    }

    fn rating(lb: &Leaderboard, model: &str) -> f64 {
        lb.rows.iter().find(|r| r.model == model).unwrap().rating
    }

    fn no_bootstrap(prior_games: f64) -> LeaderboardOptions {
        LeaderboardOptions {
            bootstrap_rounds: 0,
            prior_games,
            ..Default::default()
        }
    }

    #[test]
    fn bradley_terry_matches_an_independent_fit() {
        // Reference: scipy.optimize.minimize (BFGS, gtol 1e-12) on the negative Bradley–Terry
        // log-likelihood written out by hand in Python (ties as half wins; the prior as one
        // virtual game per model, half won, half lost, against a fixed θ = 0), then
        // 400/ln 10 · θ centred at mean 1000 — a different algorithm from the MM used here.
        let lb = leaderboard(&three_models(), &no_bootstrap(0.0)).unwrap();
        assert!(lb.converged);
        let expected = [
            ("A", 1117.7697116908437),
            ("B", 983.8217992701047),
            ("C", 898.4084890390515),
        ];
        for (m, r) in expected {
            assert!((rating(&lb, m) - r).abs() < 1e-4, "{m}: {}", rating(&lb, m));
        }
        assert_eq!(lb.models, ["A", "B", "C"]);
        let lb = leaderboard(&three_models(), &no_bootstrap(1.0)).unwrap();
        let expected = [
            ("A", 1113.3133909480903),
            ("B", 984.1938510894581),
            ("C", 902.4927579624516),
        ];
        for (m, r) in expected {
            assert!((rating(&lb, m) - r).abs() < 1e-4, "{m}: {}", rating(&lb, m));
        }
    }

    #[test]
    fn counts_win_rates_and_matrices_by_hand() {
        let lb = leaderboard(&three_models(), &no_bootstrap(1.0)).unwrap();
        let a = &lb.rows[0];
        assert_eq!((a.model.as_str(), a.rank), ("A", 1));
        assert_eq!((a.battles, a.wins, a.losses, a.ties), (22, 15, 5, 2));
        assert!((a.win_rate - 16.0 / 22.0).abs() < 1e-12);
        // Order A, B, C. A vs B: (7 + 1) / 12.
        assert_eq!(lb.win_matrix[0][0], None);
        assert!((lb.win_matrix[0][1].unwrap() - 8.0 / 12.0).abs() < 1e-12);
        assert!((lb.win_matrix[1][0].unwrap() - 4.0 / 12.0).abs() < 1e-12);
        assert!((lb.win_matrix[2][1].unwrap() - 0.4).abs() < 1e-12);
        assert_eq!(
            lb.battle_counts,
            vec![vec![0, 12, 10], vec![12, 0, 10], vec![10, 10, 0]]
        );
        assert_eq!((lb.total_battles, lb.components), (32, 1));
        assert!(lb.rows.iter().all(|r| r.ci_low.is_none()));
        let mean = lb.rows.iter().map(|r| r.rating).sum::<f64>() / 3.0;
        assert!((mean - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn both_bad_policy_is_applied() {
        let mut v = three_models();
        repeat(&mut v, "A", "B", BothBad, 4);
        repeat(&mut v, "A", "D", BothBad, 1);
        let tie = leaderboard(&v, &no_bootstrap(1.0)).unwrap();
        assert_eq!(tie.total_battles, 37);
        assert_eq!(tie.rows.iter().find(|r| r.model == "A").unwrap().ties, 7);
        assert_eq!(tie.models.len(), 4);
        let opts = LeaderboardOptions {
            both_bad: BothBadPolicy::Exclude,
            ..no_bootstrap(1.0)
        };
        let excl = leaderboard(&v, &opts).unwrap();
        let base = leaderboard(&three_models(), &no_bootstrap(1.0)).unwrap();
        assert_eq!(excl.total_battles, 32);
        assert_eq!(excl.models, ["A", "B", "C"]);
        assert_eq!(excl.rows, base.rows);
    }

    #[test]
    fn order_does_not_change_bradley_terry_but_changes_elo() {
        let v = three_models();
        let mut shuffled = v.clone();
        fastrand::Rng::with_seed(7).shuffle(&mut shuffled);
        let x = leaderboard(&v, &no_bootstrap(1.0)).unwrap();
        let y = leaderboard(&shuffled, &no_bootstrap(1.0)).unwrap();
        assert_eq!(x.models, y.models);
        for (p, q) in x.rows.iter().zip(&y.rows) {
            assert!((p.rating - q.rating).abs() < 1e-6);
            assert_eq!((p.wins, p.losses, p.ties), (q.wins, q.losses, q.ties));
        }
        assert!(x
            .rows
            .iter()
            .zip(&y.rows)
            .any(|(p, q)| (p.elo - q.elo).abs() > 1e-6));
        // Elo by hand, K = 32: equal ratings, expected ½, A gains 16; then B beats A.
        let mut two = vec![Battle::new("A", "B", AWins), Battle::new("A", "B", BWins)];
        let e = online_elo(&two, 32.0, BothBadPolicy::Tie);
        let exp_b = 1.0 / (1.0 + 10f64.powf(32.0 / 400.0));
        assert!((e["B"] - (984.0 + 32.0 * (1.0 - exp_b))).abs() < 1e-9);
        assert!((e["A"] + e["B"] - 2000.0).abs() < 1e-9);
        two.reverse();
        let r = online_elo(&two, 32.0, BothBadPolicy::Tie);
        assert!(
            (r["A"] - e["A"]).abs() > 1.0,
            "Elo should depend on the order"
        );
    }

    #[test]
    fn swapping_sides_is_symmetric_and_mirrored_records_rate_equally() {
        let v = three_models();
        let swapped: Vec<Battle> = v
            .iter()
            .map(|b| {
                let o = b.outcome.flip();
                Battle::new(b.b.clone(), b.a.clone(), o)
            })
            .collect();
        let x = leaderboard(&v, &no_bootstrap(1.0)).unwrap();
        let y = leaderboard(&swapped, &no_bootstrap(1.0)).unwrap();
        for (p, q) in x.rows.iter().zip(&y.rows) {
            assert_eq!(p.model, q.model);
            assert!((p.rating - q.rating).abs() < 1e-6);
        }
        // X and Y each beat Z 3 times out of 4 and split 2–2: equal, Z 2 ratings lower.
        let mut m = Vec::new();
        repeat(&mut m, "X", "Z", AWins, 3);
        repeat(&mut m, "Z", "X", AWins, 1);
        repeat(&mut m, "Z", "Y", BWins, 3);
        repeat(&mut m, "Y", "Z", BWins, 1);
        repeat(&mut m, "X", "Y", AWins, 2);
        repeat(&mut m, "X", "Y", BWins, 2);
        let lb = leaderboard(&m, &no_bootstrap(0.0)).unwrap();
        assert!((rating(&lb, "X") - rating(&lb, "Y")).abs() < 1e-6);
        assert_eq!(lb.models[2], "Z");
    }

    #[test]
    fn a_model_that_never_loses_is_first_with_a_finite_rating() {
        let mut v = three_models();
        repeat(&mut v, "Champ", "A", AWins, 5);
        repeat(&mut v, "Champ", "C", AWins, 5);
        repeat(&mut v, "Champ", "B", BWins, 0);
        let lb = leaderboard(&v, &LeaderboardOptions::default()).unwrap();
        assert_eq!(lb.models[0], "Champ");
        let top = &lb.rows[0];
        assert!(top.rating.is_finite() && top.rating > rating(&lb, "A"));
        assert!(top.ci_low.unwrap().is_finite() && top.ci_high.unwrap().is_finite());
        // Without the prior the MLE does not exist: a clear error, not an infinity.
        let err = leaderboard(&v, &no_bootstrap(0.0)).unwrap_err();
        assert_eq!(err.kind(), "invalid");
    }

    #[test]
    fn bad_input_is_refused() {
        let me = [Battle::new("A", "A", AWins)];
        assert_eq!(
            leaderboard(&me, &no_bootstrap(1.0)).unwrap_err().kind(),
            "invalid"
        );
        let blank = [Battle::new("A", " ", Tie)];
        assert!(leaderboard(&blank, &no_bootstrap(1.0)).is_err());
        let opts = LeaderboardOptions {
            prior_games: 0.0,
            ..Default::default()
        };
        assert!(leaderboard(&three_models(), &opts).is_err());
        let opts = LeaderboardOptions {
            prior_games: f64::NAN,
            ..no_bootstrap(1.0)
        };
        assert!(leaderboard(&three_models(), &opts).is_err());
        let empty = leaderboard(&[], &LeaderboardOptions::default()).unwrap();
        assert!(empty.rows.is_empty() && empty.models.is_empty());
    }

    #[test]
    fn disconnected_groups_are_reported() {
        let mut v = three_models();
        repeat(&mut v, "P", "Q", AWins, 3);
        repeat(&mut v, "P", "Q", BWins, 1);
        let lb = leaderboard(&v, &no_bootstrap(1.0)).unwrap();
        assert_eq!(lb.components, 2);
        assert!(lb.rows.iter().all(|r| r.rating.is_finite()));
        assert!(rating(&lb, "P") > rating(&lb, "Q"));
    }

    #[test]
    fn serializes_in_camel_case() {
        let lb = leaderboard(&three_models(), &no_bootstrap(1.0)).unwrap();
        let j = serde_json::to_value(&lb).unwrap();
        for key in [
            "models",
            "rows",
            "winMatrix",
            "battleCounts",
            "totalBattles",
        ] {
            assert!(j.get(key).is_some(), "{key}");
        }
        let row = &j["rows"][0];
        for key in ["ciLow", "ciHigh", "winRate", "elo", "rating", "battles"] {
            assert!(row.get(key).is_some(), "{key}");
        }
        assert_eq!(j["options"]["bothBad"], "tie");
        let b: Battle = serde_json::from_str(r#"{"a":"x","b":"y","outcome":"bothBad"}"#).unwrap();
        assert_eq!(b.outcome, BothBad);
    }

    /// Battles drawn from known Bradley–Terry ratings (no ties), uniformly random pairs.
    fn simulate(truth: &[f64], n: usize, seed: u64) -> Vec<Battle> {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..n)
            .map(|_| {
                let i = rng.usize(..truth.len());
                let mut j = rng.usize(..truth.len() - 1);
                if j >= i {
                    j += 1;
                }
                let p_i = 1.0 / (1.0 + 10f64.powf((truth[j] - truth[i]) / 400.0));
                let o = if rng.f64() < p_i { AWins } else { BWins };
                Battle::new(format!("m{i}"), format!("m{j}"), o)
            })
            .collect()
    }

    #[test]
    fn recovers_known_strengths_with_honest_intervals() {
        let truth = [1250.0, 1150.0, 1050.0, 950.0, 850.0, 750.0]; // mean 1000 already
        let opts = LeaderboardOptions {
            bootstrap_rounds: 400,
            ..Default::default()
        };
        let mut covered = 0;
        let mut checked = 0;
        let mut width_big = 0.0;
        let mut width_small = 0.0;
        for seed in 1..=4 {
            let big = leaderboard(&simulate(&truth, 6000, seed), &opts).unwrap();
            assert!(big.converged);
            let expect: Vec<String> = (0..6).map(|i| format!("m{i}")).collect();
            assert_eq!(big.models, expect, "ranking order, seed {seed}");
            for r in &big.rows {
                let k: usize = r.model[1..].parse().unwrap();
                let (lo, hi) = (r.ci_low.unwrap(), r.ci_high.unwrap());
                assert!(lo <= r.rating && r.rating <= hi);
                covered += usize::from(lo <= truth[k] && truth[k] <= hi);
                checked += 1;
                width_big += hi - lo;
            }
            let small = leaderboard(&simulate(&truth, 600, seed + 100), &opts).unwrap();
            width_small += small
                .rows
                .iter()
                .map(|r| r.ci_high.unwrap() - r.ci_low.unwrap())
                .sum::<f64>();
        }
        // 95 % intervals: expect ~23 of 24; allow a few misses.
        assert!(
            covered >= 20,
            "true rating inside {covered} of {checked} intervals"
        );
        // Ten times the data: intervals about √10 ≈ 3.2 times narrower.
        let ratio = width_small / width_big;
        assert!(ratio > 2.4 && ratio < 4.2, "width ratio {ratio}");
    }

    #[test]
    fn bootstrap_is_reproducible_and_seeded() {
        let v = simulate(&[1100.0, 1000.0, 900.0], 300, 9);
        let opts = LeaderboardOptions {
            bootstrap_rounds: 200,
            ..Default::default()
        };
        let x = leaderboard(&v, &opts).unwrap();
        assert_eq!(x, leaderboard(&v, &opts).unwrap());
        let other = LeaderboardOptions { seed: 1, ..opts };
        let y = leaderboard(&v, &other).unwrap();
        assert_ne!(x.rows[0].ci_low, y.rows[0].ci_low);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], 25) == 1.75; 97.5 → 3.925
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 0.25) - 1.75).abs() < 1e-12);
        assert!((percentile(&[1.0, 2.0, 3.0, 4.0], 0.975) - 3.925).abs() < 1e-12);
    }
}
