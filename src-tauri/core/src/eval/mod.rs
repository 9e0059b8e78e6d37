//! Rating reply quality (no tauri here): human ratings, the blind arena and its leaderboard
//! statistics, the LLM judge, automatic metrics, and how well the judge agrees with the user.

pub mod agreement;
pub mod arena;
pub mod export;
pub mod judge;
pub mod metrics;
pub mod ratings;
pub mod stats;
pub mod suite;
pub mod summary;
