//! The state every command sees: the chat service (or why it could not be opened) and the notices
//! from opening the database.

use std::sync::Arc;

use parley_core::chat::{ChatService, EnvFallback};
use parley_core::error::{Error, Result};
use parley_core::secrets::KeyringStore;

/// What the commands see. If the database could not be opened, every command reports why.
pub struct AppState {
    service: std::result::Result<Arc<ChatService>, Error>,
    pub notices: Vec<String>,
}

impl AppState {
    pub fn new(service: Result<ChatService>, notices: Vec<String>) -> Self {
        AppState {
            service: service.map(Arc::new),
            notices,
        }
    }

    /// Opens the real database (`PARLEY_DATA_DIR` or the OS data dir) and the OS keyring.
    pub fn open() -> Self {
        let opened = parley_core::api::data_dir().and_then(|dir| {
            parley_core::open_service(&dir, Arc::new(KeyringStore::new()), EnvFallback::from_env())
        });
        match opened {
            Ok((service, notices)) => {
                AppState::new(Ok(service), notices.iter().map(|n| n.to_string()).collect())
            }
            Err(e) => {
                eprintln!("parley: {e}");
                let notice = e.to_string();
                AppState::new(Err(e), vec![notice])
            }
        }
    }

    pub fn service(&self) -> Result<Arc<ChatService>> {
        self.service.clone()
    }
}
