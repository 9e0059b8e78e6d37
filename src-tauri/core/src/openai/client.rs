//! One shared HTTP client for every provider: typed requests, SSE streaming, retries, timeouts,
//! cancellation. Keys go only to the profile's own origin (redirects to another origin are refused).

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::errors::{self, MAX_RETRIES};
use super::sse::{SseItem, SseParser};
use super::think::Router;
use super::types::{ModelList, Request, ToolCallChunk, Usage};
use crate::error::{Error, Result};
use crate::secrets::redact::redact;
use crate::secrets::ApiKey;

mod urls;
pub use urls::{insecure_warning, is_loopback, parse_base_url, parse_proxy_url};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Error bodies are short; a server that sends more is cut off here.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// A model list or a non-streamed completion.
const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// The longest reply (all its choices together) Parley takes from one stream. Past it the stream
/// stops with a clear error and the part received is kept (N5). Before this cap an 85 MB reply
/// aborted the process inside the tokenizer.
pub const MAX_REPLY_BYTES: usize = 16 << 20;
/// How long an answer that is not streamed (a suite's cell) may take to be generated: its
/// headers come only with the whole answer, so the idle timeout would cap a long generation.
pub const WHOLE_ANSWER_WAIT: Duration = Duration::from_secs(600);

mod build;
mod completion;
mod endpoint;
mod events;
mod files;
mod reach;
mod responses;
use completion::{
    add_tool_calls, emit_logprobs, finish_tool_calls, whole_completion, Accumulators,
};
pub use endpoint::{Endpoint, Flavor, Proxy};
pub use events::{ClientOptions, Finished, StreamEvent};
pub use files::FILE_LIMIT;
#[cfg(any(test, feature = "fuzzing"))]
pub use responses::{decode_stream, decode_whole};

/// "4 s", "0.4 s", "90 s": a duration as people read it.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Straight to the server, for loopback addresses when the proxy is not for them.
    direct: Option<reqwest::Client>,
    options: ClientOptions,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client> {
        let (http, direct) = build::http_clients(&options)?;
        Ok(Client {
            http,
            direct,
            options,
        })
    }

    /// The client a request to `url` goes through: straight for this machine's own servers unless
    /// the proxy is meant for them too.
    fn http_for(&self, url: &Url) -> &reqwest::Client {
        match &self.direct {
            Some(direct) if is_loopback(url) => direct,
            _ => &self.http,
        }
    }

    /// Whether requests to `url` may go through a proxy: a custom one, or the system's (from the
    /// environment); never for loopback unless the proxy is meant for local servers too.
    fn proxied(&self, url: &Url) -> bool {
        if self.direct.is_some() && is_loopback(url) {
            return false;
        }
        match &self.options.proxy {
            Proxy::None => false,
            Proxy::Custom(_) => true,
            Proxy::System => ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty())),
        }
    }

    /// What this client was built with (one client per distinct set).
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    fn request(
        &self,
        method: reqwest::Method,
        ep: &Endpoint,
        path: &str,
    ) -> Result<reqwest::RequestBuilder> {
        let url = ep.url(path);
        if ep.key.is_some() && url.scheme() == "http" && self.proxied(&url) {
            // A proxy on plain http reads every header: the key never goes that way (K4).
            return Err(Error::invalid(format!(
                "Parley does not send an API key over plain http through a proxy (the proxy would \
                 read it). Use https for {}, or set this profile's proxy to none.",
                url.origin().ascii_serialization()
            )));
        }
        let mut req = self.http_for(&url).request(method, url);
        if let Some((name, value)) = ep.auth_header()? {
            req = req.header(name, value);
        }
        Ok(req)
    }

    /// Sends with retries (N1) until a success status; never retries once a body is being read.
    /// `whole`: the answer is not streamed, so its headers come only once it is generated: the
    /// wait is [`WHOLE_ANSWER_WAIT`] instead of the idle timeout, and a wait that runs out is not
    /// sent again (the server may still be generating, and a second request is billed again).
    async fn send_with_retries(
        &self,
        ep: &Endpoint,
        build: impl Fn() -> Result<reqwest::RequestBuilder>,
        model: Option<&str>,
        whole: bool,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<reqwest::Response> {
        let wait = if whole {
            WHOLE_ANSWER_WAIT.max(self.options.idle_timeout)
        } else {
            self.options.idle_timeout
        };
        let mut attempt = 0;
        loop {
            let sent = tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                r = tokio::time::timeout(wait, build()?.send()) => r,
            };
            let (err, delay) = match sent {
                Err(_) if whole => {
                    return Err(Error::Timeout {
                        message: format!("no answer within {wait:?}"),
                    })
                }
                Err(_) => (
                    Error::Timeout {
                        message: format!("no answer within {wait:?}"),
                    },
                    None,
                ),
                Ok(Err(e)) => {
                    let retry = e.is_connect() || e.is_timeout();
                    let err = errors::network_error(e);
                    if !retry {
                        return Err(self.unreachable(err, ep, attempt + 1));
                    }
                    (err, None)
                }
                Ok(Ok(resp)) if resp.status().is_success() => return Ok(resp),
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    // The status decides; a body that cannot be read is just an empty message.
                    let body = match self.read_body(resp, ERROR_BODY_LIMIT, cancel).await {
                        Err(Error::Cancelled) => return Err(Error::Cancelled),
                        other => other.unwrap_or_default(),
                    };
                    let body = String::from_utf8_lossy(&body);
                    let err = errors::from_status(status, &headers, &body, model);
                    let err = errors::explain_missing_key(err, ep.key.is_some());
                    if !errors::retryable_status(status) {
                        return Err(err);
                    }
                    (err, errors::retry_after(&headers))
                }
            };
            if attempt >= MAX_RETRIES {
                return Err(self.unreachable(err, ep, attempt + 1));
            }
            let delay = delay.unwrap_or_else(|| errors::backoff(attempt));
            attempt += 1;
            on_event(StreamEvent::Retrying {
                attempt,
                delay,
                reason: err.to_string(),
            });
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Reads at most `limit` bytes of a body, giving up on silence (idle timeout) or Stop.
    async fn read_body(
        &self,
        resp: reqwest::Response,
        limit: usize,
        cancel: &CancellationToken,
    ) -> Result<Vec<u8>> {
        let mut stream = resp.bytes_stream();
        let mut buf = Vec::new();
        while buf.len() < limit {
            let next = tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                n = tokio::time::timeout(self.options.idle_timeout, stream.next()) => n,
            };
            match next {
                Ok(Some(Ok(chunk))) => buf.extend_from_slice(&chunk),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(errors::network_error(e)),
                Err(_) => {
                    return Err(Error::Timeout {
                        message: "the server stopped in the middle of its answer".into(),
                    })
                }
            }
        }
        buf.truncate(limit);
        Ok(buf)
    }

    /// The SSE items of the next piece of a streamed body, and whether the body ended. Stop and
    /// the idle timeout are checked on every chunk of bytes, however the server splits its
    /// events; Stop first, so a server that never pauses cannot starve it.
    async fn next_items<S, B>(
        &self,
        bytes: &mut S,
        parser: &mut SseParser,
        cancel: &CancellationToken,
        ep: &Endpoint,
    ) -> Result<(Vec<Result<SseItem>>, bool)>
    where
        S: futures_util::Stream<Item = reqwest::Result<B>> + Unpin,
        B: AsRef<[u8]>,
    {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Error::Cancelled),
            n = tokio::time::timeout(self.options.idle_timeout, bytes.next()) => n,
        };
        match next {
            Err(_) => Err(Error::Timeout {
                message: format!(
                    "nothing arrived from {} for {} in the middle of the reply (a reply that has begun is not retried)",
                    ep.base_url.host_str().unwrap_or_default(),
                    seconds(self.options.idle_timeout)
                ),
            }),
            Ok(Some(Err(e))) => Err(Error::Stream {
                message: format!("the connection broke ({})", errors::network_error(e)),
            }),
            Ok(Some(Ok(chunk))) => Ok((parser.feed(chunk.as_ref()), false)),
            Ok(None) => Ok((parser.finish(), true)),
        }
    }

    /// `GET {base}/models`: the model ids the server offers, in its order.
    /// Azure OpenAI has no list of deployments on its data-plane API: the deployment is the model.
    pub async fn list_models(&self, ep: &Endpoint) -> Result<Vec<String>> {
        let key = ep.key.as_ref().map(ApiKey::expose);
        self.list_models_unredacted(ep)
            .await
            .map_err(|e| e.map_text(|t| redact(t, key)))
    }

    async fn list_models_unredacted(&self, ep: &Endpoint) -> Result<Vec<String>> {
        if let Flavor::Azure { deployment, .. } = &ep.flavor {
            return Ok(vec![deployment.clone()]);
        }
        let cancel = CancellationToken::new();
        let resp = self
            .send_with_retries(
                ep,
                || self.request(reqwest::Method::GET, ep, "models"),
                None,
                false,
                &cancel,
                &mut |_| {},
            )
            .await?;
        let body = self.read_body(resp, JSON_BODY_LIMIT, &cancel).await?;
        let list: ModelList = serde_json::from_slice(&body).map_err(|e| Error::BadRequest {
            status: 200,
            message: format!("the server's model list was not understood: {e}"),
        })?;
        // In the server's own order (its first is the one it offers first), without repeats.
        let mut seen = std::collections::HashSet::new();
        Ok(list
            .data
            .into_iter()
            .map(|m| m.id)
            .filter(|id| seen.insert(id.clone()))
            .collect())
    }

    /// Streams a chat or legacy text completion. Deltas go to `on_event` as they arrive, tagged
    /// with their choice index; the result says how it ended. On error or cancel, the deltas
    /// already delivered are the partial reply.
    pub async fn stream(
        &self,
        ep: &Endpoint,
        body: &Request,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Finished> {
        let key = ep.key.as_ref().map(ApiKey::expose);
        // Server text in an error (its body, a mid-stream error event) may echo the key (K5).
        let mut on_event = |ev: StreamEvent| {
            on_event(match ev {
                StreamEvent::Retrying {
                    attempt,
                    delay,
                    reason,
                } => StreamEvent::Retrying {
                    attempt,
                    delay,
                    reason: redact(&reason, key),
                },
                other => other,
            })
        };
        self.stream_unredacted(ep, body, cancel, &mut on_event)
            .await
            .map_err(|e| e.map_text(|t| redact(t, key)))
    }

    async fn stream_unredacted(
        &self,
        ep: &Endpoint,
        body: &Request,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<Finished> {
        let build = || {
            Ok(self
                .request(reqwest::Method::POST, ep, body.path())?
                .json(body))
        };
        let resp = self
            .send_with_retries(
                ep,
                build,
                Some(body.model()),
                !body.streams(),
                cancel,
                on_event,
            )
            .await?;
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            // Not a stream: an error object, or a whole completion from a server that ignores `stream`.
            let bytes = self.read_body(resp, JSON_BODY_LIMIT, cancel).await?;
            return match body {
                Request::Responses(_) => responses::whole_response(&bytes, on_event),
                _ => whole_completion(&bytes, body.choices(), body.is_chat(), on_event),
            };
        }
        if let Request::Responses(_) = body {
            return self.read_responses_stream(ep, resp, cancel, on_event).await;
        }
        let choices = body.choices();
        let mut router = Router::new(choices, body.is_chat());
        let mut tool_calls = Accumulators::new();
        let mut bytes = resp.bytes_stream();
        let mut parser = SseParser::new();
        let mut finished = Finished::default();
        let mut received = 0usize;
        let outcome = 'stream: loop {
            let (items, ended) = match self.next_items(&mut bytes, &mut parser, cancel, ep).await {
                Ok(read) => read,
                Err(e) => break Err(e),
            };
            for item in items {
                let chunk = match item {
                    Err(e) => break 'stream Err(e),
                    Ok(SseItem::Done) => break 'stream Ok(finished),
                    Ok(SseItem::Chunk(chunk)) => chunk,
                    Ok(SseItem::Data(_)) => continue,
                };
                if finished.model.is_none() {
                    finished.model = chunk.model.filter(|m| !m.is_empty());
                }
                if chunk.usage.is_some() {
                    finished.usage = chunk.usage;
                }
                // A choice index beyond `n` is the server's mistake; it is not shown.
                for mut choice in chunk.choices.into_iter().filter(|c| c.index < choices) {
                    received += super::tool_calls::chunk_bytes(choice.delta.tool_calls.as_deref());
                    add_tool_calls(
                        &mut tool_calls,
                        choice.index,
                        choice.delta.tool_calls.take(),
                    );
                    emit_logprobs(on_event, choice.index, choice.logprobs.take());
                    let reasoning = choice.delta.reasoning_text();
                    let content = choice.delta.answer_text().or(choice.text);
                    received += content.as_ref().map_or(0, String::len)
                        + reasoning.as_ref().map_or(0, String::len);
                    if received > MAX_REPLY_BYTES {
                        break 'stream Err(Error::Stream {
                            message: format!(
                                "the reply passed Parley's limit of {} MB and was stopped; \
                                 the part received is kept",
                                MAX_REPLY_BYTES >> 20
                            ),
                        });
                    }
                    router.delta(on_event, choice.index, reasoning, content);
                    if let Some(reason) = choice.finish_reason {
                        finished.finish_reasons.insert(choice.index, reason);
                    }
                }
            }
            if ended {
                break if finished.finish_reasons.is_empty() {
                    Err(Error::Stream {
                        message: "the connection closed before the reply was complete".into(),
                    })
                } else {
                    Ok(finished)
                };
            }
        };
        // Text held back while a `<think>` tag might be forming is part of the reply, even a partial one.
        router.flush(on_event);
        // Calls made before an error or a stop are kept with the partial reply.
        let calls = finish_tool_calls(tool_calls);
        match outcome {
            Ok(mut f) => {
                f.tool_calls = calls;
                Ok(f)
            }
            Err(e) if calls.is_empty() => Err(e),
            Err(e) => {
                on_event(StreamEvent::ToolCalls { calls });
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests;
