//! The numbers behind assertions: edit distance, perplexity, and a test's score from its
//! assertions (promptfoo's rule: weighted mean; pass = all pass, or score ≥ the test threshold).

use super::assertions::Outcome;

/// Levenshtein distance in characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Perplexity from token log-probabilities: exp(−mean); None without tokens.
pub fn perplexity(logprobs: &[f64]) -> Option<f64> {
    if logprobs.is_empty() {
        return None;
    }
    let mean = logprobs.iter().sum::<f64>() / logprobs.len() as f64;
    Some((-mean).exp())
}

/// A test's pass and score from its assertions' outcomes (promptfoo's rule, see the module doc).
pub fn score_test(outcomes: &[Outcome], threshold: Option<f64>) -> (bool, f64) {
    let total: f64 = outcomes.iter().map(|o| o.weight).sum();
    let score = if total > 0.0 {
        outcomes.iter().map(|o| o.score * o.weight).sum::<f64>() / total
    } else if outcomes.iter().all(|o| o.pass) {
        1.0
    } else {
        0.0
    };
    let pass = match threshold {
        Some(t) => score >= t,
        None => outcomes.iter().all(|o| o.pass),
    };
    (pass, score)
}
