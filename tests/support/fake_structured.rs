//! The fake server's structured outputs (a submodule of fake_openai.rs): `test-json-valid` answers
//! a `json_schema` request with an instance of the request's own schema, `test-json-invalid` with
//! one that breaks it (a required property left out, or the wrong type); for `json_object`, an
//! object or prose. Without a response format both echo.

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::{chunk, reply, split_tokens, streamed, Opts, Step, COMPLETION_ID, REFUSAL, SSE};

/// The reply text for a structured-output request.
pub fn answer(o: &Opts, req: &Value, last: &str, valid: bool) -> Response {
    let format = &req["response_format"];
    let text = match format["type"].as_str() {
        Some("json_schema") => {
            let schema = &format["json_schema"]["schema"];
            let mut v = instance(schema, 0);
            if !valid {
                break_it(&mut v, schema);
            }
            serde_json::to_string_pretty(&v).unwrap()
        }
        Some("json_object") if valid => json!({ "echo": last }).to_string(),
        Some("json_object") => format!("Sure! Here is your object: {last}"),
        _ => format!("Echo: {last}"),
    };
    reply(o, split_tokens(&text), Duration::ZERO)
}

/// `test-refuse` / `test-refuse-whole`: OpenAI's refusal (`content` null, the text in `refusal`),
/// streamed in pieces or as one chat completion.
pub fn refusal(o: &Opts, whole: bool) -> Response {
    if whole || !o.stream {
        let message = json!({"role": "assistant", "content": null, "refusal": REFUSAL});
        return axum::Json(json!({"id": COMPLETION_ID, "object": "chat.completion",
            "created": o.created, "model": o.model, "choices": [{"index": 0, "message": message,
            "logprobs": null, "finish_reason": "stop"}]}))
        .into_response();
    }
    let first = json!({"role": "assistant", "content": null, "refusal": ""});
    let mut steps = vec![Step::Data(chunk(o, 0, first, Value::Null))];
    for t in split_tokens(REFUSAL) {
        steps.push(Step::Data(chunk(
            o,
            0,
            json!({ "refusal": t }),
            Value::Null,
        )));
    }
    steps.push(Step::Data(chunk(o, 0, json!({}), json!("stop"))));
    steps.push(Step::Data("data: [DONE]\n\n".into()));
    streamed(steps, SSE)
}

/// `test-json-object-only`, as llama-cpp-python's server: a `json_schema` format is refused with a
/// 500 and its validation message; `json_object` with a `schema` beside it gets an instance of it.
pub fn json_object_only(o: &Opts, req: &Value, last: &str) -> Response {
    let format = &req["response_format"];
    let text = match format["type"].as_str() {
        Some("json_schema") => {
            return super::api_error(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), \
                 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}",
                "internal_server_error",
                Value::Null,
            )
        }
        Some("json_object") if format["schema"].is_object() => {
            serde_json::to_string_pretty(&instance(&format["schema"], 0)).unwrap()
        }
        _ => format!("Echo: {last}"),
    };
    reply(o, split_tokens(&text), Duration::ZERO)
}

/// A value the schema accepts (the first of an enum or anyOf, every property of an object).
pub fn instance(schema: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    if let Some(c) = schema.get("const") {
        return c.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(first) = schema["anyOf"].as_array().and_then(|a| a.first()) {
        return instance(first, depth + 1);
    }
    let ty = match &schema["type"] {
        Value::Array(ts) => ts
            .iter()
            .find(|t| *t != "null")
            .cloned()
            .unwrap_or_default(),
        t => t.clone(),
    };
    match ty.as_str().unwrap_or("object") {
        "string" => json!("text"),
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "null" => Value::Null,
        "array" => json!([instance(&schema["items"], depth + 1)]),
        _ => {
            let mut out = Map::new();
            for (k, sub) in schema["properties"].as_object().into_iter().flatten() {
                out.insert(k.clone(), instance(sub, depth + 1));
            }
            Value::Object(out)
        }
    }
}

/// Makes `v` invalid: leaves out the first required property, else gives a property the wrong type.
fn break_it(v: &mut Value, schema: &Value) {
    let required = schema["required"].as_array().and_then(|r| r.first());
    match (v.as_object_mut(), required.and_then(Value::as_str)) {
        (Some(map), Some(name)) => {
            map.remove(name);
        }
        (Some(map), None) => {
            if let Some((_, first)) = map.iter_mut().next() {
                *first = json!({ "unexpected": [] });
            } else {
                *v = json!("not an object");
            }
        }
        _ => *v = json!({ "unexpected": true }),
    }
}
