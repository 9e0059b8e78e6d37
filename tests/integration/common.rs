use std::path::Path;
use std::sync::{Arc, Mutex};

use parley_core::api::ConversationSettings;
use parley_core::chat::{ChatEvent, ChatService, EnvFallback};
use parley_core::secrets::{ApiKey, MemoryStore};
use tempfile::TempDir;

use crate::fake_openai::FakeOpenAi;

/// A chat service over a fresh SQLite file, pointed at `server` through the environment fallback.
pub fn service(dir: &Path, server: &FakeOpenAi, key: Option<&str>) -> ChatService {
    let env = EnvFallback {
        api_key: key.map(|k| ApiKey::new(k).unwrap()),
        base_url: Some(server.base_url()),
    };
    let (service, notices) =
        parley_core::open_service(dir, Arc::new(MemoryStore::default()), env).unwrap();
    assert!(notices.is_empty(), "{notices:?}");
    service
}

pub fn tempdir() -> TempDir {
    tempfile::tempdir().unwrap()
}

/// The test's own connection to the database file a service in `dir` uses (WAL makes a second
/// connection safe): for seeding rows and for assertions the API does not offer.
pub fn peek(dir: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join(parley_core::db::DB_FILE)).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn
}

pub fn new_conversation(service: &ChatService, model: &str) -> i64 {
    let settings = ConversationSettings {
        model: Some(model.into()),
        ..Default::default()
    };
    service.create_conversation(Some(settings)).unwrap().id
}

/// Collects the events of a reply.
#[derive(Clone, Default)]
pub struct Events(pub Arc<Mutex<Vec<ChatEvent>>>);

impl Events {
    pub fn sink(&self) -> impl Fn(ChatEvent) + Send + Sync + 'static {
        let events = self.0.clone();
        move |e| events.lock().unwrap().push(e)
    }
    pub fn all(&self) -> Vec<ChatEvent> {
        self.0.lock().unwrap().clone()
    }
    pub fn text(&self) -> String {
        self.all()
            .into_iter()
            .filter_map(|e| match e {
                ChatEvent::Delta { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }
    pub fn kinds(&self) -> Vec<&'static str> {
        self.all()
            .iter()
            .map(|e| match e {
                ChatEvent::Started { .. } => "started",
                ChatEvent::Retrying { .. } => "retrying",
                ChatEvent::Delta { .. } => "delta",
                ChatEvent::Reasoning { .. } => "reasoning",
                ChatEvent::Usage { .. } => "usage",
                ChatEvent::Finished { .. } => "finished",
                ChatEvent::Failed { .. } => "failed",
            })
            .collect()
    }
}
