//! Statistics over votes and verdicts, pure functions over slices (no database, no UI):
//! [`leaderboard`] ranks models (Bradley–Terry with bootstrap intervals, online Elo, win rates);
//! [`agreement`] measures how well a judge agrees with the user (Cohen's κ, Spearman's ρ).

pub mod agreement;
mod bradley_terry;
pub mod leaderboard;

pub use agreement::*;
pub use leaderboard::*;
