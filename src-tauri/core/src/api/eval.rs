//! Ratings, the leaderboard, exports and judge agreement: what the rating widgets and the
//! statistics dialog do. The leaderboard's bootstrap and the exports are computed on a blocking
//! thread after the rows are read, with the database lock released.

use std::path::PathBuf;

use crate::chat::ChatService;
use crate::db::judging::{self, Verdict, VerdictFilter};
use crate::error::Result;
use crate::eval::agreement::{self, JudgeAgreement};
use crate::eval::arena::{self, Battle, BattleFilter};
use crate::eval::ratings::{self, Rating, RatingState};
use crate::eval::stats::{Leaderboard, LeaderboardOptions};
use crate::eval::summary::{self, ExportFormat, ModelRatings, RatingFilter};

impl ChatService {
    /// Thumbs, a score, reasons, tags, a comment or a reference answer for one reply.
    pub fn rate_reply(&self, message_id: i64, rating: Rating) -> Result<RatingState> {
        self.db.with(|c| ratings::set(c, message_id, rating))
    }

    pub fn rating(&self, message_id: i64) -> Result<RatingState> {
        self.db.with(|c| ratings::get(c, message_id))
    }

    /// The reasons offered under a thumb.
    pub fn rating_reasons(&self) -> Result<Vec<String>> {
        self.db.with(|c| ratings::reasons(c))
    }

    pub fn set_rating_reasons(&self, reasons: Vec<String>) -> Result<Vec<String>> {
        self.db.with(|c| ratings::set_reasons(c, reasons))
    }

    /// One arena battle or choice, as stored.
    pub fn battle(&self, battle_id: i64) -> Result<Battle> {
        self.db.with(|c| arena::get(c, battle_id))
    }

    /// Every voted battle that passes the filter, oldest vote first.
    pub fn battles(&self, filter: &BattleFilter) -> Result<Vec<Battle>> {
        self.db.with(|c| arena::voted(c, filter))
    }

    /// Bradley–Terry ranking with bootstrap intervals from every vote that passes the filter. The
    /// votes are read under the lock; the bootstrap runs on a blocking thread without it.
    pub async fn leaderboard(
        &self,
        filter: BattleFilter,
        options: LeaderboardOptions,
    ) -> Result<Leaderboard> {
        let votes = self
            .read_blocking(move |c| arena::leaderboard_votes(c, &filter))
            .await?;
        super::compute(move || crate::eval::stats::leaderboard(&votes, &options)).await?
    }

    /// The judge's verdicts (single and pairwise) for the ratings view, newest first.
    pub fn list_verdicts(&self, filter: &VerdictFilter) -> Result<Vec<Verdict>> {
        self.db.with(|c| judging::list_verdicts(c, filter))
    }

    /// Every verdict about any of these replies (the replies of a page of a conversation).
    pub fn verdicts_of_messages(&self, ids: &[i64]) -> Result<Vec<Verdict>> {
        self.db.with(|c| judging::verdicts_of_messages(c, ids))
    }

    /// Thumbs and scores summed per model.
    pub fn ratings_by_model(&self, filter: &RatingFilter) -> Result<Vec<ModelRatings>> {
        self.db.with(|c| summary::by_model(c, filter))
    }

    /// Writes the ratings to a new file in the export folder and returns its path.
    pub async fn export_ratings(
        &self,
        filter: RatingFilter,
        format: ExportFormat,
    ) -> Result<PathBuf> {
        let dir = crate::exports::export_dir()?;
        let rows = self
            .read_blocking(move |c| crate::eval::export::export_data(c, &filter))
            .await?;
        super::compute(move || summary::export_rows(&rows, format, &dir)).await?
    }

    /// The ratings export's text and file extension (read on a blocking thread, formatted
    /// outside the lock).
    pub async fn ratings_export(
        &self,
        filter: RatingFilter,
        format: ExportFormat,
    ) -> Result<(String, &'static str)> {
        let data = self
            .read_blocking(move |c| crate::eval::export::export_data(c, &filter))
            .await?;
        super::compute(move || crate::eval::export::format_export(&data, format)).await?
    }

    /// How well each judge model and rubric agrees with the user's own ratings and votes.
    pub async fn judge_agreement(&self) -> Result<Vec<JudgeAgreement>> {
        self.read_blocking(|c| agreement::by_judge(c)).await
    }
}
