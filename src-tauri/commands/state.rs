//! The state every command sees: the chat service (or why it could not be opened) and the notices
//! from opening the database.

use std::sync::{Arc, LazyLock};

use parley_core::chat::{ChatService, EnvFallback};
use parley_core::error::{Error, Result};
use parley_core::secrets::KeyringStore;

/// What the commands see. If the database could not be opened, every command reports why.
///
/// The window opens its database on a thread of its own while GTK, Tauri and the web process start
/// (`AppState::open`): the page's first command comes ~300 ms later, and a command that comes
/// sooner waits for the open to end.
pub struct AppState {
    opened: LazyLock<Opened, Box<dyn FnOnce() -> Opened + Send>>,
}

/// The service (or why it could not be opened) and the notices from opening the database.
type Opened = (Result<Arc<ChatService>>, Vec<String>);

/// A failed open: every command reports `e`, and the window shows it as a notice.
fn failed(e: Error) -> Opened {
    let notice = e.to_string();
    (Err(e), vec![notice])
}

impl AppState {
    pub fn new(service: Result<ChatService>, notices: Vec<String>) -> Self {
        let opened = (service.map(Arc::new), notices);
        AppState {
            opened: LazyLock::new(Box::new(move || opened)),
        }
    }

    /// Starts opening the real database (`PARLEY_DATA_DIR` or the OS data dir) and the OS keyring;
    /// `then` runs on that thread once the service is open.
    pub fn open(then: impl FnOnce() + Send + 'static) -> Self {
        let opening = std::thread::spawn(move || {
            let opened = parley_core::api::data_dir().and_then(|dir| {
                parley_core::open_service(
                    &dir,
                    Arc::new(KeyringStore::new()),
                    EnvFallback::from_env(),
                )
            });
            match opened {
                Ok((service, notices)) => {
                    then();
                    (
                        Ok(Arc::new(service)),
                        notices.iter().map(|n| n.to_string()).collect(),
                    )
                }
                Err(e) => {
                    eprintln!("parley: {e}");
                    failed(e)
                }
            }
        });
        AppState {
            // The first command to need it waits for the thread (a panic there reads as a failed open).
            opened: LazyLock::new(Box::new(move || {
                opening.join().unwrap_or_else(|_| {
                    failed(Error::Database {
                        message: "the database could not be opened".into(),
                    })
                })
            })),
        }
    }

    pub fn service(&self) -> Result<Arc<ChatService>> {
        self.opened.0.clone()
    }

    pub fn notices(&self) -> Vec<String> {
        self.opened.1.clone()
    }
}
