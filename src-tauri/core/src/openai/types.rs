//! The wire format, as in the OpenAI API reference (`CreateChatCompletionRequest`,
//! `CreateChatCompletionStreamResponse`, `Error`, `ListModelsResponse`). Unknown fields are ignored.

use serde::{Deserialize, Serialize};

pub use super::tool_calls::{ToolCall, ToolCallChunk};
use crate::params::{EndpointKind, Params};

/// A chat message. With images, `content` goes on the wire as content parts (the text first,
/// then one `image_url` part per image); without, as a plain string.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
    /// Images sent with the text (`ChatCompletionRequestMessageContentPartImage`).
    #[serde(skip)]
    pub images: Vec<ImagePart>,
    /// An assistant message's tool calls (sent back so the model sees what it asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// One image of a message: a `data:` URL and how closely to look (`auto`, `low`, `high`).
#[derive(Clone, PartialEq, Eq)]
pub struct ImagePart {
    pub url: String,
    pub detail: String,
}

impl std::fmt::Debug for ImagePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.url.chars().take(40).collect();
        write!(
            f,
            "ImagePart({head}…, {} chars, {})",
            self.url.len(),
            self.detail
        )
    }
}

impl Serialize for ChatMessage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        use serde_json::json;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("role", &self.role)?;
        if self.images.is_empty() {
            map.serialize_entry("content", &self.content)?;
        } else {
            let text =
                (!self.content.is_empty()).then(|| json!({"type": "text", "text": self.content}));
            let parts: Vec<serde_json::Value> = text
                .into_iter()
                .chain(self.images.iter().map(|i| {
                    json!({"type": "image_url", "image_url": {"url": i.url, "detail": i.detail}})
                }))
                .collect();
            map.serialize_entry("content", &parts)?;
        }
        if !self.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &self.tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamOptions {
    pub include_usage: bool,
}

/// The request parameters of a body, flattened under their wire names: the ones the table in
/// `params.rs` says `endpoint` takes. Unset ones are not sent (the server's default applies).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    pub params: Params,
    pub endpoint: EndpointKind,
}

impl Serialize for Sampling {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.params.wire(self.endpoint).serialize(s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    pub sampling: Sampling,
    /// The older name of the output limit; most compatible servers know only this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// The newer name; reasoning models (o1, o3, o4, gpt-5…) refuse `max_tokens`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<i64>,
    /// `{"type": "json_object", "schema": …}` in place of the table's `json_schema` format, for
    /// servers that refused `json_schema` but take a schema beside `json_object`
    /// (llama-cpp-python's server). Set only by [`ChatRequest::json_object_instead`].
    #[serde(rename = "response_format", skip_serializing_if = "Option::is_none")]
    pub json_object_schema: Option<serde_json::Value>,
}

impl ChatRequest {
    /// A streaming request that asks for the usage chunk at the end.
    pub fn streaming(model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            sampling: Sampling::default(),
            max_tokens: None,
            max_completion_tokens: None,
            json_object_schema: None,
        }
    }

    /// After a server refused `response_format.type = json_schema`: asks for a JSON object with
    /// the schema beside it instead (the reply is still checked against the schema). False when
    /// the request had no JSON schema to fall back from.
    pub fn json_object_instead(&mut self) -> bool {
        match &self.sampling.params.response_format {
            Some(crate::params::ResponseFormat::JsonSchema { schema, .. }) => {
                self.json_object_schema =
                    Some(serde_json::json!({"type": "json_object", "schema": schema}));
                self.sampling.params.response_format = None;
                true
            }
            _ => false,
        }
    }

    /// Sets the output limit under the name this model expects.
    pub fn set_output_limit(&mut self, limit: Option<i64>, use_completion_tokens: bool) {
        self.max_tokens = None;
        self.max_completion_tokens = None;
        if use_completion_tokens {
            self.max_completion_tokens = limit;
        } else {
            self.max_tokens = limit;
        }
    }

    /// Moves a set output limit to the other field name (after a server refused one of them).
    pub fn swap_output_limit_name(&mut self) -> bool {
        match (self.max_tokens.take(), self.max_completion_tokens.take()) {
            (Some(m), None) => self.max_completion_tokens = Some(m),
            (None, Some(m)) => self.max_tokens = Some(m),
            _ => return false,
        }
        true
    }
}

/// Models that want `max_completion_tokens` (OpenAI's reasoning models refuse `max_tokens`).
pub fn wants_max_completion_tokens(model: &str) -> bool {
    let m = model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|p| m == *p || m.starts_with(&format!("{p}-")))
}

/// The legacy text completion (`POST /v1/completions`): a prompt in, text out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompletionRequest {
    pub model: String,
    pub prompt: String,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    pub sampling: Sampling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
}

impl CompletionRequest {
    pub fn streaming(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        CompletionRequest {
            model: model.into(),
            prompt: prompt.into(),
            stream: true,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
            sampling: Sampling {
                endpoint: EndpointKind::Completions,
                ..Default::default()
            },
            max_tokens: None,
        }
    }
}

/// A request to one of the endpoints.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Request {
    Chat(ChatRequest),
    Completion(CompletionRequest),
    Responses(super::responses::ResponsesRequest),
}

impl Request {
    /// The path under the base URL.
    pub fn path(&self) -> &'static str {
        match self {
            Request::Chat(_) => "chat/completions",
            Request::Completion(_) => "completions",
            Request::Responses(_) => "responses",
        }
    }
    pub fn model(&self) -> &str {
        match self {
            Request::Chat(r) => &r.model,
            Request::Completion(r) => &r.model,
            Request::Responses(r) => &r.model,
        }
    }
    pub fn sampling(&self) -> &Sampling {
        match self {
            Request::Chat(r) => &r.sampling,
            Request::Completion(r) => &r.sampling,
            Request::Responses(r) => &r.sampling.0,
        }
    }
    pub fn is_chat(&self) -> bool {
        matches!(self, Request::Chat(_))
    }
    /// Whether the answer streams (its headers come at once) or comes whole once generated.
    pub fn streams(&self) -> bool {
        match self {
            Request::Chat(r) => r.stream,
            Request::Completion(r) => r.stream,
            Request::Responses(r) => r.stream,
        }
    }
    /// Whether the body asks for a response format (the table's, or the JSON-object fallback).
    pub fn asks_response_format(&self) -> bool {
        self.sampling().params.response_format.is_some()
            || matches!(self, Request::Chat(r) if r.json_object_schema.is_some())
    }
    /// How many choices the server will send (`n`; the Responses API sends one).
    pub fn choices(&self) -> u32 {
        if matches!(self, Request::Responses(_)) {
            return 1;
        }
        self.sampling().params.n.unwrap_or(1).clamp(1, 128) as u32
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    /// Reasoning text streamed apart from the answer: `reasoning_content` (DeepSeek, vLLM,
    /// llama.cpp) or `reasoning` (Ollama, OpenRouter). Not in OpenAI's reference; never sent back.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub reasoning: Option<String>,
    /// Pieces of tool calls (whole calls in a non-streamed message).
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallChunk>>,
    /// The model's refusal (structured outputs): shown as the reply, never dropped.
    #[serde(default)]
    pub refusal: Option<String>,
}

impl Delta {
    /// The answer's text of this delta: its content, and a refusal where the model sent one.
    pub fn answer_text(&mut self) -> Option<String> {
        match (
            self.content.take(),
            self.refusal.take().filter(|r| !r.is_empty()),
        ) {
            (Some(c), Some(r)) => Some(c + &r),
            (c, r) => c.or(r),
        }
    }

    /// The reasoning text of this delta, under whichever name the server used.
    pub fn reasoning_text(&mut self) -> Option<String> {
        self.reasoning_content
            .take()
            .filter(|t| !t.is_empty())
            .or_else(|| self.reasoning.take())
            .filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Delta,
    /// The legacy completions endpoint sends `text` instead of `delta`.
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Token probabilities, when asked for (either endpoint's form).
    #[serde(default)]
    pub logprobs: Option<super::logprobs::ChoiceLogprobs>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: i64,
    #[serde(default)]
    pub completion_tokens: i64,
    #[serde(default)]
    pub total_tokens: i64,
    /// `CompletionUsage.completion_tokens_details` (reasoning tokens are part of `completion_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<i64>,
}

impl Usage {
    /// Reasoning tokens, when the server reported them.
    pub fn reasoning_tokens(&self) -> Option<i64> {
        self.completion_tokens_details
            .and_then(|d| d.reasoning_tokens)
    }
}

/// One `chat.completion.chunk` (or legacy `text_completion` chunk). Some servers put an `error` object in the stream instead.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatChunk {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<serde_json::Value>,
}

impl ErrorDetail {
    pub fn code_str(&self) -> Option<&str> {
        self.code.as_ref().and_then(|c| c.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A non-streamed `chat.completion` or `text_completion` (some servers answer this way even when asked to stream).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChatCompletion {
    #[serde(default)]
    pub model: Option<String>,
    pub choices: Vec<CompletionChoice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CompletionChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub message: Delta,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub logprobs: Option<super::logprobs::ChoiceLogprobs>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelEntry {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelList {
    pub data: Vec<ModelEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_body_has_the_reference_shape() {
        let mut r = ChatRequest::streaming(
            "gpt-4o-mini",
            vec![ChatMessage {
                role: "user".into(),
                content: "hi".into(),
                ..Default::default()
            }],
        );
        r.sampling.params.temperature = Some(0.5);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,
                "stream_options":{"include_usage":true},"temperature":0.5})
        );
    }

    #[test]
    fn reads_an_openai_chunk_and_a_usage_chunk() {
        let c: ChatChunk = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","system_fingerprint":null,
                "choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}"#,
        )
        .unwrap();
        assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hi"));
        let u: ChatChunk = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],
                "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}"#,
        )
        .unwrap();
        assert_eq!(u.usage.unwrap().completion_tokens, 12);
    }

    #[test]
    fn reads_reasoning_under_either_name_and_reasoning_tokens() {
        let mut c: ChatChunk = serde_json::from_str(
            r#"{"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Hmm"}}]}"#,
        )
        .unwrap();
        assert_eq!(c.choices[0].delta.reasoning_text().as_deref(), Some("Hmm"));
        let mut c: ChatChunk =
            serde_json::from_str(r#"{"choices":[{"delta":{"reasoning":"Let me see"}}]}"#).unwrap();
        assert_eq!(
            c.choices[0].delta.reasoning_text().as_deref(),
            Some("Let me see")
        );
        let u: ChatChunk = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":40,"total_tokens":49,
                "completion_tokens_details":{"reasoning_tokens":30,"accepted_prediction_tokens":0}}}"#,
        )
        .unwrap();
        assert_eq!(u.usage.unwrap().reasoning_tokens(), Some(30));
    }
}
