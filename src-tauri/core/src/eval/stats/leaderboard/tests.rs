//! Unit tests of `eval::stats::leaderboard`.

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
