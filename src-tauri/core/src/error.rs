//! The one error type of Parley. Serialized for the webview and the CLI as
//! `{"kind": "...", "message": "...", ...}`; `kind` is stable and machine-readable.

use serde::ser::{Serialize, SerializeMap, Serializer};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("The API key was refused (401). Check the key in Settings. Server said: {message}")]
    Unauthorized { message: String },
    #[error("The model \"{model}\" was not found on this server. Server said: {message}")]
    ModelNotFound { model: String, message: String },
    #[error("Rate limited (429){}. Server said: {message}", retry_hint(*.retry_after_secs))]
    RateLimited {
        message: String,
        retry_after_secs: Option<f64>,
    },
    #[error("The conversation is too long for the model's context window. Server said: {message}")]
    ContextTooLong { message: String },
    #[error("The model \"{model}\" does not take images (the server refused them). Your message is kept: choose a model that can see images, or send it without them. Server said: {message}")]
    ImagesRefused { model: String, message: String },
    #[error("The server refused the request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    #[error("The server failed ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("Could not reach the server: {message}")]
    Network { message: String },
    #[error("The server stopped answering: {message}")]
    Timeout { message: String },
    #[error("The reply stream broke: {message}")]
    Stream { message: String },
    #[error("Stopped.")]
    Cancelled,
    #[error("No model is chosen for this server: pick one of its models, set a default model in Settings, or a model in this conversation's settings.")]
    NoModel,
    #[error("No API key is set for profile \"{profile}\". Add one in Settings (it is stored in the system keyring).")]
    NoKey { profile: String },
    #[error("The key of profile \"{profile}\" was saved for {}, not for {origin}, so it was not sent. Confirm it for this server in Settings, or enter the key again.", held_for.as_deref().unwrap_or("an unknown server"))]
    KeyNotConfirmed {
        profile: String,
        /// Where the request was going.
        origin: String,
        /// Where the stored key was saved for (`None`: unknown).
        held_for: Option<String>,
    },
    #[error(
        "The system keyring is not available: {message}. Parley never stores keys anywhere else."
    )]
    Keyring { message: String },
    #[error("Database problem: {message}")]
    Database { message: String },
    #[error("{message}")]
    Invalid { message: String },
    #[error("Not found: {message}")]
    NotFound { message: String },
    #[error("File problem: {message}")]
    Io { message: String },
}

fn retry_hint(secs: Option<f64>) -> String {
    match secs {
        Some(s) => format!("; retry in {s:.1} s"),
        None => String::new(),
    }
}

impl Error {
    /// Stable identifier used by the UI, the CLI and the database (`messages.error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "unauthorized",
            Error::ModelNotFound { .. } => "model_not_found",
            Error::RateLimited { .. } => "rate_limited",
            Error::ContextTooLong { .. } => "context_too_long",
            Error::ImagesRefused { .. } => "images_refused",
            Error::BadRequest { .. } => "bad_request",
            Error::Server { .. } => "server",
            Error::Network { .. } => "network",
            Error::Timeout { .. } => "timeout",
            Error::Stream { .. } => "stream",
            Error::Cancelled => "cancelled",
            Error::NoKey { .. } => "no_key",
            Error::NoModel => "no_model",
            Error::KeyNotConfirmed { .. } => "key_unconfirmed",
            Error::Keyring { .. } => "keyring",
            Error::Database { .. } => "database",
            Error::Invalid { .. } => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::Io { .. } => "io",
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound {
            message: message.into(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", self.kind())?;
        map.serialize_entry("message", &self.to_string())?;
        match self {
            Error::RateLimited {
                retry_after_secs: Some(secs),
                ..
            } => map.serialize_entry("retryAfterSecs", secs)?,
            Error::Server { status, .. } | Error::BadRequest { status, .. } => {
                map.serialize_entry("status", status)?
            }
            Error::ModelNotFound { model, .. } | Error::ImagesRefused { model, .. } => {
                map.serialize_entry("model", model)?
            }
            Error::KeyNotConfirmed {
                origin, held_for, ..
            } => {
                map.serialize_entry("origin", origin)?;
                map.serialize_entry("heldFor", held_for)?;
            }
            _ => {}
        }
        map.end()
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::not_found("no such row"),
            other => {
                let plain = match &other {
                    rusqlite::Error::SqliteFailure(f, detail) => {
                        storage_message(f.code, detail.as_deref().unwrap_or(""))
                    }
                    _ => None,
                };
                Error::Database {
                    message: plain.unwrap_or_else(|| other.to_string()),
                }
            }
        }
    }
}

impl Error {
    /// The same error with its text passed through `f` (used to redact keys a server echoed).
    pub fn map_text(self, f: impl Fn(&str) -> String) -> Error {
        match self {
            Error::Unauthorized { message } => Error::Unauthorized {
                message: f(&message),
            },
            Error::ModelNotFound { model, message } => Error::ModelNotFound {
                model: f(&model),
                message: f(&message),
            },
            Error::RateLimited {
                message,
                retry_after_secs,
            } => Error::RateLimited {
                message: f(&message),
                retry_after_secs,
            },
            Error::ImagesRefused { model, message } => Error::ImagesRefused {
                model: f(&model),
                message: f(&message),
            },
            Error::ContextTooLong { message } => Error::ContextTooLong {
                message: f(&message),
            },
            Error::BadRequest { status, message } => Error::BadRequest {
                status,
                message: f(&message),
            },
            Error::Server { status, message } => Error::Server {
                status,
                message: f(&message),
            },
            Error::Network { message } => Error::Network {
                message: f(&message),
            },
            Error::Timeout { message } => Error::Timeout {
                message: f(&message),
            },
            Error::Stream { message } => Error::Stream {
                message: f(&message),
            },
            Error::NotFound { message } => Error::NotFound {
                message: f(&message),
            },
            Error::Invalid { message } => Error::Invalid {
                message: f(&message),
            },
            other => other,
        }
    }
}

/// What a storage failure means for the user: what happened, that nothing saved was changed (SQLite
/// rolls the statement or transaction back), and what to do. Full disk, read-only folder and a
/// database another program holds locked are the ones a user can fix (issue 14).
fn storage_message(code: rusqlite::ErrorCode, detail: &str) -> Option<String> {
    use rusqlite::ErrorCode as C;
    let what = match code {
        C::DiskFull => "the disk is full, so this was not saved; what was saved before is intact. Free some space and try again",
        C::ReadOnly => "the data folder or database file is read-only, so this was not saved; what was saved before is intact. Check the folder's permissions (or the disk's)",
        C::DatabaseBusy | C::DatabaseLocked => "the database is locked by another program (another Parley, or a tool holding it open), so nothing was changed. Close it and try again",
        C::CannotOpen => "the database file cannot be opened (is the data folder read-only or missing?); nothing was changed",
        C::PermissionDenied => "permission to the database file was denied; nothing was changed. Check the data folder's permissions",
        C::SystemIoFailure => "the disk reported an input/output error; nothing more was saved. Check the disk (or free space) and try again",
        _ => return None,
    };
    Some(if detail.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({detail})")
    })
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io {
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_stable_kind_and_readable_message() {
        let e = Error::RateLimited {
            message: "slow down".into(),
            retry_after_secs: Some(2.0),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "rate_limited");
        assert_eq!(v["retryAfterSecs"], 2.0);
        assert!(v["message"].as_str().unwrap().contains("retry in 2.0 s"));
        let v = serde_json::to_value(Error::NoKey {
            profile: "default".into(),
        })
        .unwrap();
        assert_eq!(v["kind"], "no_key");
    }
}
