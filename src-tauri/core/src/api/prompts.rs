//! The saved-prompt library: what the library dialog, `/` in the composer and `parley prompts` do.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::chat::ChatService;
use crate::error::Result;
use crate::prompts::library::{self, Draft, Prompt, Sort, Version};
use crate::prompts::review::{self, DiffLine, VersionScores};
use crate::prompts::transfer::{self, ImportReport};
use crate::prompts::{builtins_now, variables};

/// A prompt's newest version with its variables filled, and which version that was.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Filled {
    pub text: String,
    pub version_id: i64,
}

impl ChatService {
    /// The library, filtered by name/title/body/tag (`query`, may be empty).
    pub fn prompts(&self, query: &str, sort: Sort) -> Result<Vec<Prompt>> {
        self.db.with(|c| library::list(c, query, sort))
    }

    pub fn prompt(&self, name: &str) -> Result<Prompt> {
        self.db.with(|c| library::get(c, name))
    }

    /// Saves a new version of `name` (creating it) when the draft changed.
    pub fn save_prompt(&self, name: &str, draft: Draft, message: &str) -> Result<Prompt> {
        self.db.with(|c| library::save(c, name, draft, message))
    }

    /// Every version of a prompt, newest first.
    pub fn prompt_versions(&self, name: &str) -> Result<Vec<Version>> {
        self.db.with(|c| library::versions(c, name))
    }

    /// Makes an old version the newest again (as a new version).
    pub fn rollback_prompt(&self, name: &str, version: i64) -> Result<Prompt> {
        self.db.with(|c| library::rollback(c, name, version))
    }

    pub fn delete_prompt(&self, name: &str) -> Result<()> {
        self.db.with(|c| library::delete(c, name))
    }

    /// Renames a prompt (what is typed after `/` changes; its history stays).
    pub fn rename_prompt(&self, old: &str, new: &str) -> Result<Prompt> {
        self.db.with(|c| library::rename(c, old, new))
    }

    pub fn set_prompt_favourite(&self, name: &str, favourite: bool) -> Result<Prompt> {
        self.db.with(|c| library::set_favourite(c, name, favourite))
    }

    /// The line diff of two versions of a prompt.
    pub fn prompt_diff(&self, name: &str, from: i64, to: i64) -> Result<Vec<DiffLine>> {
        self.db.with(|c| review::diff(c, name, from, to))
    }

    /// Uses, ratings and judge grades of the replies made from each version.
    pub fn prompt_scores(&self, name: &str) -> Result<Vec<VersionScores>> {
        self.db.with(|c| review::scores(c, name))
    }

    /// The prompt's newest version with its variables filled (`clipboard` only when the face
    /// read it).
    pub fn fill_prompt(
        &self,
        name: &str,
        values: &HashMap<String, String>,
        clipboard: Option<String>,
    ) -> Result<Filled> {
        let p = self.prompt(name)?;
        let text = variables::fill(&p.latest.draft.body, values, &builtins_now(clipboard))?;
        Ok(Filled {
            text,
            version_id: p.latest.id,
        })
    }

    /// Imports Parley JSON or awesome-chatgpt-prompts CSV, all or nothing, in batches (the lock
    /// is released between them).
    pub fn import_prompts(&self, text: &str) -> Result<ImportReport> {
        transfer::import_batched(&self.db, text)
    }

    /// The whole library, every version, as Parley JSON (read on a blocking thread).
    pub async fn prompts_json(&self) -> Result<String> {
        self.read_blocking(|c| transfer::export_json(c)).await
    }

    /// Writes the library (Parley JSON) to a new file in the export folder; returns its path.
    pub async fn export_prompts(&self) -> Result<PathBuf> {
        let dir = crate::exports::export_dir()?;
        let json = self.prompts_json().await?;
        super::compute(move || {
            crate::exports::write_new_file(&dir, "parley-prompts", "json", &json)
        })
        .await?
    }
}
