//! The request of one reply: the history (or legacy prompt) fitted to the context window, and the
//! sampling parameters, as the endpoint's body.

use crate::db::conversations::{self, EndpointKind};
use crate::db::messages::{self, Message, Role, Status};
use crate::db::pricing;
use crate::error::{Error, Result};
use crate::openai::responses::{ResponsesRequest, MIN_OUTPUT_TOKENS};
use crate::openai::types::{
    wants_max_completion_tokens, ChatMessage, ChatRequest, CompletionRequest, Request, Sampling,
};

use std::collections::HashMap;

use crate::openai::types::ImagePart;

use super::*;

/// The images of the user messages of `path`, as `data:` URLs (read from the one stored copy).
fn image_parts(c: &rusqlite::Connection, path: &[Message]) -> Result<HashMap<i64, Vec<ImagePart>>> {
    let mut out = HashMap::new();
    for m in path.iter().filter(|m| m.role == Role::User) {
        let stored = crate::db::attachments::of_message(c, m.id)?;
        if stored.is_empty() {
            continue;
        }
        let mut parts = Vec::with_capacity(stored.len());
        for s in stored {
            let (mime, bytes) = crate::db::attachments::bytes(c, &s.image.sha256)?;
            parts.push(ImagePart {
                url: crate::attachments::data_url(&mime, &bytes),
                detail: s.image.detail.as_str().into(),
            });
        }
        out.insert(m.id, parts);
    }
    Ok(out)
}

/// Failed replies and empty rows are not sent back to the model; partial (stopped) replies are,
/// and so are replies that only called tools (with their calls).
pub(super) fn belongs_in_history(m: &Message) -> bool {
    let failed = m.role == Role::Assistant && m.status == Status::Error;
    (!m.content.is_empty() || !m.tool_calls.is_empty()) && !failed
}

/// The request history for a reply to the last message of `path` (text only).
#[cfg(test)]
pub(super) fn history(system_prompt: &str, path: &[Message]) -> Vec<ChatMessage> {
    history_with_images(system_prompt, path, &HashMap::new())
}

/// The history with the images of its messages (by message id) as `image_url` parts. A message
/// with images and no text is sent too.
pub(super) fn history_with_images(
    system_prompt: &str,
    path: &[Message],
    images: &HashMap<i64, Vec<ImagePart>>,
) -> Vec<ChatMessage> {
    let system = (!system_prompt.trim().is_empty()).then(|| ChatMessage {
        role: Role::System.as_str().into(),
        content: system_prompt.to_string(),
        ..Default::default()
    });
    system
        .into_iter()
        .chain(
            path.iter()
                .filter(|m| belongs_in_history(m) || images.contains_key(&m.id))
                .map(|m| ChatMessage {
                    role: m.role.as_str().into(),
                    content: m.content.clone(),
                    images: images.get(&m.id).cloned().unwrap_or_default(),
                    tool_calls: m.tool_calls.clone(),
                    tool_call_id: m.tool_call_id.clone(),
                }),
        )
        .collect()
}

/// The API takes an assistant's tool calls only with a tool message for each right after, and a
/// tool message only after the call it answers. Calls never answered (a reply stopped while
/// calling, calls the user did not answer, a choice not taken) are left out of the request, and
/// results whose call is not there: one of them made every later send of the branch fail.
pub(super) fn pair_tool_calls(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len());
    let mut rest = messages.into_iter().peekable();
    while let Some(mut m) = rest.next() {
        if m.role == "tool" {
            continue; // not right after its call (those are taken below)
        }
        if m.role != "assistant" || m.tool_calls.is_empty() {
            out.push(m);
            continue;
        }
        let mut answers = Vec::new();
        while let Some(a) = rest.next_if(|a| a.role == "tool") {
            answers.push(a);
        }
        let answered = |id: &str| {
            answers
                .iter()
                .any(|a| a.tool_call_id.as_deref() == Some(id))
        };
        m.tool_calls.retain(|c| answered(&c.id));
        let kept: Vec<String> = m.tool_calls.iter().map(|c| c.id.clone()).collect();
        answers.retain(|a| a.tool_call_id.as_ref().is_some_and(|id| kept.contains(id)));
        if !m.tool_calls.is_empty() || !m.content.is_empty() || !m.images.is_empty() {
            out.push(m);
        }
        out.extend(answers);
    }
    out
}

/// The prompt of a legacy text completion: the system prompt (if any) as a first paragraph, then
/// the turns of the conversation so far, one newline between two turns (unless the first already
/// ends with one), so a new message starts on its own line. The prompt ends with the last turn as
/// typed: the model continues it.
pub fn completion_prompt(system_prompt: &str, path: &[Message]) -> String {
    let mut prompt = String::new();
    if !system_prompt.trim().is_empty() {
        prompt.push_str(system_prompt);
        prompt.push_str("\n\n");
    }
    let start = prompt.len();
    for m in path.iter().filter(|m| belongs_in_history(m)) {
        if prompt.len() > start && !prompt.ends_with('\n') {
            prompt.push('\n');
        }
        prompt.push_str(&m.content);
    }
    prompt
}

/// Where a legacy completion's prompt starts in `path` to fit `window - reserve` tokens with the
/// system paragraph and `tail`, and how many turns it leaves out: the oldest first, the newest
/// always kept (it was always the whole path, and a long conversation failed at every send).
/// Counted from the newest back, so a long path costs only what fits.
pub(super) fn completion_fit(
    model: &str,
    system_prompt: &str,
    path: &[Message],
    tail: &str,
    window: Option<usize>,
    reserve: usize,
) -> (usize, usize) {
    let Some(window) = window else { return (0, 0) };
    let budget = window.saturating_sub(reserve);
    let mut used = tokens::count_text(model, system_prompt) + tokens::count_text(model, tail);
    let turns: Vec<usize> = (0..path.len())
        .filter(|&i| belongs_in_history(&path[i]))
        .collect();
    let mut keep = turns.len();
    while keep > 0 {
        let cost = tokens::count_text(model, &path[turns[keep - 1]].content) + 1;
        if keep < turns.len() && used + cost > budget {
            break;
        }
        used += cost;
        keep -= 1;
    }
    match turns.get(keep) {
        Some(&from) => (from, keep),
        None => (0, 0),
    }
}

/// The body's parameters: the conversation's (already merged with the profile's defaults), only
/// those its endpoint takes. `n` is sent only above 1, its default.
pub(super) fn sampling(s: &conversations::ConversationSettings) -> Sampling {
    let mut params = s.params.clone().for_endpoint(s.endpoint);
    params.n = params.n.filter(|n| *n > 1);
    Sampling {
        params,
        endpoint: s.endpoint,
    }
}

/// Does this refusal say the server takes no `json_schema` response format (llama-cpp-python:
/// "Input should be 'text' or 'json_object'", as a 400 or a 500)?
pub(super) fn refuses_json_schema(e: &Error) -> bool {
    let message = match e {
        Error::BadRequest { message, .. } | Error::Server { message, .. } => message,
        _ => return false,
    };
    let m = message.to_ascii_lowercase();
    m.contains("response_format") && m.contains("json_schema")
}

/// Does this refusal name the output-limit parameter (a model that wants the other name)?
pub(super) fn refuses_output_limit_name(e: &Error) -> bool {
    match e {
        Error::BadRequest { message, .. } => {
            let m = message.to_ascii_lowercase();
            m.contains("max_tokens") || m.contains("max_completion_tokens")
        }
        _ => false,
    }
}

impl ChatService {
    /// Builds the request of one target: the endpoint's body, with the history fitted to the
    /// model's context window. Returns the request and how many messages were left out.
    /// `prompt_tail` (legacy completions only) is appended to the prompt: the text a branch from
    /// another token continues.
    pub(super) fn build_request(
        &self,
        s: &conversations::ConversationSettings,
        user: &Message,
        model: &str,
        info: Option<&pricing::ModelInfo>,
        prompt_tail: Option<&str>,
    ) -> Result<(Request, usize)> {
        if model.is_empty() {
            // The window answers this one with the server's model list, one click away.
            return Err(Error::NoModel);
        }
        let path = self.db.with(|c| messages::path_to(c, user.id))?;
        // The model's context window (when known) and the room kept for the reply.
        let window = info
            .and_then(|i| i.context_window)
            .map(|w| w.max(0) as usize);
        let reserve = s
            .params
            .max_tokens
            .map(|m| m.max(0) as usize)
            .unwrap_or(context::DEFAULT_REPLY_RESERVE);
        match s.endpoint {
            EndpointKind::Chat | EndpointKind::Responses => {
                let images = self.db.with(|c| image_parts(c, &path))?;
                let history = history_with_images(&s.system_prompt, &path, &images);
                let mut fitted = context::fit(model, history, window, reserve);
                fitted.messages = pair_tool_calls(fitted.messages);
                if s.endpoint == EndpointKind::Responses {
                    let body = self.responses_body(s, model, fitted.messages)?;
                    return Ok((Request::Responses(body), fitted.omitted));
                }
                let mut body = ChatRequest::streaming(model, fitted.messages);
                body.sampling = sampling(s);
                body.set_output_limit(s.params.max_tokens, wants_max_completion_tokens(model));
                Ok((Request::Chat(body), fitted.omitted))
            }
            EndpointKind::Completions => {
                let has_images = self
                    .db
                    .with(|c| crate::db::attachments::of_message(c, user.id))?;
                if !has_images.is_empty() {
                    return Err(Error::invalid(
                        "The legacy completions endpoint takes text only: switch this conversation to the chat endpoint to send images.",
                    ));
                }
                let tail = prompt_tail.unwrap_or_default();
                let (from, omitted) =
                    completion_fit(model, &s.system_prompt, &path, tail, window, reserve);
                let mut prompt = completion_prompt(&s.system_prompt, &path[from..]);
                prompt.push_str(tail);
                let mut body = CompletionRequest::streaming(model, prompt);
                body.sampling = sampling(s);
                body.max_tokens = s.params.max_tokens;
                Ok((Request::Completion(body), omitted))
            }
        }
    }
}

impl ChatService {
    /// The Responses API's body: the fitted history as input items, the tools in their flat
    /// form, the output limit as `max_output_tokens` (which the API wants at least 16).
    fn responses_body(
        &self,
        s: &conversations::ConversationSettings,
        model: &str,
        history: Vec<ChatMessage>,
    ) -> Result<ResponsesRequest> {
        if let Some(limit) = s.params.max_tokens.filter(|m| *m < MIN_OUTPUT_TOKENS) {
            return Err(Error::invalid(format!(
                "The Responses API takes an output limit of at least {MIN_OUTPUT_TOKENS} tokens \
                 (this conversation's is {limit}); raise it or use the chat endpoint."
            )));
        }
        let mut body = ResponsesRequest::streaming(model, history);
        body.set_sampling(sampling(s), wants_max_completion_tokens(model));
        body.max_output_tokens = s.params.max_tokens;
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(role: Role, status: Status, content: &str) -> Message {
        Message {
            conversation_id: 1,
            status,
            ..Message::new(role, content)
        }
    }

    #[test]
    fn a_legacy_prompt_keeps_the_newest_turns_that_fit_its_window() {
        let path: Vec<Message> = (0..50)
            .map(|i| {
                msg(
                    Role::User,
                    Status::Done,
                    &format!("turn {i} {}", "word ".repeat(200)),
                )
            })
            .collect();
        let (from, omitted) =
            completion_fit("gpt-3.5-turbo-instruct", "Sys", &path, "", Some(4096), 1024);
        assert!(from > 0 && omitted == from, "{from} {omitted}");
        let prompt = completion_prompt("Sys", &path[from..]);
        assert!(tokens::count_text("gpt-3.5-turbo-instruct", &prompt) <= 4096 - 1024);
        assert!(prompt.ends_with(&path[49].content));
        // No window known, or one that fits everything: the whole path.
        assert_eq!(completion_fit("m", "", &path, "", None, 0), (0, 0));
        assert_eq!(
            completion_fit("m", "", &path, "", Some(1_000_000), 0),
            (0, 0)
        );
        // The newest turn goes even when it alone is too long.
        assert_eq!(completion_fit("m", "", &path, "", Some(10), 0), (49, 49));
    }

    #[test]
    fn history_keeps_the_system_prompt_and_partial_replies_but_not_failed_ones() {
        let path = vec![
            msg(Role::User, Status::Done, "q1"),
            msg(Role::Assistant, Status::Cancelled, "half an answ"),
            msg(Role::User, Status::Done, "q2"),
        ];
        let h = history("Be brief.", &path);
        let roles: Vec<_> = h
            .iter()
            .map(|m| (m.role.as_str(), m.content.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                ("system", "Be brief."),
                ("user", "q1"),
                ("assistant", "half an answ"),
                ("user", "q2")
            ]
        );
        let path = vec![
            msg(Role::User, Status::Done, "q"),
            msg(Role::Assistant, Status::Error, "junk"),
        ];
        assert_eq!(history("  ", &path).len(), 1);
    }

    #[test]
    fn reasoning_is_never_part_of_the_history_or_the_prompt() {
        let mut reply = msg(Role::Assistant, Status::Done, "42");
        reply.reasoning = "secret chain of thought".into();
        // A reply stopped while still thinking has reasoning but no answer: not sent at all.
        let mut thinking_only = msg(Role::Assistant, Status::Cancelled, "");
        thinking_only.reasoning = "half a thought".into();
        let path = vec![
            msg(Role::User, Status::Done, "q"),
            reply,
            msg(Role::User, Status::Done, "q2"),
            thinking_only,
        ];
        let h = history("", &path);
        assert_eq!(h.len(), 3);
        assert_eq!(h[1].content, "42");
        let json = serde_json::to_string(&h).unwrap();
        assert!(!json.contains("thought"), "{json}");
        assert!(!completion_prompt("", &path).contains("thought"));
    }

    #[test]
    fn content_is_checked_before_anything_is_saved() {
        assert_eq!(clean_content(" \n ").unwrap_err().kind(), "invalid");
        assert_eq!(clean_content("a\0b").unwrap(), "ab");
        let huge = "x".repeat(MAX_MESSAGE_BYTES + 1);
        assert!(clean_content(&huge)
            .unwrap_err()
            .to_string()
            .contains("limit"));
    }
}
