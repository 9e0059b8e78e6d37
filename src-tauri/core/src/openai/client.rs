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
use super::sse::{chat_items, SseItem};
use super::types::{ModelList, Request, Usage};
use crate::error::{Error, Result};
use crate::secrets::ApiKey;

mod urls;
pub use urls::{insecure_warning, is_loopback, parse_base_url, parse_proxy_url};

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// Error bodies are short; a server that sends more is cut off here.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// A model list or a non-streamed completion.
const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Passes on a choice's new text (chat `content` or legacy `text`), if there is any.
fn emit_text(on_event: &mut (dyn FnMut(StreamEvent) + Send), index: u32, text: Option<String>) {
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        on_event(StreamEvent::Delta { index, text });
    }
}

/// A 200 JSON answer to a streaming request: an error object, or a complete `chat.completion`
/// (or `text_completion`).
fn whole_completion(
    bytes: &[u8],
    on_event: &mut (dyn FnMut(StreamEvent) + Send),
) -> Result<Finished> {
    if let Ok(body) = serde_json::from_slice::<super::types::ErrorBody>(bytes) {
        return Err(Error::BadRequest {
            status: 200,
            message: body.error.message,
        });
    }
    let completion: super::types::ChatCompletion =
        serde_json::from_slice(bytes).map_err(|e| Error::Stream {
            message: format!("the server answered with JSON that is not a completion ({e})"),
        })?;
    let mut finish_reasons = BTreeMap::new();
    for choice in completion.choices {
        emit_text(
            on_event,
            choice.index,
            choice.message.content.or(choice.text),
        );
        finish_reasons.insert(choice.index, choice.finish_reason.unwrap_or_default());
    }
    Ok(Finished {
        model: completion.model,
        usage: completion.usage,
        finish_reasons,
    })
}

/// Which wire dialect a server speaks: where each API path goes and how the key is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI and every OpenAI-compatible server: `{base}/{path}`, `Authorization: Bearer KEY`.
    #[default]
    OpenAi,
    /// Azure OpenAI: `{resource}/openai/deployments/{deployment}/{path}?api-version=V`, `api-key: KEY`.
    Azure {
        deployment: String,
        api_version: String,
    },
}

/// Where to send a request and with which key.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: Url,
    pub key: Option<ApiKey>,
    pub flavor: Flavor,
}

impl Endpoint {
    /// An OpenAI(-compatible) endpoint.
    pub fn new(base_url: Url, key: Option<ApiKey>) -> Endpoint {
        Endpoint {
            base_url,
            key,
            flavor: Flavor::OpenAi,
        }
    }

    /// The URL of an API path (`"chat/completions"`, `"completions"` or `"models"`) for this server.
    pub fn url(&self, api_path: &str) -> Url {
        let mut url = self.base_url.clone();
        let base = url.path().trim_end_matches('/').to_string();
        // An Azure resource URL pasted with its `/openai` suffix.
        let base = match &self.flavor {
            Flavor::Azure { .. } => base.strip_suffix("/openai").unwrap_or(&base).to_string(),
            Flavor::OpenAi => base,
        };
        match &self.flavor {
            Flavor::OpenAi => url.set_path(&format!("{base}/{api_path}")),
            Flavor::Azure {
                deployment,
                api_version,
            } => {
                url.set_path(&base);
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.pop_if_empty().push("openai");
                    if api_path != "models" {
                        segments.push("deployments").push(deployment);
                    }
                    segments.extend(api_path.split('/'));
                }
                url.query_pairs_mut()
                    .clear()
                    .append_pair("api-version", api_version);
            }
        }
        url
    }

    /// The header that carries the key (none without a key).
    pub(crate) fn auth_header(&self) -> Result<Option<(HeaderName, HeaderValue)>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let (name, raw) = match self.flavor {
            Flavor::OpenAi => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            Flavor::Azure { .. } => (HeaderName::from_static("api-key"), key.expose().to_string()),
        };
        let mut value = HeaderValue::from_str(&raw)
            .map_err(|_| Error::invalid("The API key contains characters that cannot be sent."))?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }
}

/// How requests reach the internet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", content = "url", rename_all = "lowercase")]
pub enum Proxy {
    /// The system's proxy settings (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`…), as reqwest reads them.
    #[default]
    System,
    /// Direct connections, whatever the system says.
    None,
    /// This proxy for every request: `http://`, `https://`, `socks5://` or `socks5h://`.
    Custom(String),
}

/// What a stream tells its consumer, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Retrying {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// New text of choice `index` (always 0 unless `n` > 1).
    Delta { index: u32, text: String },
}

/// How a stream ended when it ended well.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finished {
    pub model: Option<String>,
    /// Usage of the whole request (all choices together when `n` > 1).
    pub usage: Option<Usage>,
    /// Why each choice ended (`stop`, `length`…), by choice index.
    pub finish_reasons: BTreeMap<u32, String>,
}

impl Finished {
    pub fn finish_reason(&self, index: u32) -> Option<String> {
        self.finish_reasons
            .get(&index)
            .filter(|r| !r.is_empty())
            .cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for headers or between two stream chunks.
    pub idle_timeout: Duration,
    pub proxy: Proxy,
}

pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for ClientOptions {
    fn default() -> Self {
        let idle = std::env::var("PARLEY_IDLE_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0 && *s < 86_400.0)
            .unwrap_or(120.0);
        ClientOptions {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: Duration::from_secs_f64(idle),
            proxy: Proxy::System,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    options: ClientOptions,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client> {
        // TLS through rustls with the ring provider; a second install (another client) is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let same_origin_only = reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().map(|u| u.origin());
            if attempt.previous().len() > 5 {
                attempt.error("too many redirects")
            } else if first.as_ref() == Some(&attempt.url().origin()) {
                attempt.follow()
            } else {
                attempt.error(
                    "the server redirected to another origin; Parley does not send the key there",
                )
            }
        });
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .redirect(same_origin_only);
        builder = match &options.proxy {
            Proxy::System => builder,
            Proxy::None => builder.no_proxy(),
            Proxy::Custom(raw) => {
                let url = parse_proxy_url(raw)?;
                let proxy = reqwest::Proxy::all(url.as_str()).map_err(|e| {
                    Error::invalid(format!("The proxy {url} cannot be used ({e})."))
                })?;
                builder.proxy(proxy)
            }
        };
        let http = builder.build().map_err(|e| Error::Network {
            message: e.to_string(),
        })?;
        Ok(Client { http, options })
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
        let mut req = self.http.request(method, ep.url(path));
        if let Some((name, value)) = ep.auth_header()? {
            req = req.header(name, value);
        }
        Ok(req)
    }

    /// Sends with retries (N1) until a success status; never retries once a body is being read.
    async fn send_with_retries(
        &self,
        ep_has_key: bool,
        build: impl Fn() -> Result<reqwest::RequestBuilder>,
        model: Option<&str>,
        cancel: &CancellationToken,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
    ) -> Result<reqwest::Response> {
        let mut attempt = 0;
        loop {
            let sent = tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                r = tokio::time::timeout(self.options.idle_timeout, build()?.send()) => r,
            };
            let (err, delay) = match sent {
                Err(_) => (
                    Error::Timeout {
                        message: format!("no answer within {:?}", self.options.idle_timeout),
                    },
                    None,
                ),
                Ok(Err(e)) => {
                    let retry = e.is_connect() || e.is_timeout();
                    let err = errors::network_error(e);
                    if !retry {
                        return Err(err);
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
                    let err = errors::explain_missing_key(err, ep_has_key);
                    if !errors::retryable_status(status) {
                        return Err(err);
                    }
                    (err, errors::retry_after(&headers))
                }
            };
            if attempt >= MAX_RETRIES {
                return Err(err);
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

    /// `GET {base}/models`: the model ids the server offers, sorted.
    /// Azure OpenAI has no list of deployments on its data-plane API: the deployment is the model.
    pub async fn list_models(&self, ep: &Endpoint) -> Result<Vec<String>> {
        if let Flavor::Azure { deployment, .. } = &ep.flavor {
            return Ok(vec![deployment.clone()]);
        }
        let cancel = CancellationToken::new();
        let resp = self
            .send_with_retries(
                ep.key.is_some(),
                || self.request(reqwest::Method::GET, ep, "models"),
                None,
                &cancel,
                &mut |_| {},
            )
            .await?;
        let body = self.read_body(resp, JSON_BODY_LIMIT, &cancel).await?;
        let list: ModelList = serde_json::from_slice(&body).map_err(|e| Error::BadRequest {
            status: 200,
            message: format!("the server's model list was not understood: {e}"),
        })?;
        let mut ids: Vec<String> = list.data.into_iter().map(|m| m.id).collect();
        ids.sort();
        ids.dedup();
        Ok(ids)
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
        let build = || {
            Ok(self
                .request(reqwest::Method::POST, ep, body.path())?
                .json(body))
        };
        let resp = self
            .send_with_retries(
                ep.key.is_some(),
                build,
                Some(body.model()),
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
            return whole_completion(&bytes, on_event);
        }
        let choices = body.choices();
        let mut items = Box::pin(chat_items(resp.bytes_stream()));
        let mut finished = Finished::default();
        loop {
            let next = tokio::select! {
                _ = cancel.cancelled() => return Err(Error::Cancelled),
                n = tokio::time::timeout(self.options.idle_timeout, items.next()) => n,
            };
            match next {
                Err(_) => {
                    return Err(Error::Timeout {
                        message: format!(
                            "nothing arrived for {:?} in the middle of the reply",
                            self.options.idle_timeout
                        ),
                    })
                }
                Ok(None) if !finished.finish_reasons.is_empty() => return Ok(finished),
                Ok(None) => {
                    return Err(Error::Stream {
                        message: "the connection closed before the reply was complete".into(),
                    })
                }
                Ok(Some(Err(e))) => return Err(e),
                Ok(Some(Ok(SseItem::Done))) => return Ok(finished),
                Ok(Some(Ok(SseItem::Chunk(chunk)))) => {
                    if finished.model.is_none() {
                        finished.model = chunk.model.filter(|m| !m.is_empty());
                    }
                    if chunk.usage.is_some() {
                        finished.usage = chunk.usage;
                    }
                    // A choice index beyond `n` is the server's mistake; it is not shown.
                    for choice in chunk.choices.into_iter().filter(|c| c.index < choices) {
                        emit_text(on_event, choice.index, choice.delta.content.or(choice.text));
                        if let Some(reason) = choice.finish_reason {
                            finished.finish_reasons.insert(choice.index, reason);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
