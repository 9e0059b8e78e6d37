//! Organising conversations (folders, tags, pins, archive), export/import, backups, and each
//! conversation's tools and token probabilities: what the sidebar, the export/import dialogs and
//! `parley conversations|export|import` do.

use std::path::{Path, PathBuf};

use crate::chat::ChatService;
use crate::db::backup::{self, Backup};
use crate::db::conversations::{self, Conversation};
use crate::db::organise::{self, Change, Folder, ListedConversation, OrgState, Tag};
use crate::error::Result;
use crate::params::{FunctionTool, Logprobs, Params, ResponseFormat};
use crate::transfer::{self, Format, ImportSummary, Progress, Selection};

impl ChatService {
    /// The conversations not in the bin, archived or not, each with its folder, tags and pin
    /// (pinned first, then newest).
    pub fn listed_conversations(&self, archived: bool) -> Result<Vec<ListedConversation>> {
        self.db.with(|c| organise::list(c, archived))
    }

    pub fn list_folders(&self) -> Result<Vec<Folder>> {
        self.db.with(|c| organise::list_folders(c))
    }

    /// A folder's names from the top down to it.
    pub fn folder_path(&self, id: i64) -> Result<Vec<String>> {
        self.db.with(|c| organise::folder_path(c, id))
    }

    pub fn create_folder(&self, name: &str, parent_id: Option<i64>) -> Result<Folder> {
        self.db
            .with(|c| organise::create_folder(c, name, parent_id))
    }

    pub fn rename_folder(&self, id: i64, name: &str) -> Result<Folder> {
        self.db.with(|c| organise::rename_folder(c, id, name))
    }

    pub fn move_folder(&self, id: i64, parent_id: Option<i64>) -> Result<Folder> {
        self.db.with(|c| organise::move_folder(c, id, parent_id))
    }

    pub fn delete_folder(&self, id: i64) -> Result<()> {
        self.db.with(|c| organise::delete_folder(c, id))
    }

    pub fn list_tags(&self) -> Result<Vec<Tag>> {
        self.db.with(|c| organise::list_tags(c))
    }

    /// The tag with this name, made when there is none.
    pub fn create_tag(&self, name: &str, color: Option<&str>) -> Result<Tag> {
        self.db.with(|c| organise::ensure_tag(c, name, color))
    }

    pub fn update_tag(&self, id: i64, name: &str, color: &str) -> Result<Tag> {
        self.db.with(|c| organise::update_tag(c, id, name, color))
    }

    pub fn delete_tag(&self, id: i64) -> Result<()> {
        self.db.with(|c| organise::delete_tag(c, id))
    }

    /// Moves, tags, pins or archives conversations; returns how they were, for Undo.
    pub fn organise(&self, ids: &[i64], change: &Change) -> Result<Vec<OrgState>> {
        self.db.with(|c| organise::apply(c, ids, change))
    }

    /// Undo of [`ChatService::organise`].
    pub fn undo_organise(&self, states: &[OrgState]) -> Result<()> {
        self.db.with(|c| organise::restore_states(c, states))
    }

    /// Moves conversations to the bin.
    pub fn delete_conversations(&self, ids: &[i64]) -> Result<()> {
        self.db.with(|c| organise::delete_many(c, ids))
    }

    pub fn restore_conversations(&self, ids: &[i64]) -> Result<()> {
        self.db.with(|c| organise::restore_many(c, ids))
    }

    /// Checks a selection to export (a bad id or folder is said before any file is chosen).
    pub fn check_export(&self, selection: &Selection) -> Result<()> {
        self.db.with(|c| transfer::resolve(c, selection)).map(drop)
    }

    /// Writes the selection to `path` (readable by the owner only, whole or not at all); returns
    /// how many conversations were written.
    pub fn export_conversations(
        &self,
        selection: &Selection,
        format: Format,
        path: &Path,
    ) -> Result<usize> {
        let mut n = 0;
        self.db.with(|c| {
            transfer::write_private(path, |out| {
                n = transfer::export(c, selection, format, out)?;
                Ok(())
            })
        })?;
        Ok(n)
    }

    /// Writes the selection to `out` (stdout for `parley export`); returns how many.
    pub fn export_conversations_to(
        &self,
        selection: &Selection,
        format: Format,
        out: &mut dyn std::io::Write,
    ) -> Result<usize> {
        self.db
            .with(|c| transfer::export(c, selection, format, out))
    }

    /// Imports a Parley JSON or ChatGPT export, all or nothing; `progress` returning false
    /// cancels.
    pub fn import_conversations(
        &self,
        path: &Path,
        progress: &mut dyn FnMut(Progress) -> bool,
    ) -> Result<ImportSummary> {
        self.db.with(|c| transfer::import_file(c, path, progress))
    }

    /// The backups of the open database, newest first.
    pub fn list_backups(&self) -> Result<Vec<Backup>> {
        backup::list(self.db.dir()?)
    }

    /// Puts a backup in place (the current file moved aside) and reopens it live; returns where
    /// the replaced file went.
    pub fn restore_backup_live(&self, name: &str) -> Result<PathBuf> {
        backup::restore_live(&self.db, self.db.dir()?, name)
    }

    /// Changes some of a conversation's parameters (checked by the table), the rest kept.
    pub fn edit_conversation_params(
        &self,
        conversation_id: i64,
        edit: impl FnOnce(&mut Params),
    ) -> Result<Conversation> {
        self.db.with(|c| {
            let tx = c.transaction()?;
            let mut settings = conversations::get(&tx, conversation_id)?.settings;
            edit(&mut settings.params);
            let conv = conversations::update_settings(&tx, conversation_id, settings)?;
            tx.commit()?;
            Ok(conv)
        })
    }

    /// Rewrites the database without the space of deleted rows (SQLite `VACUUM`); returns its size
    /// on disk before and after.
    pub fn compact_database(&self) -> Result<crate::db::compact::Compacted> {
        let file = self.db.dir()?.join(crate::db::DB_FILE);
        self.db.with(|c| crate::db::compact::vacuum(c, &file))
    }

    /// The function tools offered to the model in a conversation (its `tools` parameter).
    pub fn conversation_tools(&self, conversation_id: i64) -> Result<Vec<FunctionTool>> {
        let conv = self.db.with(|c| conversations::get(c, conversation_id))?;
        Ok(conv.settings.params.tools.unwrap_or_default())
    }

    /// Checks the tools (names, JSON-schema parameters) and saves them; none removes them.
    pub fn set_conversation_tools(
        &self,
        conversation_id: i64,
        list: &[FunctionTool],
    ) -> Result<Vec<FunctionTool>> {
        let conv =
            self.edit_conversation_params(conversation_id, |p| p.tools = Some(list.to_vec()))?;
        Ok(conv.settings.params.tools.unwrap_or_default())
    }

    /// Checks a response format (a schema the API would reject is explained) and saves it; None
    /// or text clears it.
    pub fn set_conversation_response_format(
        &self,
        conversation_id: i64,
        format: Option<ResponseFormat>,
    ) -> Result<Conversation> {
        self.edit_conversation_params(conversation_id, |p| p.response_format = format)
    }

    /// None: token probabilities are not asked for; Some(n): with n alternatives per token (the
    /// `logprobs` parameter).
    pub fn conversation_logprobs(&self, conversation_id: i64) -> Result<Option<i64>> {
        let conv = self.db.with(|c| conversations::get(c, conversation_id))?;
        Ok(conv.settings.params.logprobs.map(|l| l.0))
    }

    pub fn set_conversation_logprobs(
        &self,
        conversation_id: i64,
        top: Option<i64>,
    ) -> Result<Option<i64>> {
        let conv =
            self.edit_conversation_params(conversation_id, |p| p.logprobs = top.map(Logprobs))?;
        Ok(conv.settings.params.logprobs.map(|l| l.0))
    }
}
