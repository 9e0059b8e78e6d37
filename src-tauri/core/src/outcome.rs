//! Who won a comparison of `a` against `b`: ONE type for arena votes and choices, each order of a
//! judge's pairwise verdict, the judge's combined verdict, the leaderboard's battles and the
//! agreement labels. Stored as its text ("a", "b", "tie", "bad", "inconsistent"), as before.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[serde(alias = "aWins")]
    A,
    #[serde(alias = "bWins")]
    B,
    Tie,
    /// Both bad: a vote that neither deserves to win (counted as a tie or left out, by option).
    #[serde(alias = "bothBad")]
    Bad,
    /// The judge's two orders disagree (counted as a tie in agreement).
    Inconsistent,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::A => "a",
            Outcome::B => "b",
            Outcome::Tie => "tie",
            Outcome::Bad => "bad",
            Outcome::Inconsistent => "inconsistent",
        }
    }

    /// Reads the stored (or typed) text; anything else is an error.
    pub fn parse(s: &str) -> Result<Outcome> {
        match s.trim().to_ascii_lowercase().as_str() {
            "a" => Ok(Outcome::A),
            "b" => Ok(Outcome::B),
            "tie" => Ok(Outcome::Tie),
            "bad" => Ok(Outcome::Bad),
            "inconsistent" => Ok(Outcome::Inconsistent),
            other => Err(Error::invalid(format!(
                "Unknown outcome {other:?}: a, b, tie, bad or inconsistent."
            ))),
        }
    }

    /// The same outcome seen with `a` and `b` swapped.
    pub fn flip(self) -> Outcome {
        match self {
            Outcome::A => Outcome::B,
            Outcome::B => Outcome::A,
            other => other,
        }
    }

    /// A judge's verdict from its two orders (each already in terms of a and b).
    pub fn both_orders(ab: Outcome, ba: Outcome) -> Outcome {
        if ab == ba {
            ab
        } else {
            Outcome::Inconsistent
        }
    }

    /// For agreement (Cohen's κ): a, b, or tie, which "bad" and "inconsistent" count as.
    pub fn agreement_label(self) -> Outcome {
        match self {
            Outcome::A | Outcome::B => self,
            _ => Outcome::Tie,
        }
    }

    /// Can a person vote this (arena votes and choices)?
    pub fn is_vote(self) -> bool {
        self != Outcome::Inconsistent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_round_trips_and_unknown_text_is_an_error() {
        for o in [
            Outcome::A,
            Outcome::B,
            Outcome::Tie,
            Outcome::Bad,
            Outcome::Inconsistent,
        ] {
            assert_eq!(Outcome::parse(o.as_str()).unwrap(), o);
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::json!(o.as_str())
            );
        }
        assert_eq!(Outcome::parse(" TIE ").unwrap(), Outcome::Tie);
        assert_eq!(Outcome::parse("c").unwrap_err().kind(), "invalid");
        let old: Outcome = serde_json::from_str("\"bothBad\"").unwrap();
        assert_eq!(old, Outcome::Bad);
    }

    #[test]
    fn flips_combines_and_labels() {
        assert_eq!(Outcome::A.flip(), Outcome::B);
        assert_eq!(Outcome::Tie.flip(), Outcome::Tie);
        assert_eq!(Outcome::both_orders(Outcome::B, Outcome::B), Outcome::B);
        assert_eq!(
            Outcome::both_orders(Outcome::A, Outcome::Tie),
            Outcome::Inconsistent
        );
        assert_eq!(Outcome::Inconsistent.agreement_label(), Outcome::Tie);
        assert_eq!(Outcome::Bad.agreement_label(), Outcome::Tie);
        assert!(!Outcome::Inconsistent.is_vote() && Outcome::Bad.is_vote());
    }
}
