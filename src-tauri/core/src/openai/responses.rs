//! The Responses API's request (`CreateResponse` in the reference): the conversation as input
//! items, the system prompt as `instructions`, function tools in their flat form, nothing stored
//! on the server (`store: false`; Parley keeps the conversation and sends it whole each time).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::types::{ChatMessage, Sampling};
use crate::params::EndpointKind;

/// The smallest output limit the Responses API takes (`max_output_tokens`, minimum 16).
pub const MIN_OUTPUT_TOKENS: i64 = 16;

/// `POST /v1/responses`, streamed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponsesRequest {
    pub model: String,
    /// The system prompt (the Responses API's place for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The conversation as input items: messages, function calls and their outputs.
    pub input: Vec<Value>,
    pub stream: bool,
    /// Nothing is kept server-side: the history is Parley's, sent whole each time.
    pub store: bool,
    #[serde(flatten)]
    pub sampling: ResponsesSampling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<i64>,
    /// `Reasoning`: a summary asked for from reasoning models, so the Thinking block has text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Value>,
}

/// The table's parameters that the Responses API takes, under its names: a `reasoning_effort`
/// (when the table has one) goes into `reasoning.effort`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsesSampling(pub Sampling);

impl Serialize for ResponsesSampling {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut wire = self.0.params.wire(EndpointKind::Responses);
        wire.remove("reasoning_effort");
        wire.serialize(s)
    }
}

impl ResponsesRequest {
    /// A streamed request of `history` (system messages become `instructions`).
    pub fn streaming(model: impl Into<String>, history: Vec<ChatMessage>) -> Self {
        let (instructions, input) = input_items(history);
        ResponsesRequest {
            model: model.into(),
            instructions,
            input,
            stream: true,
            store: false,
            sampling: ResponsesSampling(Sampling {
                endpoint: EndpointKind::Responses,
                ..Default::default()
            }),
            max_output_tokens: None,
            reasoning: None,
        }
    }

    /// Sets the parameters, and `reasoning` from them: the effort when one is set, a summary
    /// for reasoning models (others refuse the `reasoning` object).
    pub fn set_sampling(&mut self, sampling: Sampling, reasoning_model: bool) {
        let effort = sampling
            .params
            .wire(EndpointKind::Responses)
            .remove("reasoning_effort");
        let mut reasoning = Map::new();
        if let Some(effort) = effort {
            reasoning.insert("effort".into(), effort);
        }
        if reasoning_model {
            reasoning.insert("summary".into(), json!("auto"));
        }
        self.reasoning = (!reasoning.is_empty()).then_some(Value::Object(reasoning));
        self.sampling = ResponsesSampling(sampling);
    }
}

/// The history as input items: `instructions` from the system messages; user and assistant
/// messages as `EasyInputMessage`s; an assistant's tool calls as `function_call` items after its
/// text; a `tool` message as the `function_call_output` of its call.
pub fn input_items(history: Vec<ChatMessage>) -> (Option<String>, Vec<Value>) {
    let mut system = Vec::new();
    let mut items = Vec::new();
    for m in history {
        match m.role.as_str() {
            "system" | "developer" => system.push(m.content),
            "tool" => items.push(json!({
                "type": "function_call_output",
                "call_id": m.tool_call_id.unwrap_or_default(),
                "output": m.content,
            })),
            role => {
                if !m.images.is_empty() {
                    // Images as `input_image` parts beside the text (they were left out: the
                    // model never saw them).
                    let mut parts = Vec::with_capacity(m.images.len() + 1);
                    if !m.content.is_empty() {
                        parts.push(json!({"type": "input_text", "text": m.content}));
                    }
                    for image in &m.images {
                        parts.push(json!({"type": "input_image", "image_url": image.url,
                            "detail": image.detail}));
                    }
                    items.push(json!({"type": "message", "role": role, "content": parts}));
                } else if !m.content.is_empty() || m.tool_calls.is_empty() {
                    items.push(json!({"type": "message", "role": role, "content": m.content}));
                }
                for call in m.tool_calls {
                    items.push(json!({
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.function.name,
                        "arguments": call.function.arguments,
                    }));
                }
            }
        }
    }
    let instructions = (!system.is_empty()).then(|| system.join("\n\n"));
    (instructions, items)
}

/// A chat tool (`{"type":"function","function":{name, description, parameters}}`) in the
/// Responses form (`{"type":"function", name, description, parameters, strict}`). `strict` and
/// `parameters` are required there; a tool that does not say is not strict, as on chat (the
/// Responses API would otherwise make it strict, which most schemas do not satisfy).
pub fn flat_tool(chat_tool: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!("function"));
    if let Some(f) = chat_tool["function"].as_object() {
        for (k, v) in f {
            out.insert(k.clone(), v.clone());
        }
    }
    out.entry("strict").or_insert(json!(false));
    out.entry("parameters")
        .or_insert(json!({"type": "object", "properties": {}}));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::tool_calls::{FunctionCall, ToolCall};

    fn msg(role: &str, content: &str) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_history_becomes_instructions_and_input_items() {
        let call = ToolCall {
            id: "call_1".into(),
            kind: "function".into(),
            function: FunctionCall {
                name: "weather".into(),
                arguments: "{\"city\":\"Oslo\"}".into(),
            },
        };
        let history = vec![
            msg("system", "Be brief."),
            msg("user", "q1"),
            msg("assistant", "a1"),
            msg("user", "weather?"),
            ChatMessage {
                tool_calls: vec![call],
                ..msg("assistant", "")
            },
            ChatMessage {
                tool_call_id: Some("call_1".into()),
                ..msg("tool", "sunny")
            },
        ];
        let (instructions, input) = input_items(history);
        assert_eq!(instructions.as_deref(), Some("Be brief."));
        assert_eq!(
            Value::Array(input),
            json!([
                {"type": "message", "role": "user", "content": "q1"},
                {"type": "message", "role": "assistant", "content": "a1"},
                {"type": "message", "role": "user", "content": "weather?"},
                {"type": "function_call", "call_id": "call_1", "name": "weather",
                 "arguments": "{\"city\":\"Oslo\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
            ])
        );
    }

    #[test]
    fn the_body_has_the_reference_names_and_leaves_out_what_the_api_refuses() {
        let mut r = ResponsesRequest::streaming("gpt-5", vec![msg("user", "hi")]);
        let mut sampling = Sampling::default();
        sampling.params.temperature = Some(0.5);
        sampling.params.seed = Some(1);
        sampling.params.stop = Some(vec!["x".into()]);
        sampling.endpoint = EndpointKind::Responses;
        r.set_sampling(sampling, true);
        r.max_output_tokens = Some(64);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"model": "gpt-5", "input": [{"type": "message", "role": "user", "content": "hi"}],
                "stream": true, "store": false, "temperature": 0.5, "max_output_tokens": 64,
                "reasoning": {"summary": "auto"}})
        );
        let tool = json!({"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}});
        assert_eq!(
            flat_tool(&tool),
            json!({"type": "function", "name": "f", "parameters": {"type": "object"}, "strict": false})
        );
    }
}
