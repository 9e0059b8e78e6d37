//! The stream loop of one target: deltas to the window, checkpoints, retries before the first
//! token, and one final state per reply.

use crate::db::conversations::Conversation;
use crate::db::messages::{self, Message, Outcome, Status};
use crate::db::pricing;
use crate::error::{Error, Result};
use crate::openai::logprobs::MAX_TOKENS_KEPT;
use crate::openai::types::Request;
use crate::openai::{Finished, StreamEvent};

use super::request::{refuses_json_schema, refuses_output_limit_name};
use super::*;

/// Records how a stream ended in the reply's outcome; returns the error to report, if any
/// (a stop is not an error).
pub(super) fn record(
    outcome: &mut Outcome,
    result: &Result<Finished>,
    index: u32,
) -> Option<Error> {
    match result {
        Ok(fin) => {
            outcome.model = fin.model.clone();
            outcome.finish_reason = fin.finish_reason(index);
            outcome.status = Some(Status::Done);
            None
        }
        Err(Error::Cancelled) => {
            outcome.status = Some(Status::Cancelled);
            None
        }
        Err(e) => {
            outcome.status = Some(Status::Error);
            outcome.error_kind = Some(e.kind().to_string());
            outcome.error_message = Some(e.to_string());
            Some(e.clone())
        }
    }
}

/// The response format a finished reply is checked against: the conversation's, when the
/// request that was sent carried it (the legacy endpoint does not).
fn structured_format<'c>(
    conv: &'c Conversation,
    sent: &Option<Request>,
) -> Option<&'c crate::params::ResponseFormat> {
    let format = conv.settings.params.response_format.as_ref()?;
    sent.as_ref()
        .is_some_and(|r| r.asks_response_format() && r.is_chat())
        .then_some(format)
}

impl ChatService {
    /// Streams one target's request into its reply rows (one per choice) and saves each.
    pub(super) async fn stream_replies(
        &self,
        conv: &Conversation,
        user: &Message,
        p: Prepared<'_>,
        emit: Emit<'_>,
    ) -> Result<Vec<Message>> {
        let Prepared {
            run,
            endpoint,
            model,
            reply_ids,
            prefill,
        } = p;
        let n = reply_ids.len();
        let started = Instant::now();
        // A branch from another token starts with its text (shown at once) and its probabilities.
        let start_text = prefill.map(|p| p.text.clone()).unwrap_or_default();
        if !start_text.is_empty() {
            for id in &reply_ids {
                emit(ChatEvent::Delta {
                    reply_id: *id,
                    text: start_text.clone(),
                });
            }
        }
        let mut texts = vec![start_text; n];
        let mut reasonings = vec![String::new(); n];
        // How much of each text is checkpointed: a checkpoint appends only the rest.
        let mut saved_len = vec![0usize; n];
        let mut ttft: Vec<Option<Duration>> = vec![None; n];
        // When the first reasoning and the first answer text arrived: the time spent thinking.
        let mut first_reasoning: Vec<Option<Duration>> = vec![None; n];
        let mut first_answer: Vec<Option<Duration>> = vec![None; n];
        // Tool calls made before a stream failed or was stopped.
        let mut partial_calls = std::collections::BTreeMap::new();
        let mut logprobs = vec![prefill.map(|p| p.logprobs.clone()).unwrap_or_default(); n];
        let mut omitted = 0;
        let mut sent: Option<Request> = None;
        // The model's row in the price table: its context window now, its prices at the end.
        let price = self.db.with(|c| pricing::lookup(c, &model)).ok().flatten();
        let request = endpoint.and_then(|(row, ep, client)| {
            // Conversation settings first, then the profile's defaults.
            let settings = provider::effective_settings(&conv.settings, &row);
            let prompt_tail = prefill.map(|p| p.text.as_str());
            let (body, left_out) =
                self.build_request(&settings, user, &model, price.as_ref(), prompt_tail)?;
            omitted = left_out;
            Ok((ep, client, body))
        });
        let stream_id = run.guard.id.clone();
        let result = match request {
            Err(e) => Err(e),
            Ok((ep, client, mut body)) => {
                let mut last_checkpoint = Instant::now();
                // A checkpoint appends only the text that is new (SECURITY.md N5); the reasoning,
                // when there is some, is written whole (it is bounded like the reply).
                let checkpoint = |last: &mut Instant,
                                  texts: &[String],
                                  saved: &mut [usize],
                                  reasonings: &[String]| {
                    if last.elapsed() >= CHECKPOINT_EVERY {
                        *last = Instant::now();
                        // Best effort: a failed checkpoint only loses crash safety for this interval.
                        for (i, id) in reply_ids.iter().enumerate() {
                            let new = &texts[i][saved[i]..];
                            if self.db.with(|c| messages::checkpoint(c, *id, new)).is_ok() {
                                saved[i] = texts[i].len();
                            }
                            if !reasonings[i].is_empty() {
                                let _ = self.db.with(|c| {
                                    messages::checkpoint_reasoning(c, *id, &reasonings[i])
                                });
                            }
                        }
                    }
                };
                let mut attempt = 0;
                loop {
                    let mut on_event = |ev: StreamEvent| match ev {
                        StreamEvent::Delta { index, text } => {
                            let i = index as usize;
                            let now = started.elapsed();
                            ttft[i].get_or_insert(now);
                            first_answer[i].get_or_insert(now);
                            texts[i].push_str(&text);
                            emit(ChatEvent::Delta {
                                reply_id: reply_ids[i],
                                text,
                            });
                            checkpoint(&mut last_checkpoint, &texts, &mut saved_len, &reasonings);
                        }
                        StreamEvent::Reasoning { index, text } => {
                            let i = index as usize;
                            let now = started.elapsed();
                            ttft[i].get_or_insert(now);
                            first_reasoning[i].get_or_insert(now);
                            reasonings[i].push_str(&text);
                            emit(ChatEvent::Reasoning {
                                reply_id: reply_ids[i],
                                text,
                            });
                            checkpoint(&mut last_checkpoint, &texts, &mut saved_len, &reasonings);
                        }
                        StreamEvent::ToolCalls { calls } => partial_calls = calls,
                        StreamEvent::Logprobs { index, tokens } => {
                            let kept = &mut logprobs[index as usize];
                            let room = MAX_TOKENS_KEPT.saturating_sub(kept.len());
                            kept.extend(tokens.into_iter().take(room));
                        }
                        StreamEvent::Retrying {
                            attempt,
                            delay,
                            reason,
                        } => emit(ChatEvent::Retrying {
                            stream_id: stream_id.clone(),
                            attempt,
                            max_attempts: crate::openai::errors::MAX_RETRIES,
                            delay_ms: delay.as_millis() as u64,
                            reason,
                        }),
                    };
                    let r = client.stream(&ep, &body, &run.token, &mut on_event).await;
                    // A model that wants the other name for the output limit: once, with it.
                    let nothing_yet = texts.iter().chain(&reasonings).all(String::is_empty);
                    if attempt == 0
                        && nothing_yet
                        && r.as_ref().is_err_and(refuses_output_limit_name)
                    {
                        if let Request::Chat(chat) = &mut body {
                            if chat.swap_output_limit_name() {
                                attempt += 1;
                                continue;
                            }
                        }
                    }
                    // A server that takes no `json_schema` format: once, a JSON object with the
                    // schema beside it (llama-cpp-python); the reply is checked against it anyway.
                    if nothing_yet && r.as_ref().is_err_and(refuses_json_schema) {
                        if let Request::Chat(chat) = &mut body {
                            if chat.json_object_instead() {
                                crate::trace("the server refused json_schema: asking for json_object with the schema");
                                attempt += 1;
                                continue;
                            }
                        }
                    }
                    sent = Some(body);
                    break r;
                }
            }
        };
        // The prompt as counted here, only when the server did not say.
        let counted_prompt = |sent: &Option<Request>| match sent {
            Some(Request::Chat(b)) => tokens::count_messages(&model, &b.messages) as i64,
            Some(Request::Completion(b)) => tokens::count_text(&model, &b.prompt) as i64,
            Some(Request::Responses(b)) => {
                let text: String = b
                    .instructions
                    .iter()
                    .cloned()
                    .chain(b.input.iter().map(|i| {
                        let v = &i["content"];
                        let v = if v.is_null() { &i["output"] } else { v };
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    }))
                    .collect::<Vec<_>>()
                    .join("\n");
                tokens::count_text(&model, &text) as i64
            }
            None => 0,
        };

        let usage = result.as_ref().ok().and_then(|f| f.usage);
        let mut prompt_count: Option<i64> = None;
        let mut saved = Vec::with_capacity(n);
        for (i, id) in reply_ids.iter().enumerate() {
            let text = std::mem::take(&mut texts[i]);
            let reasoning = std::mem::take(&mut reasonings[i]);
            let total = started.elapsed();
            let mut outcome = Outcome {
                ttft_ms: ttft[i].map(|d| d.as_millis() as i64),
                total_ms: Some(total.as_millis() as i64),
                omitted: (omitted > 0).then_some(omitted as i64),
                thinking_ms: first_reasoning[i].map(|r| {
                    (first_answer[i].unwrap_or(total).saturating_sub(r)).as_millis() as i64
                }),
                ..Default::default()
            };
            let counted_reasoning =
                || (!reasoning.is_empty()).then(|| tokens::count_text(&model, &reasoning) as i64);
            // The server's usage when it covers exactly this reply; else counted here.
            match usage {
                Some(u) if n == 1 => {
                    outcome.prompt_tokens = Some(u.prompt_tokens);
                    outcome.completion_tokens = Some(u.completion_tokens);
                    outcome.reasoning_tokens = u.reasoning_tokens().or_else(counted_reasoning);
                }
                _ if !text.is_empty() || !reasoning.is_empty() || result.is_ok() => {
                    outcome.prompt_tokens = Some(usage.map_or_else(
                        || *prompt_count.get_or_insert_with(|| counted_prompt(&sent)),
                        |u| u.prompt_tokens,
                    ));
                    outcome.reasoning_tokens = counted_reasoning();
                    outcome.completion_tokens = Some(
                        tokens::count_text(&model, &text) as i64
                            + outcome.reasoning_tokens.unwrap_or(0),
                    );
                    outcome.tokens_counted = true;
                }
                _ => {}
            }
            if let (Some(pt), Some(ct), Some(price)) =
                (outcome.prompt_tokens, outcome.completion_tokens, &price)
            {
                // The prompt is paid once for all choices of a request.
                outcome.cost_usd = price.cost(pt / n as i64, ct);
                // Reasoning tokens are billed as output tokens.
                outcome.reasoning_cost_usd =
                    outcome.reasoning_tokens.and_then(|r| price.cost(0, r));
            }
            outcome.reasoning = reasoning;
            outcome.logprobs = std::mem::take(&mut logprobs[i]);
            outcome.tool_calls = match &result {
                Ok(fin) => fin.tool_calls.get(&(i as u32)).cloned(),
                Err(_) => partial_calls.remove(&(i as u32)),
            }
            .unwrap_or_default();
            if let (Some(pt), Some(ct)) = (outcome.prompt_tokens, outcome.completion_tokens) {
                emit(ChatEvent::Usage {
                    reply_id: *id,
                    prompt_tokens: pt,
                    completion_tokens: ct,
                    counted: outcome.tokens_counted,
                });
            }
            let missing = n > 1
                && text.is_empty()
                && result
                    .as_ref()
                    .is_ok_and(|f| f.finish_reason(i as u32).is_none());
            outcome.content = text;
            let mut error = record(&mut outcome, &result, i as u32);
            if missing {
                // Some servers ignore `n` and send one choice: say so rather than show nothing.
                let e = Error::Stream {
                    message: format!(
                        "the server sent no choice {} of {n}; it may not support n > 1",
                        i + 1
                    ),
                };
                outcome.status = Some(Status::Error);
                outcome.error_kind = Some(e.kind().to_string());
                outcome.error_message = Some(e.to_string());
                error = Some(e);
            }
            if outcome.status == Some(Status::Done) && outcome.tool_calls.is_empty() {
                outcome.schema_check = structured_format(conv, &sent)
                    .and_then(|f| crate::params::structured::check_reply(f, &outcome.content));
            }
            let finished = self
                .db
                .with(|c| messages::finish(c, *id, &outcome))
                .map(super::thread::with_speed);
            match (finished, error) {
                (Ok(message), None) => {
                    emit(ChatEvent::Finished {
                        message: message.clone(),
                    });
                    saved.push(message.message);
                }
                (Ok(message), Some(error)) => {
                    emit(ChatEvent::Failed {
                        error,
                        message: Some(message.message.clone()),
                    });
                    saved.push(message.message);
                }
                (Err(db_error), _) => {
                    emit(ChatEvent::Failed {
                        error: db_error.clone(),
                        message: None,
                    });
                    return Err(db_error);
                }
            }
        }
        // Only now is the stream unregistered: `stop_all` returns once every reply is saved.
        drop(run);
        Ok(saved)
    }
}
