//! The Bradley–Terry fit behind the leaderboard: Hunter's MM iteration with a virtual opponent
//! (see the choices documented in `leaderboard`).

use crate::error::{Error, Result};

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

pub(super) const SCALE: f64 = 400.0 / std::f64::consts::LN_10;

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

pub(super) fn check_fit_input(
    models: usize,
    pairs: &[PairResult],
    prior: f64,
    tol: f64,
) -> Result<()> {
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
pub(super) fn mle_exists(models: usize, pairs: &[PairResult]) -> bool {
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

pub(super) struct Scratch {
    gamma: Vec<f64>,
    wins: Vec<f64>,
    denom: Vec<f64>,
    old: Vec<f64>,
}

impl Scratch {
    pub(super) fn new(n: usize) -> Self {
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
pub(super) fn mm_fit(
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

pub(super) fn centred_ratings(theta: &[f64]) -> Vec<f64> {
    if theta.is_empty() {
        return Vec::new();
    }
    let mean = theta.iter().sum::<f64>() / theta.len() as f64;
    theta.iter().map(|t| 1000.0 + SCALE * (t - mean)).collect()
}
