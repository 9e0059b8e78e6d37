//! The fake server's hostile mode (issue 14, "hostile text"): once a test calls
//! `FakeOpenAi::serve_hostile`, that server lists the payload corpus (tests/e2e/payloads.json) as
//! its model names, and the model `test-hostile-error` answers 500 with the whole corpus as the
//! error message; on `/v1/responses`, the model `test-hostile-responses` streams it as the model's
//! name, a reasoning summary and output text, then fails with it as the error message. Other
//! servers in the same test binary are not affected.

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

/// The model whose Responses API stream is all payloads.
pub const RESPONSES_MODEL: &str = "test-hostile-responses";

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
        for id in ["test-model", ERROR_MODEL, RESPONSES_MODEL, "test-vision"] {
            data.insert(0, json!({ "id": id, "object": "model", "created": 1700000000, "owned_by": "parley-tests" }));
        }
        return Some(Json(json!({ "object": "list", "data": data })).into_response());
    }
    if !get && model == RESPONSES_MODEL && path.trim_end_matches('/') == "/v1/responses" {
        return Some(responses_stream());
    }
    if !get && model == ERROR_MODEL {
        let message = payloads().join("\n");
        let body = json!({ "error": { "message": message, "type": "server_error", "param": null, "code": "<img src=x onerror=top.__pwned=1>" } });
        return Some((StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response());
    }
    None
}

/// A Responses API stream of payloads: the model's name, reasoning summary parts and output text
/// deltas, then `response.failed` with the corpus as the message (the partial reply is kept).
fn responses_stream() -> Response {
    let payloads = payloads();
    let mut events = vec![json!({"type": "response.created", "sequence_number": 0,
        "response": {"id": "resp_h", "object": "response", "status": "in_progress", "model": payloads[0], "output": []}})];
    for (i, p) in payloads.iter().enumerate() {
        events.push(
            json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_h",
            "output_index": 0, "summary_index": i / 24, "delta": format!("{p}\n")}),
        );
    }
    for p in &payloads {
        events.push(
            json!({"type": "response.output_text.delta", "item_id": "msg_h", "output_index": 1,
            "content_index": 0, "delta": format!("{p}\n\n")}),
        );
    }
    events.push(json!({"type": "response.failed", "response": {"id": "resp_h", "status": "failed",
        "model": payloads[1], "error": {"code": "<img src=x onerror=top.__pwned=1>", "message": payloads.join("\n")}}}));
    let body: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    (
        [(axum::http::header::CONTENT_TYPE, "text/event-stream")],
        body,
    )
        .into_response()
}
