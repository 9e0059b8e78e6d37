//! Reading the Responses API's answer: its streamed events by `type` (answer text, reasoning
//! summary, function calls, `response.completed` with usage, `response.failed` / `error`), or a
//! whole `response` object from a server that does not stream. One answer: choice 0.

use serde_json::Value;

use super::*;
use crate::openai::tool_calls::{FunctionCall, ToolCall, MAX_ARGUMENT_BYTES, MAX_CALLS};
use crate::openai::types::CompletionTokensDetails;

/// What the events so far have built, and how the stream ended (once it has).
#[derive(Debug, Default)]
pub(super) struct Decoder {
    finished: Finished,
    /// Function calls in the order they were added, with their item ids.
    calls: Vec<(String, ToolCall)>,
    /// The reasoning part last written to (item, summary index): a new one starts a paragraph.
    last_part: Option<(String, i64)>,
    reasoned: bool,
    received: usize,
    /// Calls whose arguments passed their limit, by item id.
    cut: Vec<String>,
    /// `Some` once `response.completed` (or `incomplete`, `failed`, `error`) arrived.
    pub(super) end: Option<Result<()>>,
}

/// `ResponseUsage` as the usage the rest of Parley knows.
fn usage(v: &Value) -> Option<Usage> {
    let input = v["input_tokens"].as_i64()?;
    let output = v["output_tokens"].as_i64().unwrap_or(0);
    Some(Usage {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: v["total_tokens"].as_i64().unwrap_or(input + output),
        completion_tokens_details: v["output_tokens_details"]["reasoning_tokens"].as_i64().map(
            |r| CompletionTokensDetails {
                reasoning_tokens: Some(r),
            },
        ),
    })
}

fn failure(what: &str, error: &Value) -> Error {
    let message = error["message"].as_str().unwrap_or("no message");
    let code = error["code"]
        .as_str()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default();
    Error::Stream {
        message: format!("the server reported {what}: {message}{code}; the part received is kept"),
    }
}

impl Decoder {
    /// Takes one event; the text it carries goes to `on_event`.
    pub(super) fn event(&mut self, ev: &Value, on_event: &mut (dyn FnMut(StreamEvent) + Send)) {
        let text = || ev["delta"].as_str().unwrap_or_default().to_string();
        match ev["type"].as_str().unwrap_or_default() {
            "response.created" | "response.in_progress" => self.response(&ev["response"]),
            // A refusal (structured outputs) is the answer the user sees.
            "response.output_text.delta" | "response.refusal.delta" => {
                let text = text();
                if self.count(&text) {
                    on_event(StreamEvent::Delta { index: 0, text });
                }
            }
            // A summary (OpenAI) or the reasoning itself (open models behind vLLM and others).
            t @ ("response.reasoning_summary_text.delta" | "response.reasoning_text.delta") => {
                let part = (
                    ev["item_id"].as_str().unwrap_or_default().to_string(),
                    ev[if t.contains("summary") {
                        "summary_index"
                    } else {
                        "content_index"
                    }]
                    .as_i64()
                    .unwrap_or(0),
                );
                let mut text = text();
                if self.reasoned && self.last_part.as_ref() != Some(&part) {
                    text.insert_str(0, "\n\n");
                }
                self.last_part = Some(part);
                if !text.is_empty() && self.count(&text) {
                    self.reasoned = true;
                    on_event(StreamEvent::Reasoning { index: 0, text });
                }
            }
            "response.output_item.added" | "response.output_item.done" => self.item(&ev["item"]),
            "response.function_call_arguments.delta" => {
                let (id, piece) = (ev["item_id"].as_str().unwrap_or_default(), text());
                // Arguments count toward the reply's limit; past their own, a call takes no more
                // (a later, smaller piece would make JSON that was never sent).
                if !self.count(&piece) || self.cut.iter().any(|c| c == id) {
                    return;
                }
                if let Some((_, call)) = self.calls.iter_mut().find(|(i, _)| i == id) {
                    let args = &mut call.function.arguments;
                    if args.len() + piece.len() <= MAX_ARGUMENT_BYTES {
                        args.push_str(&piece);
                    } else {
                        self.cut.push(id.to_string());
                    }
                }
            }
            "response.completed" => {
                self.response(&ev["response"]);
                self.end = Some(Ok(()));
            }
            "response.incomplete" => {
                self.response(&ev["response"]);
                let reason = &ev["response"]["incomplete_details"]["reason"];
                let reason = match reason.as_str() {
                    Some("max_output_tokens") => "length",
                    Some(other) => other,
                    None => "incomplete",
                };
                self.finished.finish_reasons.insert(0, reason.to_string());
                self.end = Some(Ok(()));
            }
            "response.failed" => {
                let error = &ev["response"]["error"];
                self.end = Some(Err(failure("an error mid-stream", error)));
            }
            "error" => self.end = Some(Err(failure("an error mid-stream", ev))),
            _ => {}
        }
    }

    /// Counts answer and reasoning bytes against the reply cap; false (and the end) past it.
    fn count(&mut self, text: &str) -> bool {
        self.received += text.len();
        if self.received > MAX_REPLY_BYTES {
            self.end = Some(Err(Error::Stream {
                message: format!(
                    "the reply passed Parley's limit of {} MB and was stopped; the part received is kept",
                    MAX_REPLY_BYTES >> 20
                ),
            }));
            return false;
        }
        true
    }

    /// The model and usage of a `response` object.
    fn response(&mut self, r: &Value) {
        if let Some(model) = r["model"].as_str().filter(|m| !m.is_empty()) {
            self.finished.model = Some(model.to_string());
        }
        if let Some(u) = usage(&r["usage"]) {
            self.finished.usage = Some(u);
        }
    }

    /// An output item: a function call starts (or is completed with its final arguments).
    fn item(&mut self, item: &Value) {
        if item["type"] != "function_call" {
            return;
        }
        let id = item["id"]
            .as_str()
            .or(item["call_id"].as_str())
            .unwrap_or_default()
            .to_string();
        let name = item["name"].as_str().unwrap_or_default();
        let arguments = item["arguments"].as_str().unwrap_or_default();
        let count = self.calls.len();
        match self.calls.iter_mut().find(|(i, _)| *i == id) {
            Some((_, call)) => {
                if !arguments.is_empty() && arguments.len() <= MAX_ARGUMENT_BYTES {
                    call.function.arguments = arguments.to_string();
                }
                if call.function.name.is_empty() {
                    call.function.name = name.to_string();
                }
            }
            None if count < MAX_CALLS => {
                let n = count;
                let call_id = item["call_id"].as_str().filter(|c| !c.is_empty());
                self.calls.push((
                    id,
                    ToolCall {
                        id: call_id.map_or_else(|| format!("call_{n}"), str::to_string),
                        kind: "function".into(),
                        function: FunctionCall {
                            name: name.to_string(),
                            arguments: arguments.chars().take(MAX_ARGUMENT_BYTES).collect(),
                        },
                    },
                ));
            }
            None => {}
        }
    }

    /// The calls made so far, as choice 0's.
    fn take_calls(&mut self) -> BTreeMap<u32, Vec<ToolCall>> {
        let calls: Vec<ToolCall> = std::mem::take(&mut self.calls)
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        if calls.is_empty() {
            BTreeMap::new()
        } else {
            BTreeMap::from([(0, calls)])
        }
    }

    /// The result of the stream, given how it ended; calls made before an error are kept
    /// with the partial reply.
    pub(super) fn finish(
        mut self,
        outcome: Result<()>,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Finished> {
        let calls = self.take_calls();
        match outcome {
            Ok(()) => {
                let reason = if calls.is_empty() {
                    "stop"
                } else {
                    "tool_calls"
                };
                self.finished
                    .finish_reasons
                    .entry(0)
                    .or_insert_with(|| reason.to_string());
                self.finished.tool_calls = calls;
                Ok(self.finished)
            }
            Err(e) => {
                if !calls.is_empty() {
                    on_event(StreamEvent::ToolCalls { calls });
                }
                Err(e)
            }
        }
    }
}

/// A whole `response` object (a server that answered without streaming).
pub(super) fn whole_response(
    bytes: &[u8],
    on_event: &mut (dyn FnMut(StreamEvent) + Send),
) -> Result<Finished> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Error::Stream {
        message: format!("the server answered with JSON that is not a response ({e})"),
    })?;
    if !v["error"].is_null() {
        return Err(Error::BadRequest {
            status: 200,
            message: v["error"]["message"]
                .as_str()
                .unwrap_or("no message")
                .to_string(),
        });
    }
    let mut d = Decoder::default();
    d.response(&v);
    for item in v["output"].as_array().into_iter().flatten() {
        match item["type"].as_str() {
            Some("reasoning") => {
                let text: Vec<&str> = item["summary"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p["text"].as_str())
                    .collect();
                if !text.is_empty() {
                    on_event(StreamEvent::Reasoning {
                        index: 0,
                        text: text.join("\n\n"),
                    });
                }
            }
            Some("message") => {
                for part in item["content"].as_array().into_iter().flatten() {
                    let text = match part["type"].as_str() {
                        Some("output_text") => part["text"].as_str(),
                        Some("refusal") => part["refusal"].as_str(),
                        _ => None,
                    };
                    if let Some(text) = text {
                        on_event(StreamEvent::Delta {
                            index: 0,
                            text: text.to_string(),
                        });
                    }
                }
            }
            _ => d.item(item),
        }
    }
    if v["status"] == "incomplete" {
        d.event(
            &serde_json::json!({"type": "response.incomplete", "response": v}),
            on_event,
        );
    }
    d.finish(Ok(()), on_event)
}

impl Client {
    /// Reads a Responses API event stream until its final event.
    pub(super) async fn read_responses_stream(
        &self,
        ep: &Endpoint,
        resp: reqwest::Response,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Finished> {
        let mut bytes = resp.bytes_stream();
        let mut parser = SseParser::raw();
        let mut d = Decoder::default();
        let outcome = loop {
            let (items, ended) = match self.next_items(&mut bytes, &mut parser, cancel, ep).await {
                Ok(read) => read,
                Err(e) => break Err(e),
            };
            if let Some(end) = d.items(items, on_event) {
                break end;
            }
            if ended {
                break Err(lost_end());
            }
        };
        d.finish(outcome, on_event)
    }
}

impl Decoder {
    /// Takes the parsed events of one read; `Some` once the stream has ended (well or not).
    fn items(
        &mut self,
        items: Vec<Result<SseItem>>,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Option<Result<()>> {
        for item in items {
            let data = match item {
                Err(e) => return Some(Err(e)),
                Ok(SseItem::Data(data)) => data,
                Ok(_) => return Some(Err(lost_end())),
            };
            let ev: Value = match serde_json::from_str(&data) {
                Ok(ev) => ev,
                Err(e) => {
                    return Some(Err(Error::Stream {
                        message: format!("the server sent a malformed event ({e})"),
                    }))
                }
            };
            self.event(&ev, on_event);
            if let Some(end) = self.end.take() {
                return Some(end);
            }
        }
        None
    }
}

/// A Responses API stream read from `bytes` in reads of `split` bytes, through the same parser
/// and decoder as a network stream (the fuzz target and its regression tests).
#[cfg(any(test, feature = "fuzzing"))]
pub fn decode_stream(bytes: &[u8], split: usize) -> (Vec<StreamEvent>, Result<Finished>) {
    let mut events = Vec::new();
    let mut on_event = |e| events.push(e);
    let mut parser = SseParser::raw();
    let mut d = Decoder::default();
    let mut outcome = None;
    for chunk in bytes.chunks(split.max(1)) {
        outcome = d.items(parser.feed(chunk), &mut on_event);
        if outcome.is_some() {
            break;
        }
    }
    let outcome = outcome
        .or_else(|| d.items(parser.finish(), &mut on_event))
        .unwrap_or_else(|| Err(lost_end()));
    let finished = d.finish(outcome, &mut on_event);
    (events, finished)
}

/// A whole (not streamed) `response` object, as read from a server that does not stream.
#[cfg(any(test, feature = "fuzzing"))]
pub fn decode_whole(bytes: &[u8]) -> (Vec<StreamEvent>, Result<Finished>) {
    let mut events = Vec::new();
    let finished = whole_response(bytes, &mut |e| events.push(e));
    (events, finished)
}

fn lost_end() -> Error {
    Error::Stream {
        message: "the connection closed before the reply was complete".into(),
    }
}

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
