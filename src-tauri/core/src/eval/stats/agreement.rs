//! Agreement between a human and a judge: Cohen's κ on pairwise labels, Spearman's ρ on scores.

use serde::{Deserialize, Serialize};

/// A pairwise label (the one "who won" type); bad and inconsistent count as a tie.
pub use crate::outcome::Outcome as PairwiseLabel;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairwiseAgreement {
    pub items: usize,
    /// Share of items with the same label, in [0, 1]; None without items.
    pub percent_agreement: Option<f64>,
    /// Cohen's κ = (po − pe) / (1 − pe); None without items or when pe = 1 (both raters used
    /// one and the same label throughout, so chance agreement is total).
    pub kappa: Option<f64>,
}

/// Percentage agreement and Cohen's κ over (human, judge) label pairs.
pub fn pairwise_agreement(pairs: &[(PairwiseLabel, PairwiseLabel)]) -> PairwiseAgreement {
    let items = pairs.len();
    if items == 0 {
        return PairwiseAgreement {
            items,
            percent_agreement: None,
            kappa: None,
        };
    }
    let idx = |l: PairwiseLabel| match l.agreement_label() {
        PairwiseLabel::A => 0,
        PairwiseLabel::B => 1,
        _ => 2,
    };
    let (mut first, mut second, mut same) = ([0usize; 3], [0usize; 3], 0usize);
    for &(x, y) in pairs {
        first[idx(x)] += 1;
        second[idx(y)] += 1;
        same += usize::from(x.agreement_label() == y.agreement_label());
    }
    let n = items as f64;
    let po = same as f64 / n;
    let pe: f64 = (0..3)
        .map(|k| first[k] as f64 * second[k] as f64)
        .sum::<f64>()
        / (n * n);
    let kappa = (pe < 1.0 - 1e-12).then(|| (po - pe) / (1.0 - pe));
    PairwiseAgreement {
        items,
        percent_agreement: Some(po),
        kappa,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreAgreement {
    pub items: usize,
    /// Spearman's ρ (Pearson correlation of average ranks); None if fewer than 2 items, a
    /// non-finite score, or either side has no variance.
    pub spearman: Option<f64>,
}

/// Spearman's rank correlation over (human, judge) score pairs, ties given average ranks.
pub fn score_agreement(pairs: &[(f64, f64)]) -> ScoreAgreement {
    ScoreAgreement {
        items: pairs.len(),
        spearman: spearman(pairs),
    }
}

pub fn spearman(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 2 || pairs.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
        return None;
    }
    let rx = average_ranks(pairs.iter().map(|p| p.0));
    let ry = average_ranks(pairs.iter().map(|p| p.1));
    pearson(&rx, &ry)
}

/// 1-based ranks, tied values sharing the average of their positions.
pub fn average_ranks(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<(f64, usize)> = values.enumerate().map(|(i, x)| (x, i)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; v.len()];
    let mut start = 0;
    while start < v.len() {
        let mut end = start + 1;
        while end < v.len() && v[end].0 == v[start].0 {
            end += 1;
        }
        let avg = (start + end + 1) as f64 / 2.0; // mean of positions start+1 ..= end
        for item in &v[start..end] {
            ranks[item.1] = avg;
        }
        start = end;
    }
    ranks
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    fn labels(counts: [[usize; 3]; 3]) -> Vec<(PairwiseLabel, PairwiseLabel)> {
        use PairwiseLabel::*;
        let l = [A, B, Tie];
        let mut v = Vec::new();
        for (i, row) in counts.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                v.extend((0..c).map(|_| (l[i], l[j])));
            }
        }
        v
    }

    #[test]
    fn cohen_kappa_matches_published_examples() {
        // Wikipedia, "Cohen's kappa", worked examples (Yes→A, No→B): 20/5/10/15 gives po 0.7,
        // κ 0.4; 45/15/25/15 gives κ 0.1304 and 25/35/5/35 gives κ 0.2593 (both po 0.6).
        let k = pairwise_agreement(&labels([[20, 5, 0], [10, 15, 0], [0, 0, 0]]));
        assert_eq!(k.items, 50);
        assert!((k.percent_agreement.unwrap() - 0.7).abs() < 1e-12);
        assert!((k.kappa.unwrap() - 0.4).abs() < 1e-12);
        let k = pairwise_agreement(&labels([[45, 15, 0], [25, 15, 0], [0, 0, 0]]));
        assert!((k.kappa.unwrap() - 0.1304).abs() < 5e-5);
        let k = pairwise_agreement(&labels([[25, 35, 0], [5, 35, 0], [0, 0, 0]]));
        assert!((k.kappa.unwrap() - 0.2593).abs() < 5e-5);
        // Three labels; reference computed with numpy from the confusion matrix
        // (po = trace/n, pe = Σ row·col / n²): po 0.75, κ 0.6137339055793992.
        let k = pairwise_agreement(&labels([[20, 3, 2], [4, 15, 1], [3, 2, 10]]));
        assert!((k.percent_agreement.unwrap() - 0.75).abs() < 1e-12);
        assert!((k.kappa.unwrap() - 0.6137339055793992).abs() < 1e-12);
    }

    #[test]
    fn cohen_kappa_undefined_cases() {
        let none = pairwise_agreement(&[]);
        assert_eq!((none.percent_agreement, none.kappa), (None, None));
        // Both always say A: perfect agreement, but κ is 0/0.
        let same = pairwise_agreement(&labels([[5, 0, 0], [0, 0, 0], [0, 0, 0]]));
        assert_eq!((same.percent_agreement, same.kappa), (Some(1.0), None));
        let perfect = pairwise_agreement(&labels([[3, 0, 0], [0, 4, 0], [0, 0, 2]]));
        assert_eq!(perfect.kappa, Some(1.0));
    }

    #[test]
    fn spearman_with_ties_matches_scipy() {
        // scipy.stats.spearmanr 1.14.1 on the same data.
        let x = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 4.0, 5.0, 3.0, 1.0];
        let y = [2.0, 1.0, 3.0, 3.0, 5.0, 4.0, 4.0, 5.0, 2.0, 2.0];
        let pairs: Vec<(f64, f64)> = x.into_iter().zip(y).collect();
        assert!((spearman(&pairs).unwrap() - 0.8481012658227848).abs() < 1e-12);
        let pairs = [
            (10.0, 5.0),
            (20.0, 5.0),
            (20.0, 6.0),
            (30.0, 7.0),
            (40.0, 7.0),
        ];
        assert!((spearman(&pairs).unwrap() - 0.892217816219194).abs() < 1e-12);
        assert_eq!(
            average_ranks([3.0, 1.0, 3.0, 2.0].into_iter()),
            [3.5, 1.0, 3.5, 2.0]
        );
        let rev = [(1.0, 9.0), (2.0, 7.0), (3.0, 1.0)];
        assert!((spearman(&rev).unwrap() + 1.0).abs() < 1e-12);
    }

    #[test]
    fn spearman_undefined_cases() {
        assert_eq!(spearman(&[]), None);
        assert_eq!(spearman(&[(1.0, 2.0)]), None);
        assert_eq!(spearman(&[(1.0, 2.0), (2.0, 2.0), (3.0, 2.0)]), None);
        assert_eq!(spearman(&[(1.0, 2.0), (f64::NAN, 3.0)]), None);
        let s = score_agreement(&[(1.0, 1.0), (2.0, 3.0)]);
        assert_eq!((s.items, s.spearman), (2, Some(1.0)));
    }
}
