//! Conversations and the model table: what the sidebar and the settings dialogs do.

use crate::chat::ChatService;
use crate::db::conversations::{self, Conversation, ConversationSettings};
use crate::db::pricing::{self, ModelInfo};
use crate::error::Result;

impl ChatService {
    /// Every conversation not in the bin, newest first.
    pub fn list_conversations(&self) -> Result<Vec<Conversation>> {
        self.db.with(|c| conversations::list(c))
    }

    /// A new conversation (`None`: the default settings).
    pub fn create_conversation(
        &self,
        settings: Option<ConversationSettings>,
    ) -> Result<Conversation> {
        self.db.with(|c| conversations::create(c, settings))
    }

    pub fn conversation(&self, id: i64) -> Result<Conversation> {
        self.db.with(|c| conversations::get(c, id))
    }

    pub fn rename_conversation(&self, id: i64, title: &str) -> Result<Conversation> {
        self.db.with(|c| conversations::rename(c, id, title))
    }

    pub fn update_conversation(
        &self,
        id: i64,
        settings: ConversationSettings,
    ) -> Result<Conversation> {
        self.db
            .with(|c| conversations::update_settings(c, id, settings))
    }

    /// `None`: the default profile.
    pub fn set_conversation_profile(
        &self,
        id: i64,
        profile_id: Option<i64>,
    ) -> Result<Conversation> {
        self.db
            .with(|c| conversations::set_profile(c, id, profile_id))
    }

    /// Moves a conversation to the bin (purged later; `restore_conversation` brings it back).
    pub fn delete_conversation(&self, id: i64) -> Result<()> {
        self.db.with(|c| conversations::soft_delete(c, id))
    }

    pub fn restore_conversation(&self, id: i64) -> Result<()> {
        self.db.with(|c| conversations::restore(c, id))
    }

    /// `parley ask`: the most recent conversation (`continue_last`) or a new one, with `edit`
    /// applied to its settings and the profile set, in one transaction: a bad setting leaves
    /// nothing behind.
    pub fn start_or_continue(
        &self,
        continue_last: bool,
        profile_id: Option<i64>,
        edit: impl FnOnce(&mut ConversationSettings),
    ) -> Result<Conversation> {
        self.db.with(|c| {
            let tx = c.transaction()?;
            let existing = match continue_last {
                true => conversations::latest(&tx)?,
                false => None,
            };
            let mut settings = existing
                .as_ref()
                .map(|conv| conv.settings.clone())
                .unwrap_or_default();
            edit(&mut settings);
            let mut conv = match existing {
                Some(conv) => conversations::update_settings(&tx, conv.id, settings)?,
                None => conversations::create(&tx, Some(settings))?,
            };
            if profile_id.is_some() {
                conv = conversations::set_profile(&tx, conv.id, profile_id)?;
            }
            tx.commit()?;
            Ok(conv)
        })
    }

    /// The editable model table: prices per million tokens and context windows.
    pub fn model_table(&self) -> Result<Vec<ModelInfo>> {
        self.db.with(|c| pricing::list(c))
    }

    pub fn save_model_info(&self, info: ModelInfo) -> Result<ModelInfo> {
        self.db.with(|c| pricing::upsert(c, info))
    }

    pub fn remove_model_info(&self, model: &str) -> Result<()> {
        self.db.with(|c| pricing::remove(c, model))
    }
}
