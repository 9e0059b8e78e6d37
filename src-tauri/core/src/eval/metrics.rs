//! Automatic metrics of replies (no database, no UI).
//!
//! # Choices
//! - **Tokens** ([`tokenize`]): lowercase (Unicode), then Unicode word segmentation (UAX #29,
//!   crate `unicode-segmentation`, `unicode_words`: punctuation and spaces are dropped), then
//!   every Han, Hiragana or Katakana character becomes a token of its own (Chinese and Japanese
//!   have no spaces; character-level tokens are the usual choice for Chinese, e.g. CMRC 2018
//!   scores by character). Hangul words stay whole (Korean separates words by spaces).
//! - **distinct-n** (Li et al. 2016): unique n-grams / all n-grams over the whole set of
//!   replies; n-grams do not cross reply boundaries. None when there is no n-gram.
//! - **Self-similarity**: mean pairwise Jaccard similarity |A∩B| / |A∪B| of the sets of word
//!   1-grams and 2-grams of two replies, over all unordered pairs of replies (1 = every reply
//!   uses exactly the same words and word pairs, 0 = no word in common). Pairs in which both
//!   replies are empty are skipped; None when no pair is left. Lower means more diverse.
//! - **Against a reference** (normalised = the token sequence above, so case, whitespace and
//!   punctuation do not matter; unlike SQuAD, English articles are kept, as replies are in any
//!   language): *exact match* = equal token sequences; *contains* = the reference's tokens
//!   appear contiguously in the reply (so "cat" is not found in "category"; None for an empty
//!   reference); *similarity* = SQuAD token F1 (bag-of-tokens overlap; 1 if both are empty, 0 if
//!   only one is).
//! - **Tokens per second** ([`tokens_per_second`], the only rule; the CLI and the window show
//!   its number): decoding speed `(tokens − 1) / (total − time to first token)` (the first token
//!   arrives at the time to first token, as in vLLM's TPOT); without a time to first token,
//!   `tokens / total`. None when undefined (no tokens, no time) or measured over less than 50 ms.
//! - **Log-probability** ([`logprob_metric`]), where token probabilities were stored: the mean
//!   log-probability of the reply's tokens (natural log; tokens with no finite value skipped) and
//!   the perplexity `exp(-mean)` (1 = every token certain; higher = the model was less sure).
//! - **Structured output** ([`structured_metric`], [`schema_valid_rate`]): a reply under a
//!   response format (JSON object or schema) is valid or not, with its number of errors; over a
//!   set of replies, the share that validated.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use unicode_script::{Script, UnicodeScript};
use unicode_segmentation::UnicodeSegmentation;

fn is_cjk_char(c: char) -> bool {
    matches!(
        c.script(),
        Script::Han | Script::Hiragana | Script::Katakana
    )
}

/// Lowercase word tokens; CJK characters one token each. See the module documentation.
pub fn tokenize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for word in lower.unicode_words() {
        if !word.chars().any(is_cjk_char) {
            out.push(word.to_string());
            continue;
        }
        let mut run = String::new();
        for c in word.chars() {
            if is_cjk_char(c) {
                if !run.is_empty() {
                    out.push(std::mem::take(&mut run));
                }
                out.push(c.to_string());
            } else {
                run.push(c);
            }
        }
        if !run.is_empty() {
            out.push(run);
        }
    }
    out
}

/// Token ids shared across a set of replies, so n-grams are cheap to hash.
fn intern(replies: &[&str]) -> Vec<Vec<u32>> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    replies
        .iter()
        .map(|r| {
            tokenize(r)
                .into_iter()
                .map(|t| {
                    let next = ids.len() as u32;
                    *ids.entry(t).or_insert(next)
                })
                .collect()
        })
        .collect()
}

/// distinct-n over a set of replies: unique n-grams / total n-grams; None if there is none
/// (or `n == 0`).
pub fn distinct_n(replies: &[&str], n: usize) -> Option<f64> {
    distinct_ids(&intern(replies), n)
}

fn distinct_ids(replies: &[Vec<u32>], n: usize) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let mut seen: HashSet<&[u32]> = HashSet::new();
    let mut total = 0usize;
    for r in replies {
        for g in r.windows(n) {
            seen.insert(g);
            total += 1;
        }
    }
    (total > 0).then(|| seen.len() as f64 / total as f64)
}

fn gram_set(tokens: &[u32]) -> HashSet<(u32, u32)> {
    let mut s: HashSet<(u32, u32)> = tokens.iter().map(|&t| (t, u32::MAX)).collect();
    s.extend(tokens.windows(2).map(|w| (w[0], w[1])));
    s
}

/// Mean pairwise Jaccard similarity of the 1- and 2-gram sets of the replies; None if no pair
/// of replies has a token.
pub fn self_similarity(replies: &[&str]) -> Option<f64> {
    self_similarity_ids(&intern(replies))
}

fn self_similarity_ids(replies: &[Vec<u32>]) -> Option<f64> {
    let sets: Vec<HashSet<(u32, u32)>> = replies.iter().map(|r| gram_set(r)).collect();
    let (mut sum, mut pairs) = (0.0, 0usize);
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            let inter = sets[i].intersection(&sets[j]).count();
            let union = sets[i].len() + sets[j].len() - inter;
            if union > 0 {
                sum += inter as f64 / union as f64;
                pairs += 1;
            }
        }
    }
    (pairs > 0).then(|| sum / pairs as f64)
}

/// Diversity of a set of replies (e.g. several replies to the same prompt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Diversity {
    pub replies: usize,
    pub distinct1: Option<f64>,
    pub distinct2: Option<f64>,
    pub self_similarity: Option<f64>,
}

pub fn diversity(replies: &[&str]) -> Diversity {
    let ids = intern(replies);
    Diversity {
        replies: replies.len(),
        distinct1: distinct_ids(&ids, 1),
        distinct2: distinct_ids(&ids, 2),
        self_similarity: self_similarity_ids(&ids),
    }
}

/// A reply scored against a reference answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferenceScore {
    pub exact_match: bool,
    /// None when the reference has no token.
    pub contains: Option<bool>,
    /// SQuAD token F1 in [0, 1].
    pub f1: f64,
}

pub fn exact_match(reply: &str, reference: &str) -> bool {
    tokenize(reply) == tokenize(reference)
}

pub fn contains(reply: &str, reference: &str) -> Option<bool> {
    let (r, t) = (tokenize(reply), tokenize(reference));
    (!t.is_empty()).then(|| r.windows(t.len()).any(|w| w == t.as_slice()))
}

/// SQuAD token F1: 2·P·R/(P+R) on the multiset of shared tokens.
pub fn token_f1(reply: &str, reference: &str) -> f64 {
    let (r, t) = (tokenize(reply), tokenize(reference));
    if r.is_empty() || t.is_empty() {
        return if r.is_empty() && t.is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let mut bag: HashMap<&str, usize> = HashMap::new();
    for w in &t {
        *bag.entry(w.as_str()).or_default() += 1;
    }
    let mut common = 0usize;
    for w in &r {
        if let Some(c) = bag.get_mut(w.as_str()) {
            if *c > 0 {
                *c -= 1;
                common += 1;
            }
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / r.len() as f64;
    let recall = common as f64 / t.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

pub fn reference_score(reply: &str, reference: &str) -> ReferenceScore {
    ReferenceScore {
        exact_match: exact_match(reply, reference),
        contains: contains(reply, reference),
        f1: token_f1(reply, reference),
    }
}

/// Below this much generation time a rate says nothing (and prints silly numbers).
pub const MIN_SPEED_WINDOW_MS: i64 = 50;

/// THE tokens-per-second rule (the CLI's `--stats` and the window both show this number):
/// decoding speed of a reply, see the module documentation; times in milliseconds.
pub fn tokens_per_second(
    completion_tokens: Option<i64>,
    ttft_ms: Option<i64>,
    total_ms: Option<i64>,
) -> Option<f64> {
    let (tokens, total) = (completion_tokens?, total_ms?);
    match ttft_ms {
        Some(ttft) => {
            let generation = total - ttft;
            (tokens > 1 && generation >= MIN_SPEED_WINDOW_MS)
                .then(|| (tokens - 1) as f64 * 1000.0 / generation as f64)
        }
        None => (tokens > 0 && total >= MIN_SPEED_WINDOW_MS)
            .then(|| tokens as f64 * 1000.0 / total as f64),
    }
}

/// Mean log-probability and perplexity of one reply.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogprobMetric {
    pub mean_logprob: f64,
    pub perplexity: f64,
}

/// From the stored mean log-probability (None: none were stored, or not a finite number).
pub fn logprob_metric(mean_logprob: Option<f64>) -> Option<LogprobMetric> {
    let mean = mean_logprob.filter(|m| m.is_finite())?;
    Some(LogprobMetric {
        mean_logprob: mean,
        perplexity: (-mean).exp(),
    })
}

/// A reply checked against its response format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredMetric {
    pub valid: bool,
    pub errors: usize,
}

pub fn structured_metric(check: Option<&crate::params::SchemaCheck>) -> Option<StructuredMetric> {
    check.map(|c| StructuredMetric {
        valid: c.valid,
        errors: c.errors.len(),
    })
}

/// The share of checked replies that validated; None when none was checked.
pub fn schema_valid_rate<'a>(
    checks: impl IntoIterator<Item = &'a crate::params::SchemaCheck>,
) -> Option<f64> {
    let (mut valid, mut all) = (0usize, 0usize);
    for c in checks {
        all += 1;
        valid += usize::from(c.valid);
    }
    (all > 0).then(|| valid as f64 / all as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12)
    }

    #[test]
    fn tokenizes_words_and_cjk_characters() {
        assert_eq!(
            tokenize("Hello, World! 你好世界。GPT-4o 很好"),
            ["hello", "world", "你", "好", "世", "界", "gpt", "4o", "很", "好"]
        );
        assert_eq!(
            tokenize("カタカナとひらがな"),
            ["カ", "タ", "カ", "ナ", "と", "ひ", "ら", "が", "な"]
        );
        assert!(tokenize(" ,.!? ").is_empty());
    }

    #[test]
    fn distinct_n_by_hand() {
        // unigrams: 6, unique {the, cat, sat, ran} = 4; bigrams: 4, unique 3.
        let r = ["The cat sat.", "the cat ran"];
        assert!(close(distinct_n(&r, 1), 4.0 / 6.0));
        assert!(close(distinct_n(&r, 2), 3.0 / 4.0));
        // Chinese by character: 8 unigrams, 6 unique; bigrams 我爱 爱北 北京 我爱 爱上 上海: 5/6.
        let zh = ["我爱北京", "我爱上海！"];
        assert!(close(distinct_n(&zh, 1), 6.0 / 8.0));
        assert!(close(distinct_n(&zh, 2), 5.0 / 6.0));
        assert_eq!(distinct_n(&["one"], 2), None);
        assert_eq!(distinct_n(&[], 1), None);
    }

    #[test]
    fn self_similarity_by_hand() {
        // {the, cat, sat, the cat, cat sat} vs {the, cat, ran, the cat, cat ran}: 3 / 7.
        assert!(close(
            self_similarity(&["the cat sat", "the cat ran"]),
            3.0 / 7.0
        ));
        // Adding an unrelated reply: pairs (3/7, 0, 0) → 1/7.
        assert!(close(
            self_similarity(&["the cat sat", "the cat ran", "a dog"]),
            1.0 / 7.0
        ));
        assert!(close(self_similarity(&["Same words.", "same WORDS"]), 1.0));
        // 我爱北京 vs 我爱上海: {我 爱 北 京 我爱 爱北 北京} ∩ {…上 海 爱上 上海} = {我 爱 我爱}: 3 / 11.
        assert!(close(
            self_similarity(&["我爱北京", "我爱上海"]),
            3.0 / 11.0
        ));
        assert_eq!(self_similarity(&["only one"]), None);
        assert_eq!(self_similarity(&["", "..."]), None);
        let d = diversity(&["the cat sat", "the cat ran"]);
        assert_eq!(d.replies, 2);
        assert!(close(d.distinct1, 4.0 / 6.0) && close(d.self_similarity, 3.0 / 7.0));
    }

    #[test]
    fn reference_answers() {
        assert!(exact_match(
            "  The  Answer is: PARIS. ",
            "the answer is paris"
        ));
        assert!(exact_match("北京。", "北京"));
        assert!(!exact_match("Paris", "Paris, France"));
        assert_eq!(
            contains("I think it is Paris, France.", "paris france"),
            Some(true)
        );
        assert_eq!(contains("a category", "cat"), Some(false));
        assert_eq!(contains("首都是北京。", "北京"), Some(true));
        assert_eq!(contains("anything", " ! "), None);
        // common {the, cat} = 2: P = 2/6, R = 1 → F1 = 0.5.
        assert!((token_f1("the cat sat on the mat", "The cat") - 0.5).abs() < 1e-12);
        // 北京是首都 (5 chars) vs 首都北京 (4): common 4 → P 4/5, R 1 → F1 8/9.
        assert!((token_f1("北京是首都", "首都北京") - 8.0 / 9.0).abs() < 1e-12);
        // Repeated tokens count once per occurrence: "the the" vs "the": P ½, R 1 → ⅔.
        assert!((token_f1("the the", "the") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(token_f1("", "x"), 0.0);
        assert_eq!(token_f1("", "."), 1.0);
        assert_eq!(token_f1("dog", "cat"), 0.0);
        let s = reference_score("Paris.", "paris");
        assert!(s.exact_match && s.contains == Some(true) && s.f1 == 1.0);
    }

    #[test]
    fn log_probability_and_structured_output_metrics() {
        let m = logprob_metric(Some(-1.0)).unwrap();
        assert!((m.perplexity - 1f64.exp()).abs() < 1e-12);
        assert_eq!(logprob_metric(Some(0.0)).unwrap().perplexity, 1.0);
        assert_eq!(logprob_metric(None), None);
        assert_eq!(logprob_metric(Some(f64::NAN)), None);
        let ok = crate::params::SchemaCheck {
            valid: true,
            errors: vec![],
        };
        let bad = crate::params::SchemaCheck {
            valid: false,
            errors: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            structured_metric(Some(&bad)),
            Some(StructuredMetric {
                valid: false,
                errors: 2
            })
        );
        assert_eq!(schema_valid_rate([&ok, &bad, &bad, &ok]), Some(0.5));
        assert_eq!(schema_valid_rate([]), None);
    }

    #[test]
    fn speed_and_length() {
        // 101 tokens, first at 200 ms, last at 1200 ms: 100 tokens in 1 s.
        assert!(close(
            tokens_per_second(Some(101), Some(200), Some(1200)),
            100.0
        ));
        assert!(close(tokens_per_second(Some(10), None, Some(2000)), 5.0));
        assert_eq!(tokens_per_second(Some(1), Some(100), Some(200)), None);
        assert_eq!(tokens_per_second(Some(0), None, Some(200)), None);
        assert_eq!(tokens_per_second(Some(5), Some(300), Some(300)), None);
        // Under 50 ms of generation: no rate; no counts or no time: none either.
        assert_eq!(tokens_per_second(Some(40), Some(100), Some(149)), None);
        assert!(close(
            tokens_per_second(Some(41), Some(100), Some(150)),
            800.0
        ));
        assert_eq!(tokens_per_second(None, Some(1), Some(900)), None);
        assert_eq!(tokens_per_second(Some(9), Some(1), None), None);
    }
}
