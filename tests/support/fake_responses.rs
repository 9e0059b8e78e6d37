//! The fake server's Responses API (`POST /v1/responses`), as the reference describes it: the
//! conversation as `input` items (a string or a list), `instructions`, streamed events by `type`
//! (`response.created`, `response.output_text.delta`, `response.reasoning_summary_text.delta`,
//! function calls, `response.completed` with usage) or one `response` object when not streamed.
//! Like OpenAI, it refuses the chat-only parameters (`Unknown parameter`), so a body that sends
//! one fails loudly. Models, as for chat: `test-model` (and others that echo) echo the last user
//! text; `test-think-deltas` reasons first (a summary in two parts); `test-tools` calls the first
//! tool and answers a `function_call_output` with "Echo: <output>"; `test-fault-error-event`
//! sends some text, then `response.failed`; `test-responses-error` some text, then an `error`
//! event; `test-slow` echoes 50 ms per token.

use super::*;

/// Parameters the Responses API refuses (chat or legacy only).
const REFUSED: &[&str] = &[
    "messages",
    "prompt",
    "frequency_penalty",
    "presence_penalty",
    "stop",
    "seed",
    "n",
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "stream_options",
];

/// The text of an input item (a message's content, or a call's output).
fn item_text(item: &Value) -> String {
    match item["type"].as_str() {
        Some("function_call_output") => item["output"].as_str().unwrap_or_default().into(),
        Some("function_call") => item["arguments"].as_str().unwrap_or_default().into(),
        _ => content_text(&item["content"]),
    }
}

pub(super) async fn respond(ctx: &Ctx, bytes: &[u8]) -> Response {
    let Ok(req @ Value::Object(_)) = serde_json::from_slice::<Value>(bytes) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            BAD_JSON,
            "invalid_request_error",
            Value::Null,
        );
    };
    if let Some(k) = REFUSED.iter().find(|k| req.get(**k).is_some()) {
        return api_error(
            StatusCode::BAD_REQUEST,
            &format!("Unknown parameter: '{k}'."),
            "invalid_request_error",
            json!("unknown_parameter"),
        );
    }
    let Some(model) = req["model"].as_str().map(str::to_string) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "Missing required parameter: 'model'.",
            "invalid_request_error",
            json!("missing_required_parameter"),
        );
    };
    let items = match &req["input"] {
        Value::String(s) => vec![json!({"role": "user", "content": s})],
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    };
    let last = items.last().map(item_text).unwrap_or_default();
    let answering = items.last().and_then(|i| i["type"].as_str()) == Some("function_call_output");
    let input_tokens = req["instructions"]
        .as_str()
        .map_or(0, |s| s.split_whitespace().count())
        + items
            .iter()
            .map(|i| item_text(i).split_whitespace().count())
            .sum::<usize>();
    let echo = split_tokens(&format!("Echo: {last}"));
    let mut r = Reply {
        model: model.clone(),
        stream: req["stream"].as_bool().unwrap_or(false),
        input_tokens,
        reasoning: Vec::new(),
        text: echo.clone(),
        call: None,
        end: End::Completed,
        delay: Duration::ZERO,
    };
    let kind = if ctx.other {
        Kind::Unknown
    } else {
        kind(&model, &last)
    };
    match (model.as_str(), kind) {
        ("test-responses-error", _) => {
            r.text = split_tokens("Partial reply");
            r.end = End::Error;
        }
        (_, Kind::Unknown) => return model_not_found(&model),
        (_, Kind::ServerError) => {
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request.",
                "server_error",
                Value::Null,
            )
        }
        (_, Kind::Reply { tokens, delay }) => {
            r.text = tokens;
            r.delay = delay;
        }
        (_, Kind::Thinking { .. }) => {
            r.reasoning = vec![
                split_tokens("First, read the question."),
                split_tokens("Then answer it briefly."),
            ];
        }
        (_, Kind::Tools) => match req["tools"][0]["name"].as_str() {
            Some(name) if !answering => {
                r.text = Vec::new();
                r.call = Some((name.to_string(), format!("{{\"query\": {}}}", json!(last))));
            }
            _ => {}
        },
        (_, Kind::Fault("error-event")) => {
            r.text = split_tokens("Partial reply");
            r.end = End::Failed;
        }
        _ => {}
    }
    r.send()
}

enum End {
    Completed,
    /// `response.failed` with an error object.
    Failed,
    /// An `error` event.
    Error,
}

struct Reply {
    model: String,
    stream: bool,
    input_tokens: usize,
    /// Reasoning summary parts, each as tokens.
    reasoning: Vec<Vec<String>>,
    text: Vec<String>,
    /// A function call: name and arguments.
    call: Option<(String, String)>,
    end: End,
    delay: Duration,
}

impl Reply {
    fn usage(&self) -> Value {
        let reasoning: usize = self.reasoning.iter().map(Vec::len).sum();
        let output = self.text.len() + reasoning + usize::from(self.call.is_some());
        json!({"input_tokens": self.input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output, "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": self.input_tokens + output})
    }

    /// The output items of the finished response.
    fn output(&self) -> Vec<Value> {
        let mut out = Vec::new();
        if !self.reasoning.is_empty() {
            let summary: Vec<Value> = self
                .reasoning
                .iter()
                .map(|p| json!({"type": "summary_text", "text": p.concat()}))
                .collect();
            out.push(json!({"type": "reasoning", "id": "rs_1", "summary": summary}));
        }
        if let Some((name, args)) = &self.call {
            out.push(
                json!({"type": "function_call", "id": "fc_1", "call_id": "call_fake1",
                "name": name, "arguments": args, "status": "completed"}),
            );
        } else {
            out.push(json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": self.text.concat(), "annotations": []}]}));
        }
        out
    }

    fn response(&self, status: &str, output: Vec<Value>, usage: Value) -> Value {
        json!({"id": "resp_fake1", "object": "response", "created_at": 1_700_000_000, "status": status,
            "model": self.model, "output": output, "usage": usage, "error": null, "store": false})
    }

    fn send(self) -> Response {
        if !self.stream {
            let body = self.response("completed", self.output(), self.usage());
            return Json(body).into_response();
        }
        let mut seq = 0;
        let mut steps = Vec::new();
        let mut event = |v: Value, steps: &mut Vec<Step>| {
            let mut v = v;
            v["sequence_number"] = json!(seq);
            seq += 1;
            let kind = v["type"].as_str().unwrap_or_default().to_string();
            steps.push(Step::Data(format!("event: {kind}\ndata: {v}\n\n")));
        };
        let start = self.response("in_progress", Vec::new(), Value::Null);
        event(
            json!({"type": "response.created", "response": start}),
            &mut steps,
        );
        for (i, part) in self.reasoning.iter().enumerate() {
            for t in part {
                event(
                    json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1",
                    "output_index": 0, "summary_index": i, "delta": t}),
                    &mut steps,
                );
            }
        }
        if let Some((name, args)) = &self.call {
            event(
                json!({"type": "response.output_item.added", "output_index": 0,
                "item": {"type": "function_call", "id": "fc_1", "call_id": "call_fake1", "name": name,
                    "arguments": "", "status": "in_progress"}}),
                &mut steps,
            );
            let cut: Vec<char> = args.chars().collect();
            for piece in cut.chunks(3) {
                event(
                    json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1",
                    "output_index": 0, "delta": piece.iter().collect::<String>()}),
                    &mut steps,
                );
            }
        }
        for t in &self.text {
            event(
                json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                "content_index": 0, "delta": t, "logprobs": []}),
                &mut steps,
            );
            if !self.delay.is_zero() {
                steps.push(Step::Sleep(self.delay));
            }
        }
        match self.end {
            End::Completed => {
                let done = self.response("completed", self.output(), self.usage());
                event(
                    json!({"type": "response.completed", "response": done}),
                    &mut steps,
                );
            }
            End::Failed => {
                let mut failed = self.response("failed", Vec::new(), Value::Null);
                failed["error"] = json!({"code": "server_error", "message": "The model failed to generate a response."});
                event(
                    json!({"type": "response.failed", "response": failed}),
                    &mut steps,
                );
            }
            End::Error => event(
                json!({"type": "error", "code": "ERR_SOMETHING",
                "message": "Something went wrong", "param": null}),
                &mut steps,
            ),
        }
        streamed(steps, SSE)
    }
}
