//! A complete (non-streamed) answer to a streaming request, and the pieces a stream accumulates
//! beside its text: token probabilities and tool calls.

use super::*;

/// A 200 JSON answer to a streaming request: an error object, or a complete `chat.completion`
/// (or `text_completion`).
pub(super) fn whole_completion(
    bytes: &[u8],
    choices: u32,
    split_think_tags: bool,
    on_event: &mut (dyn FnMut(StreamEvent) + Send),
) -> Result<Finished> {
    if let Ok(body) = serde_json::from_slice::<crate::openai::types::ErrorBody>(bytes) {
        return Err(Error::BadRequest {
            status: 200,
            message: body.error.message,
        });
    }
    let completion: crate::openai::types::ChatCompletion =
        serde_json::from_slice(bytes).map_err(|e| Error::Stream {
            message: format!("the server answered with JSON that is not a completion ({e})"),
        })?;
    let mut finish_reasons = BTreeMap::new();
    // As in a stream: a choice index beyond `n` is the server's mistake and is not shown (an
    // index of 4e9 once sized a vector of splitters and aborted the process).
    let mut router = Router::new(choices, split_think_tags);
    let mut tool_calls = BTreeMap::new();
    for mut choice in completion.choices.into_iter().filter(|c| c.index < choices) {
        add_tool_calls(
            &mut tool_calls,
            choice.index,
            choice.message.tool_calls.take(),
        );
        emit_logprobs(on_event, choice.index, choice.logprobs.take());
        let reasoning = choice.message.reasoning_text();
        router.delta(
            on_event,
            choice.index,
            reasoning,
            choice.message.answer_text().or(choice.text),
        );
        finish_reasons.insert(choice.index, choice.finish_reason.unwrap_or_default());
    }
    router.flush(on_event);
    Ok(Finished {
        model: completion.model,
        usage: completion.usage,
        finish_reasons,
        tool_calls: finish_tool_calls(tool_calls),
    })
}

pub(super) fn emit_logprobs(
    on_event: &mut (dyn FnMut(StreamEvent) + Send),
    index: u32,
    logprobs: Option<crate::openai::logprobs::ChoiceLogprobs>,
) {
    let tokens = logprobs.map(|l| l.into_tokens()).unwrap_or_default();
    if !tokens.is_empty() {
        on_event(StreamEvent::Logprobs { index, tokens });
    }
}

pub(super) type Accumulators = BTreeMap<u32, crate::openai::tool_calls::Accumulator>;

pub(super) fn add_tool_calls(
    acc: &mut Accumulators,
    index: u32,
    chunks: Option<Vec<ToolCallChunk>>,
) {
    for chunk in chunks.into_iter().flatten() {
        acc.entry(index).or_default().push(&chunk);
    }
}

pub(super) fn finish_tool_calls(
    acc: Accumulators,
) -> BTreeMap<u32, Vec<crate::openai::types::ToolCall>> {
    acc.into_iter()
        .map(|(i, a)| (i, a.finish()))
        .filter(|(_, calls)| !calls.is_empty())
        .collect()
}
