//! The fake server's hostile mode (issue 14, "hostile text"): once a test calls
//! `FakeOpenAi::serve_hostile`, that server lists the payload corpus (tests/e2e/payloads.json) as
//! its model names, and the model `test-hostile-error` answers 500 with the whole corpus as the
//! error message. Other servers in the same test binary are not affected.
//! Hook for later fields (Responses API output, attachment names, suite outputs): add a model
//! name here that returns the corpus in that field.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The corpus: at least 150 strings that try to run script, load remote content or break out.
pub const PAYLOADS_JSON: &str = include_str!("../e2e/payloads.json");

/// The model that answers with the corpus as a server error.
pub const ERROR_MODEL: &str = "test-hostile-error";

/// Servers (by their second listener's port, unique per server) in hostile mode.
static HOSTILE: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

pub fn payloads() -> Vec<String> {
    serde_json::from_str(PAYLOADS_JSON).expect("tests/e2e/payloads.json is a JSON array of strings")
}

/// Puts the server whose other listener is on `port` in hostile mode.
pub fn enable(port: u16) {
    HOSTILE
        .lock()
        .unwrap()
        .get_or_insert_with(HashSet::new)
        .insert(port);
}

/// The hostile answer to `path` with `model`, if that server is hostile and the request is one
/// this mode changes; None lets the normal server answer.
pub fn route(port: u16, get: bool, path: &str, model: &str) -> Option<Response> {
    let on = HOSTILE
        .lock()
        .unwrap()
        .as_ref()
        .is_some_and(|s| s.contains(&port));
    if !on {
        return None;
    }
    if get && path.trim_end_matches('/') == "/v1/models" {
        let mut data: Vec<_> = payloads()
            .into_iter()
            .map(|id| json!({ "id": id, "object": "model", "created": 1700000000, "owned_by": "hostile" }))
            .collect();
        // The models the test itself uses stay available.
        for id in ["test-model", ERROR_MODEL] {
            data.insert(0, json!({ "id": id, "object": "model", "created": 1700000000, "owned_by": "parley-tests" }));
        }
        return Some(Json(json!({ "object": "list", "data": data })).into_response());
    }
    if !get && model == ERROR_MODEL {
        let message = payloads().join("\n");
        let body = json!({ "error": { "message": message, "type": "server_error", "param": null, "code": "<img src=x onerror=top.__pwned=1>" } });
        return Some((StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response());
    }
    None
}
