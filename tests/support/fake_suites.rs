//! The fake server's behaviour for evaluation suites (routed from fake_openai.rs):
//! - model `suite-wait-MS`: waits MS ms, then answers one JSON completion `Echo: <last message>`,
//!   recording how many requests of that model were in flight at once;
//! - model `suite-500-first`: a 500 the first time each prompt is seen, then the echo;
//! - the Batch API: `POST /v1/files` (multipart), `GET /v1/files/{id}/content`, `POST
//!   /v1/batches`, `GET /v1/batches/{id}` (in progress on the first poll, then completed, every
//!   line answered like `suite-wait-0`; a line whose model is `suite-batch-error` goes to the
//!   error file).
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Suites state of one fake server.
#[derive(Default)]
pub struct State {
    /// model → (in flight now, most at once).
    flight: Mutex<HashMap<String, (usize, usize)>>,
    seen: Mutex<HashSet<String>>,
    files: Mutex<HashMap<String, String>>,
    /// batch id → (input file id, polls so far).
    batches: Mutex<HashMap<String, (String, usize)>>,
}

impl State {
    /// The most requests of `model` that were in flight at once.
    pub fn max_in_flight(&self, model: &str) -> usize {
        self.flight.lock().unwrap().get(model).map_or(0, |f| f.1)
    }
}

fn last_text(req: &Value) -> String {
    if let Some(p) = req["prompt"].as_str() {
        return p.to_string();
    }
    let content = &req["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default()["content"];
    content.as_str().unwrap_or_default().to_string()
}

/// A whole completion answering `req`.
pub fn completion(req: &Value) -> Value {
    let text = format!("Echo: {}", last_text(req));
    let words = text.split_whitespace().count();
    let usage =
        json!({"prompt_tokens": words, "completion_tokens": words, "total_tokens": 2 * words});
    if req.get("prompt").is_some() {
        json!({"id": "cmpl-suite", "object": "text_completion", "model": req["model"],
               "choices": [{"index": 0, "text": text, "finish_reason": "stop"}], "usage": usage})
    } else {
        json!({"id": "chatcmpl-suite", "object": "chat.completion", "model": req["model"],
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop"}], "usage": usage})
    }
}

/// Answers what is the suites' to answer; `None` leaves the request to fake_openai.rs.
pub async fn route(state: &State, method: &Method, path: &str, body: &[u8]) -> Option<Response> {
    let path = path.trim_end_matches('/');
    if path.starts_with("/v1/files") || path.starts_with("/v1/batches") {
        return Some(batch_api(state, method, path, body));
    }
    let req: Value = serde_json::from_slice(body).ok()?;
    let model = req["model"].as_str()?.to_string();
    if let Some(ms) = model
        .strip_prefix("suite-wait-")
        .and_then(|m| m.parse::<u64>().ok())
    {
        {
            let mut f = state.flight.lock().unwrap();
            let e = f.entry(model.clone()).or_default();
            e.0 += 1;
            e.1 = e.1.max(e.0);
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        state.flight.lock().unwrap().get_mut(&model).unwrap().0 -= 1;
        return Some(Json(completion(&req)).into_response());
    }
    if model == "suite-500-first" && state.seen.lock().unwrap().insert(last_text(&req)) {
        let err = json!({"error": {"message": "try again", "type": "server_error"}});
        return Some((StatusCode::INTERNAL_SERVER_ERROR, Json(err)).into_response());
    }
    if model == "suite-500-first" {
        return Some(Json(completion(&req)).into_response());
    }
    None
}

fn not_found(what: &str) -> Response {
    let err =
        json!({"error": {"message": format!("No such {what}"), "type": "invalid_request_error"}});
    (StatusCode::NOT_FOUND, Json(err)).into_response()
}

/// The `file` part of a multipart body (enough of RFC 7578 for one file part).
fn multipart_file(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let start = text.find("name=\"file\"")?;
    let rest = &text[start..];
    let content = &rest[rest.find("\r\n\r\n")? + 4..];
    let end = content.find("\r\n--")?;
    Some(content[..end].to_string())
}

fn batch_api(state: &State, method: &Method, path: &str, body: &[u8]) -> Response {
    match (method, path) {
        (&Method::POST, "/v1/files") => {
            let Some(content) = multipart_file(body) else {
                return (StatusCode::BAD_REQUEST, "no file part").into_response();
            };
            let mut files = state.files.lock().unwrap();
            let id = format!("file-{}", files.len() + 1);
            let bytes = content.len();
            files.insert(id.clone(), content);
            Json(json!({"id": id, "object": "file", "bytes": bytes, "purpose": "batch"}))
                .into_response()
        }
        (&Method::GET, p) if p.starts_with("/v1/files/") && p.ends_with("/content") => {
            let id = &p["/v1/files/".len()..p.len() - "/content".len()];
            match state.files.lock().unwrap().get(id) {
                Some(c) => c.clone().into_response(),
                None => not_found("file"),
            }
        }
        (&Method::POST, "/v1/batches") => {
            let req: Value = serde_json::from_slice(body).unwrap_or_default();
            let Some(input) = req["input_file_id"].as_str() else {
                return (StatusCode::BAD_REQUEST, "input_file_id").into_response();
            };
            let mut batches = state.batches.lock().unwrap();
            let id = format!("batch-{}", batches.len() + 1);
            batches.insert(id.clone(), (input.to_string(), 0));
            Json(json!({"id": id, "object": "batch", "status": "validating", "input_file_id": input}))
                .into_response()
        }
        (&Method::GET, p) if p.starts_with("/v1/batches/") => {
            let id = &p["/v1/batches/".len()..];
            let mut batches = state.batches.lock().unwrap();
            let Some((input, polls)) = batches.get_mut(id) else {
                return not_found("batch");
            };
            *polls += 1;
            if *polls < 2 {
                return Json(json!({"id": id, "object": "batch", "status": "in_progress"}))
                    .into_response();
            }
            let input = input.clone();
            let mut files = state.files.lock().unwrap();
            let lines = files.get(&input).cloned().unwrap_or_default();
            let (mut out, mut err) = (String::new(), String::new());
            for line in lines.lines().filter(|l| !l.trim().is_empty()) {
                let l: Value = serde_json::from_str(line).unwrap_or_default();
                let custom_id = l["custom_id"].clone();
                if l["body"]["model"] == "suite-batch-error" {
                    let e = json!({"custom_id": custom_id, "response": null,
                                   "error": {"code": "model_not_found", "message": "no such model"}});
                    err.push_str(&format!("{e}\n"));
                } else {
                    let r = json!({"custom_id": custom_id, "error": null,
                                   "response": {"status_code": 200, "body": completion(&l["body"])}});
                    out.push_str(&format!("{r}\n"));
                }
            }
            let out_id = format!("file-{}", files.len() + 1);
            files.insert(out_id.clone(), out);
            let err_id = (!err.is_empty()).then(|| {
                let id = format!("file-{}", files.len() + 1);
                files.insert(id.clone(), err);
                id
            });
            Json(json!({"id": id, "object": "batch", "status": "completed",
                        "output_file_id": out_id, "error_file_id": err_id}))
            .into_response()
        }
        _ => not_found("endpoint"),
    }
}
