//! In-process fake of the OpenAI chat API, shared by the integration tests, the e2e tests and the
//! benchmark (`#[path = "../support/fake_openai.rs"] mod fake_openai;`).
//!
//! The server owns its own tokio runtime on a dedicated thread, so it can be used from plain
//! `#[test]`s and from `#[tokio::test]`s alike. Behaviour is selected by the `model` field of the
//! request; see [`MODELS`] and `Kind` below. Every request (including rejected ones) is recorded.
#![allow(dead_code)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

#[path = "fake_images.rs"]
pub mod fake_images;
/// Judges that wrap their verdict in prose or a fence (branch judge).
#[path = "fake_judge.rs"]
pub mod fake_judge;
/// The Responses API (`/v1/responses`).
#[path = "fake_responses.rs"]
mod fake_responses;
#[path = "fake_suites.rs"]
pub mod fake_suites;
#[path = "fake_structured.rs"]
mod structured;

/// Models listed by `GET /v1/models`.
pub const MODELS: &[&str] = &[
    "test-model",
    "test-slow",
    "test-cut",
    "test-malformed",
    "test-hang",
    "test-429",
    "test-429-once",
    "test-500",
    "test-context",
    "test-no-stream",
    "test-redirect",
    "test-tokens-2000",
    "test-no-usage",
    "test-one-choice",
    "test-reasoning",
    "o1-mini",
    "test-hostile-markdown",
    "test-markdown-2000",
    "test-judge",
    "test-judge-biased",
    "test-judge-echo",
    "test-judge-garbage",
    "test-judge-slow",
    "test-think-deltas",
    "test-think-tags",
    "test-tools",
    "test-logprobs",
    "test-fault-reset-before",
    "test-fault-reset-after",
    "test-fault-no-done",
    "test-fault-split-utf8",
    "test-fault-never",
    "test-fault-error-event",
    "test-fault-comments",
    "test-fault-slow-comments",
    "test-fault-endless-line",
    "test-fault-endless-comments",
    "test-fault-huge-reply",
    "test-fault-huge-tool-calls",
    "test-fault-whole-bad-index",
    "test-claims-other-model",
    "test-echo-key",
    "test-echo-key-midstream",
    "test-json-valid",
    "test-json-invalid",
    "test-refuse",
    "test-refuse-whole",
];

/// What `test-refuse` says (in `refusal`, content null).
pub const REFUSAL: &str = "I'm sorry, I can't help with that request.";

/// The model name `test-claims-other-model` says answered.
pub const CLAIMED_MODEL: &str = "gpt-4o-claimed-by-server";

/// The text `test-fault-split-utf8` sends, its chunks split inside multi-byte characters.
pub const SPLIT_UTF8_TEXT: &str = "你好 🌍 مرحبا";

/// What `test-hostile-markdown` streams: every way a reply could try to get markup, script, a remote
/// request or a dangerous link into the page (SECURITY.md W4–W7), next to the Markdown that must render.
pub const HOSTILE_MARKDOWN: &str = r#"# Rendering check

<script>window.__pwned = 'script'</script>
<img src=x onerror="window.__pwned = 'img'">
<svg onload="window.__pwned = 'svg'"><circle r="5"/></svg>
<a href="https://example.com/raw" onclick="window.__pwned = 'a'">raw anchor</a>

[run me](javascript:alert(1)) and [mixed case](JaVaScRiPt:alert(1))

![tracker](https://example.com/track.png)

| Name | Value |
|------|------:|
| one  | 1 |
| two  | 2 |

```python
def greet(name):
    return f"hello {name}"
```

Energy: $E=mc^2$

$$
\sqrt{2} \approx 1.414
$$

Links: [the docs](https://example.com/docs?q=1), [local file](file:///etc/passwd) and [calculator](calculator://open).
"#;

/// One section of the Markdown that `test-markdown-N` repeats until it has N tokens: what a long
/// technical answer looks like (headings, prose, lists, code, a table, math).
const MARKDOWN_SECTION: &str = r#"## Section

Streaming a long reply should stay smooth: each paragraph arrives word by word, with `inline code`,
**bold** and *emphasis*, a [link](https://example.com/page) and inline math such as $a^2 + b^2 = c^2$.

- first point, with a little more text to wrap
- second point
  continued on an indented line
- third point

```rust
fn main() {
    let xs: Vec<u64> = (1..=10).map(|x| x * x).collect();
    println!("{:?}", xs.iter().sum::<u64>());
}
```

| Column | Value | Note |
|--------|------:|------|
| alpha  | 1.5   | ok   |
| beta   | 22    | fine |

$$
\int_0^1 x^2 \, dx = rac{1}{3}
$$

"#;

/// Id used by every completion / chunk.
pub const COMPLETION_ID: &str = "chatcmpl-fake1";

/// One request as received by the server (main listener or the redirect target).
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Request path without query; requests to the redirect-target listener are prefixed `/other`.
    pub path: String,
    /// Header names are lowercase.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON body, `Value::Null` if absent or not JSON.
    pub body: Value,
    /// The raw query string ("" when none).
    pub query: String,
}

impl Recorded {
    /// First value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

struct Shared {
    key: Option<String>,
    log: Mutex<Vec<Recorded>>,
    seen_once: Mutex<HashSet<String>>,
    other_port: u16,
    suites: fake_suites::State,
}

#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    /// True for the second ("other origin") listener used as the redirect target.
    other: bool,
}

pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeOpenAi {
    /// Start on 127.0.0.1:0 without authentication.
    pub fn start() -> FakeOpenAi {
        Self::spawn(None)
    }

    /// Start requiring `Authorization: Bearer <key>` on every request of the main listener.
    pub fn start_with_key(key: &str) -> FakeOpenAi {
        Self::spawn(Some(key.to_string()))
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request received so far (both listeners), in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().clone()
    }

    /// Evaluation suites' state (concurrency seen, Batch API files).
    pub fn suites(&self) -> &fake_suites::State {
        &self.shared.suites
    }

    /// Lists the hostile corpus as model names and answers `test-hostile-error` with it (fake_hostile.rs).
    #[allow(dead_code)]
    pub fn serve_hostile(&self) {
        crate::fake_hostile::enable(self.shared.other_port);
    }

    pub fn request_count(&self) -> usize {
        self.shared.log.lock().unwrap().len()
    }

    fn spawn(key: Option<String>) -> FakeOpenAi {
        let bind = || {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("fake-openai: bind");
            l.set_nonblocking(true).expect("fake-openai: nonblocking");
            l
        };
        let (main, other) = (bind(), bind());
        let addr = main.local_addr().unwrap();
        let shared = Arc::new(Shared {
            key,
            log: Mutex::new(Vec::new()),
            seen_once: Mutex::new(HashSet::new()),
            other_port: other.local_addr().unwrap().port(),
            suites: Default::default(),
        });
        let (tx, rx) = oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fake-openai".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("fake-openai: runtime");
                rt.block_on(async move {
                    for (listener, other) in [(main, false), (other, true)] {
                        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                        let ctx = Ctx {
                            shared: state.clone(),
                            other,
                        };
                        let app = Router::new().fallback(handle).with_state(ctx);
                        tokio::spawn(async move {
                            // Like real servers: without TCP_NODELAY every request waited
                            // ~40 ms for a delayed ACK (Nagle) before its response arrived.
                            use axum::serve::ListenerExt;
                            let listener = listener.tap_io(|tcp| {
                                let _ = tcp.set_nodelay(true);
                            });
                            let _ = axum::serve(listener, app).await;
                        });
                    }
                    let _ = rx.await; // Drop of FakeOpenAi (or of the sender) ends the server.
                });
                // Cancels all connection tasks, including hanging streams.
                rt.shutdown_timeout(Duration::from_millis(200));
            })
            .expect("fake-openai: thread");
        FakeOpenAi {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Routing

async fn handle(State(ctx): State<Ctx>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    ctx.shared.log.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: if ctx.other {
            format!("/other{path}")
        } else {
            path.clone()
        },
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        query: parts.uri.query().unwrap_or("").to_string(),
    });

    // Azure OpenAI: /openai/deployments/{deployment}/chat/completions?api-version=…, `api-key` header.
    if let Some(rest) = path.strip_prefix("/openai/") {
        return azure(&ctx, &parts, rest, &bytes).await;
    }

    if let (Some(key), false) = (&ctx.shared.key, ctx.other) {
        let got = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(format!("Bearer {key}").as_str()) {
            let shown = got
                .map(|v| mask(v.strip_prefix("Bearer ").unwrap_or(v)))
                .unwrap_or_else(|| "<none>".into());
            let msg = format!(
                "Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."
            );
            return api_error(
                StatusCode::UNAUTHORIZED,
                &msg,
                "invalid_request_error",
                json!("invalid_api_key"),
            );
        }
    }

    if let Some(r) = fake_suites::route(&ctx.shared.suites, &parts.method, &path, &bytes).await {
        return r;
    }

    // A careless proxy or server that echoes the Authorization header back (issue 14, K5).
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let asked = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)["model"]
        .as_str()
        .unwrap_or("")
        .to_string();
    // Hostile text (issue 14): payload model names and error bodies, for servers that ask for them.
    if let Some(r) = crate::fake_hostile::route(
        ctx.shared.other_port,
        parts.method == Method::GET,
        &path,
        &asked,
    ) {
        return r;
    }
    if asked == "test-echo-key" {
        let page = format!(
            "<html><body><h1>502 Bad Gateway</h1><pre>Authorization: {auth}</pre>Invalid API key provided: {}</body></html>",
            auth.trim_start_matches("Bearer ")
        );
        return (StatusCode::BAD_GATEWAY, page).into_response();
    }
    if asked == "test-echo-key-midstream" {
        let event = json!({ "error": { "message": format!("upstream refused {auth}"), "type": "server_error" } });
        return streamed(
            vec![
                Step::Data(format!(
                    "data: {}\n\n",
                    json!({"choices":[{"index":0,"delta":{"content":"Hi"}}]})
                )),
                Step::Data(format!("data: {event}\n\n")),
            ],
            SSE,
        );
    }

    match (&parts.method, path.trim_end_matches('/')) {
        (&Method::GET, "/v1/models") => {
            let data: Vec<Value> = MODELS.iter().map(|m| model_object(m)).collect();
            Json(json!({ "object": "list", "data": data })).into_response()
        }
        (&Method::GET, p) if p.starts_with("/v1/models/") => {
            let id = &p["/v1/models/".len()..];
            match MODELS.contains(&id) {
                true => Json(model_object(id)).into_response(),
                false => model_not_found(id),
            }
        }
        (&Method::POST, "/v1/chat/completions") => chat(&ctx, &bytes, Api::Chat).await,
        (&Method::POST, "/v1/completions") => chat(&ctx, &bytes, Api::Completions).await,
        (&Method::POST, "/v1/responses") => fake_responses::respond(&ctx, &bytes).await,
        (m, p) => api_error(
            StatusCode::NOT_FOUND,
            &format!("Invalid URL ({m} {p})"),
            "invalid_request_error",
            Value::Null,
        ),
    }
}

/// Azure's data plane, as far as Parley uses it. Like Azure: the key only in `api-key` (a bearer
/// token is refused), `api-version` required, the deployment in the path decides the model.
async fn azure(
    ctx: &Ctx,
    parts: &axum::http::request::Parts,
    rest: &str,
    bytes: &[u8],
) -> Response {
    let version = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("api-version="))
        .unwrap_or("");
    if version.is_empty() {
        let body = json!({ "error": { "code": "404", "message": "Resource not found" } });
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    }
    if parts.headers.contains_key(header::AUTHORIZATION) {
        let body = json!({ "error": { "code": "401", "message": "Access denied: use the api-key header (a bearer token is not an Azure API key)." } });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    if let Some(key) = &ctx.shared.key {
        let got = parts.headers.get("api-key").and_then(|v| v.to_str().ok());
        if got != Some(key.as_str()) {
            let body = json!({ "error": { "code": "401", "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource." } });
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
    }
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match (&parts.method, segments.as_slice()) {
        (&Method::POST, ["deployments", deployment, tail @ ..])
            if tail == ["chat", "completions"] || tail == ["completions"] =>
        {
            // The deployment decides the model; the body's `model` is ignored, as Azure does.
            let mut req: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            if req.is_object() {
                req["model"] = json!(deployment);
            }
            let api = if tail.len() == 2 {
                Api::Chat
            } else {
                Api::Completions
            };
            chat(ctx, &serde_json::to_vec(&req).unwrap_or_default(), api).await
        }
        _ => {
            let body = json!({ "error": { "code": "404", "message": "Resource not found" } });
            (StatusCode::NOT_FOUND, Json(body)).into_response()
        }
    }
}

/// What a model name asks the server to do.
enum Kind {
    /// Normal reply of `tokens`, `delay` between content chunks.
    Reply {
        tokens: Vec<String>,
        delay: Duration,
    },
    Cut,
    Malformed,
    Hang,
    RateLimit,
    RateLimitOnce,
    ServerError,
    Context,
    Redirect,
    /// Refuses `max_tokens` like OpenAI's reasoning models do.
    WantsCompletionTokens,
    /// Reasons first: `reasoning_content` deltas (DeepSeek, vLLM) or, with `tags`, a leading
    /// `<think>…</think>` in the content cut across chunks (R1-style); then the echo.
    Thinking {
        tags: bool,
        /// The reasoning ends with the user's last message (a hostile text reaches it).
        echo: bool,
    },
    /// Calls the first of the request's tools (arguments cut over many chunks, no content);
    /// answers a `tool` message with "Echo: <result>".
    Tools,
    /// Echoes with token probabilities in every chunk when the request asks for them
    /// (chat `logprobs`/`top_logprobs`, legacy `logprobs: N`).
    Logprobs,
    /// A hostile or broken server: `test-fault-*` (issue 14).
    Fault(&'static str),
    /// Structured outputs that validate or not (fake_structured.rs).
    Structured(bool),
    /// Refuses a `json_schema` format as llama-cpp-python does; takes `json_object` + `schema`.
    JsonObjectOnly,
    /// Refuses as OpenAI's models do under structured outputs: no content, the text in `refusal`
    /// (`whole`: one JSON body even when asked to stream).
    Refuse {
        whole: bool,
    },
    Unknown,
}

/// Which endpoint a request came to.
#[derive(Clone, Copy, PartialEq)]
enum Api {
    Chat,
    /// The legacy `/v1/completions`: `prompt` in, `choices[].text` out, object `text_completion`.
    Completions,
}

fn kind(model: &str, last: &str) -> Kind {
    let echo = |delay_ms: Option<u64>| {
        let mut text = format!("Echo: {last}");
        if delay_ms.is_some() {
            text.push(' ');
            text.push_str(
                &(0..200)
                    .map(|i| format!("w{i}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        Kind::Reply {
            tokens: split_tokens(&text),
            delay: Duration::from_millis(delay_ms.unwrap_or(0)),
        }
    };
    match model {
        "test-model" | "test-no-usage" | "test-one-choice" | "test-claims-other-model" => {
            echo(None)
        }
        "test-reasoning" | "o1-mini" => Kind::WantsCompletionTokens,
        "test-think-deltas" => Kind::Thinking {
            tags: false,
            echo: false,
        },
        "test-think-tags" => Kind::Thinking {
            tags: true,
            echo: false,
        },
        "test-think-echo" => Kind::Thinking {
            tags: false,
            echo: true,
        },
        "test-tools" => Kind::Tools,
        "test-logprobs" => Kind::Logprobs,
        "test-json-valid" => Kind::Structured(true),
        "test-json-invalid" => Kind::Structured(false),
        "test-refuse" => Kind::Refuse { whole: false },
        "test-refuse-whole" => Kind::Refuse { whole: true },
        "test-json-object-only" => Kind::JsonObjectOnly,
        // Answers with one chat.completion JSON even when asked to stream.
        "test-no-stream" => echo(None),
        m if m.starts_with("gpt-") => echo(None),
        "test-slow" => echo(Some(50)),
        "test-cut" => Kind::Cut,
        "test-malformed" => Kind::Malformed,
        "test-hang" => Kind::Hang,
        "test-429" => Kind::RateLimit,
        "test-429-once" => Kind::RateLimitOnce,
        "test-500" => Kind::ServerError,
        "test-context" => Kind::Context,
        "test-redirect" => Kind::Redirect,
        "test-fault-reset-before" => Kind::Fault("reset-before"),
        "test-fault-reset-after" => Kind::Fault("reset-after"),
        "test-fault-no-done" => Kind::Fault("no-done"),
        "test-fault-split-utf8" => Kind::Fault("split-utf8"),
        "test-fault-never" => Kind::Fault("never"),
        "test-fault-error-event" => Kind::Fault("error-event"),
        "test-fault-comments" => Kind::Fault("comments"),
        "test-fault-slow-comments" => Kind::Fault("slow-comments"),
        "test-fault-endless-line" => Kind::Fault("endless-line"),
        "test-fault-endless-comments" => Kind::Fault("endless-comments"),
        "test-fault-huge-reply" => Kind::Fault("huge-reply"),
        "test-fault-huge-tool-calls" => Kind::Fault("huge-tool-calls"),
        "test-fault-whole-bad-index" => Kind::Fault("whole-bad-index"),
        "test-hostile-markdown" => Kind::Reply {
            tokens: split_tokens(HOSTILE_MARKDOWN),
            delay: Duration::from_millis(2),
        },
        "test-judge" | "test-judge-biased" | "test-judge-echo" | "test-judge-garbage" => {
            Kind::Reply {
                tokens: split_tokens(&judge_answer(model, last)),
                delay: Duration::ZERO,
            }
        }
        m if fake_judge::is_wrapping_judge(m) => Kind::Reply {
            tokens: split_tokens(&fake_judge::wrap(m, &judge_answer("test-judge", last))),
            delay: Duration::ZERO,
        },
        // Like test-judge, at the pace of a remote model (20 ms per token).
        "test-judge-slow" => Kind::Reply {
            tokens: split_tokens(&judge_answer("test-judge", last)),
            delay: Duration::from_millis(20),
        },
        m => {
            if let Some(ms) = m
                .strip_prefix("test-slow-")
                .and_then(|n| n.parse::<u64>().ok())
            {
                echo(Some(ms))
            } else if let Some((n, ms)) = m.strip_prefix("test-tokens-").and_then(|rest| {
                // test-tokens-N: as fast as possible; test-tokens-N-paced-MS: MS ms per token.
                let (n, ms) = rest.split_once("-paced-").unwrap_or((rest, "0"));
                Some((n.parse::<usize>().ok()?, ms.parse::<u64>().ok()?))
            }) {
                Kind::Reply {
                    tokens: (0..n).map(|i| format!(" tok{i}")).collect(),
                    delay: Duration::from_millis(ms),
                }
            } else if let Some((paced, n)) = m.strip_prefix("test-markdown-").and_then(|rest| {
                // test-markdown-N: as fast as possible; test-markdown-paced-N: 1 ms per token.
                match rest.strip_prefix("paced-") {
                    Some(n) => n.parse::<usize>().ok().map(|n| (true, n)),
                    None => rest.parse::<usize>().ok().map(|n| (false, n)),
                }
            }) {
                let section = split_tokens(MARKDOWN_SECTION);
                Kind::Reply {
                    tokens: section.iter().cycle().take(n).cloned().collect(),
                    delay: Duration::from_millis(u64::from(paced)),
                }
            } else {
                Kind::Unknown
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Chat completions

/// Per-request options that shape the response.
struct Opts {
    model: String,
    stream: bool,
    include_usage: bool,
    max_tokens: Option<usize>,
    prompt_tokens: usize,
    created: u64,
    api: Api,
    /// Choices to generate (`n`).
    n: usize,
}

async fn chat(ctx: &Ctx, bytes: &[u8], api: Api) -> Response {
    let req: Value = match serde_json::from_slice(bytes) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return api_error(
                StatusCode::BAD_REQUEST,
                BAD_JSON,
                "invalid_request_error",
                Value::Null,
            )
        }
    };
    let Some(model) = req["model"].as_str() else {
        let msg = "you must provide a model parameter";
        return api_error(
            StatusCode::BAD_REQUEST,
            msg,
            "invalid_request_error",
            Value::Null,
        );
    };
    let messages = match api {
        Api::Chat => req["messages"].as_array().cloned().unwrap_or_default(),
        // A completion's prompt plays the part of one user message.
        Api::Completions => vec![json!({"role": "user", "content": req["prompt"].clone()})],
    };
    let last = messages
        .last()
        .map(|m| content_text(&m["content"]))
        .unwrap_or_default();
    let o = Opts {
        model: if model == "test-claims-other-model" {
            CLAIMED_MODEL.to_string()
        } else if let Some(claimed) = fake_judge::claimed(model) {
            claimed.to_string()
        } else {
            model.to_string()
        },
        stream: req["stream"].as_bool().unwrap_or(false) && model != "test-no-stream",
        include_usage: req["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false)
            && model != "test-no-usage",
        api,
        // test-one-choice ignores `n`, as some local servers do.
        n: match model {
            "test-one-choice" => 1,
            _ => req["n"].as_u64().unwrap_or(1).clamp(1, 128) as usize,
        },
        max_tokens: req["max_completion_tokens"]
            .as_u64()
            .or(req["max_tokens"].as_u64())
            .map(|n| n as usize),
        prompt_tokens: messages
            .iter()
            .map(|m| content_text(&m["content"]).split_whitespace().count())
            .sum(),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    };
    // Image parts are checked for every model; test-vision / test-text-only answer them.
    if let Some(r) = fake_images::route(&o, &messages) {
        return r;
    }
    // The redirect target always answers like test-model.
    let kind = if ctx.other {
        kind("test-model", &last)
    } else {
        kind(model, &last)
    };
    match kind {
        Kind::Reply { tokens, delay } => {
            // Not streamed, the answer (and its headers) comes once it is all "generated".
            if !o.stream && !delay.is_zero() {
                tokio::time::sleep(delay * tokens.len() as u32).await;
            }
            reply(&o, tokens, delay)
        }
        Kind::RateLimitOnce
            if !ctx
                .shared
                .seen_once
                .lock()
                .unwrap()
                .insert(model.to_string()) =>
        {
            reply(&o, split_tokens(&format!("Echo: {last}")), Duration::ZERO)
        }
        Kind::RateLimit | Kind::RateLimitOnce => {
            let mut r = api_error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Rate limit reached for {model}"),
                "requests",
                json!("rate_limit_exceeded"),
            );
            r.headers_mut()
                .insert("retry-after-ms", "20".parse().unwrap());
            r
        }
        Kind::ServerError => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request.",
            "server_error",
            Value::Null,
        ),
        Kind::Context => {
            let msg = "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.";
            let body = json!({ "error": { "message": msg, "type": "invalid_request_error",
                "param": "messages", "code": "context_length_exceeded" } });
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
        Kind::Redirect => Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(
                header::LOCATION,
                format!(
                    "http://localhost:{}/v1/chat/completions",
                    ctx.shared.other_port
                ),
            )
            .body(Body::empty())
            .unwrap(),
        Kind::Unknown => model_not_found(model),
        Kind::Thinking { tags, echo } => {
            let thought = if echo {
                format!("{THINKING} {last}")
            } else {
                THINKING.to_string()
            };
            thinking(&o, &last, &thought, tags)
        }
        Kind::Logprobs => {
            let top = match api {
                Api::Chat if req["logprobs"].as_bool() == Some(true) => {
                    Some(req["top_logprobs"].as_u64().unwrap_or(0) as usize)
                }
                Api::Completions => req["logprobs"].as_u64().map(|n| n as usize),
                _ => None,
            };
            logprob_reply(&o, split_tokens(&format!("Echo: {last}")), top)
        }
        Kind::Structured(valid) => structured::answer(&o, &req, &last, valid),
        Kind::JsonObjectOnly => structured::json_object_only(&o, &req, &last),
        Kind::Refuse { whole } => structured::refusal(&o, whole),
        Kind::Tools => {
            let answering = messages.last().and_then(|m| m["role"].as_str()) == Some("tool");
            match req["tools"][0]["function"]["name"].as_str() {
                Some(name) if !answering => tool_call(&o, name, &last),
                _ => reply(&o, split_tokens(&format!("Echo: {last}")), Duration::ZERO),
            }
        }
        Kind::WantsCompletionTokens if !req["max_tokens"].is_null() => {
            let body = json!({ "error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter" } });
            (StatusCode::BAD_REQUEST, Json(body)).into_response()
        }
        Kind::WantsCompletionTokens => {
            reply(&o, split_tokens(&format!("Echo: {last}")), Duration::ZERO)
        }
        Kind::Cut if o.stream => {
            let mut steps = vec![Step::Data(chunk(
                &o,
                0,
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            ))];
            for t in ["Partial", " reply", " here"] {
                steps.push(Step::Data(chunk(
                    &o,
                    0,
                    json!({ "content": t }),
                    Value::Null,
                )));
            }
            steps.push(Step::Abort);
            streamed(steps, SSE)
        }
        Kind::Cut => streamed(
            vec![
                Step::Data(format!(
                    "{{\"id\":\"{COMPLETION_ID}\",\"object\":\"chat.comp"
                )),
                Step::Abort,
            ],
            JSON,
        ),
        Kind::Malformed if o.stream => streamed(
            vec![
                Step::Data(chunk(
                    &o,
                    0,
                    json!({"role": "assistant", "content": ""}),
                    Value::Null,
                )),
                Step::Data(chunk(&o, 0, json!({"content": "Good"}), Value::Null)),
                Step::Data("data: {not json\n\n".into()),
            ],
            SSE,
        ),
        Kind::Malformed => streamed(vec![Step::Data("{not json".into())], JSON),
        Kind::Fault(fault) => fault_reply(&o, fault).await,
        Kind::Hang => {
            let mut steps = Vec::new();
            if o.stream {
                steps.push(Step::Data(chunk(
                    &o,
                    0,
                    json!({"role": "assistant", "content": ""}),
                    Value::Null,
                )));
            }
            steps.push(Step::Sleep(Duration::from_secs(60)));
            streamed(steps, if o.stream { SSE } else { JSON })
        }
    }
}

/// A normal successful completion (streamed or not). With `n` > 1, choice i (from 0) says
/// "Choice i+1: " before the text, and the choices' chunks interleave as OpenAI's do.
fn reply(o: &Opts, tokens: Vec<String>, delay: Duration) -> Response {
    let choices: Vec<(Vec<String>, &str)> = (0..o.n)
        .map(|i| {
            let mut t = tokens.clone();
            if o.n > 1 {
                t.insert(0, format!("Choice {}: ", i + 1));
            }
            match o.max_tokens {
                Some(max) if max < t.len() => {
                    t.truncate(max);
                    (t, "length")
                }
                _ => (t, "stop"),
            }
        })
        .collect();
    let completion_tokens: usize = choices.iter().map(|(t, _)| t.len()).sum();
    let usage = json!({
        "prompt_tokens": o.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": o.prompt_tokens + completion_tokens,
    });
    let (object, chunk_object) = match o.api {
        Api::Chat => ("chat.completion", "chat.completion.chunk"),
        Api::Completions => ("text_completion", "text_completion"),
    };
    if !o.stream {
        let list: Vec<Value> = choices
            .iter()
            .enumerate()
            .map(|(i, (t, finish))| match o.api {
                Api::Chat => json!({
                    "index": i,
                    "message": { "role": "assistant", "content": t.concat(), "refusal": null },
                    "logprobs": null,
                    "finish_reason": finish,
                }),
                Api::Completions => json!({
                    "index": i, "text": t.concat(), "logprobs": null, "finish_reason": finish,
                }),
            })
            .collect();
        return Json(json!({
            "id": COMPLETION_ID,
            "object": object,
            "created": o.created,
            "model": o.model,
            "system_fingerprint": "fp_fake",
            "choices": list,
            "usage": usage,
        }))
        .into_response();
    }
    let mut steps = Vec::new();
    if o.api == Api::Chat {
        for i in 0..o.n {
            steps.push(Step::Data(chunk(
                o,
                i,
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            )));
        }
    }
    let longest = choices.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for k in 0..longest {
        if k > 0 && !delay.is_zero() {
            steps.push(Step::Sleep(delay));
        }
        for (i, (t, _)) in choices.iter().enumerate() {
            if let Some(tok) = t.get(k) {
                steps.push(Step::Data(chunk(
                    o,
                    i,
                    json!({ "content": tok }),
                    Value::Null,
                )));
            }
        }
    }
    for (i, (_, finish)) in choices.iter().enumerate() {
        steps.push(Step::Data(chunk(o, i, json!({}), json!(finish))));
    }
    if o.include_usage {
        let c = json!({ "id": COMPLETION_ID, "object": chunk_object, "created": o.created,
            "model": o.model, "system_fingerprint": "fp_fake", "choices": [], "usage": usage });
        steps.push(Step::Data(format!("data: {c}\n\n")));
    }
    steps.push(Step::Data("data: [DONE]\n\n".into()));
    streamed(steps, SSE)
}

/// One SSE event `data: <chunk json>\n\n` with a single choice (chat: `delta`; legacy
/// completions: `text`).
fn chunk(o: &Opts, index: usize, delta: Value, finish_reason: Value) -> String {
    let choice = match o.api {
        Api::Chat => {
            json!({ "index": index, "delta": delta, "logprobs": null, "finish_reason": finish_reason })
        }
        Api::Completions => json!({
            "index": index,
            "text": delta["content"].as_str().unwrap_or(""),
            "logprobs": null,
            "finish_reason": finish_reason,
        }),
    };
    let object = match o.api {
        Api::Chat => "chat.completion.chunk",
        Api::Completions => "text_completion",
    };
    let mut c = json!({
        "id": COMPLETION_ID,
        "object": object,
        "created": o.created,
        "model": o.model,
        "system_fingerprint": "fp_fake",
        "choices": [choice],
    });
    if o.include_usage {
        c["usage"] = Value::Null;
    }
    format!("data: {c}\n\n")
}

// ---------------------------------------------------------------------------------------------
// Reasoning (issue 12)

/// What the `test-think-*` models reason before answering.
pub const THINKING: &str = "The user wrote something; 我想 I should echo it.";

/// A reply that reasons first. `reasoning_content` deltas with `content: null` and usage with
/// `completion_tokens_details.reasoning_tokens`, as DeepSeek sends them; or, with `tags`, the
/// reasoning inside `<think>…</think>` at the start of the content, the tags cut across chunks.
fn thinking(o: &Opts, last: &str, thought: &str, tags: bool) -> Response {
    let reasoning = split_tokens(thought);
    let answer = split_tokens(&format!("Echo: {last}"));
    let reasoning_tokens = reasoning.len();
    let completion_tokens = reasoning_tokens + answer.len();
    let mut usage = json!({
        "prompt_tokens": o.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": o.prompt_tokens + completion_tokens,
    });
    if !tags {
        usage["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning_tokens });
    }
    if !o.stream {
        let mut message = json!({ "role": "assistant", "content": answer.concat() });
        if tags {
            message["content"] = json!(format!("<think>{thought}</think>\n\n{}", answer.concat()));
        } else {
            message["reasoning_content"] = json!(thought);
        }
        return Json(json!({ "id": COMPLETION_ID, "object": "chat.completion", "created": o.created,
            "model": o.model, "choices": [{ "index": 0, "message": message, "finish_reason": "stop" }],
            "usage": usage }))
        .into_response();
    }
    let mut steps = vec![Step::Data(chunk(
        o,
        0,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ))];
    let mut content = |delta: Value| steps.push(Step::Data(chunk(o, 0, delta, Value::Null)));
    if tags {
        let mut text = String::from("<think>\n");
        text.push_str(thought);
        text.push_str("\n</think>\n\n");
        // Cut every 3 characters, so both tags arrive in pieces.
        let chars: Vec<char> = text.chars().collect();
        for piece in chars.chunks(3) {
            content(json!({ "content": piece.iter().collect::<String>() }));
        }
    } else {
        for t in &reasoning {
            content(json!({ "content": null, "reasoning_content": t }));
        }
    }
    for t in &answer {
        if tags {
            content(json!({ "content": t }));
        } else {
            content(json!({ "content": t, "reasoning_content": null }));
        }
    }
    steps.push(Step::Data(chunk(o, 0, json!({}), json!("stop"))));
    if o.include_usage {
        let c = json!({ "id": COMPLETION_ID, "object": "chat.completion.chunk", "created": o.created,
            "model": o.model, "choices": [], "usage": usage });
        steps.push(Step::Data(format!("data: {c}\n\n")));
    }
    steps.push(Step::Data("data: [DONE]\n\n".into()));
    streamed(steps, SSE)
}

/// The log-probability the fake gives token `i` of a reply: -0.1, -0.2, … -0.5, repeating.
pub fn fake_logprob(i: usize) -> f64 {
    -((i % 5) as f64 + 1.0) / 10.0
}

/// An echo whose chunks carry `logprobs` (with `top` alternatives: the token itself, then
/// "alt1", "alt2"… each less likely) in the endpoint's own form.
fn logprob_reply(o: &Opts, tokens: Vec<String>, top: Option<usize>) -> Response {
    let mut steps = Vec::new();
    if o.api == Api::Chat {
        steps.push(Step::Data(chunk(
            o,
            0,
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        )));
    }
    for (i, t) in tokens.iter().enumerate() {
        let mut c: Value = {
            let raw = chunk(o, 0, json!({ "content": t }), Value::Null);
            serde_json::from_str(raw.trim_start_matches("data: ").trim()).unwrap()
        };
        if let Some(n) = top {
            let lp = fake_logprob(i);
            let alts: Vec<(String, f64)> = (0..n)
                .map(|k| match k {
                    0 => (t.clone(), lp),
                    k => (format!("alt{k}"), lp - k as f64),
                })
                .collect();
            c["choices"][0]["logprobs"] = match o.api {
                Api::Chat => json!({"content": [{"token": t, "logprob": lp, "bytes": t.as_bytes(),
                    "top_logprobs": alts.iter().map(|(a, l)| json!({"token": a, "logprob": l, "bytes": null})).collect::<Vec<_>>()}],
                    "refusal": null}),
                Api::Completions => json!({"tokens": [t], "token_logprobs": [lp],
                    "top_logprobs": [alts.iter().map(|(a, l)| (a.clone(), json!(l))).collect::<serde_json::Map<String, Value>>()],
                    "text_offset": [0]}),
            };
        }
        steps.push(Step::Data(format!("data: {c}\n\n")));
    }
    steps.push(Step::Data(chunk(o, 0, json!({}), json!("stop"))));
    steps.push(Step::Data("data: [DONE]\n\n".into()));
    streamed(steps, SSE)
}

/// A reply that is only a call of `name` with `{"query": last}`: the id and name in the first
/// chunk, the arguments in 4-byte pieces after it, finish reason `tool_calls`.
fn tool_call(o: &Opts, name: &str, last: &str) -> Response {
    let args = json!({ "query": last }).to_string();
    if !o.stream {
        let call = json!({"id": "call_fake1", "type": "function", "function": {"name": name, "arguments": args}});
        return Json(
            json!({ "id": COMPLETION_ID, "object": "chat.completion", "created": o.created,
            "model": o.model, "choices": [{ "index": 0, "finish_reason": "tool_calls",
            "message": { "role": "assistant", "content": null, "tool_calls": [call] } }] }),
        )
        .into_response();
    }
    let mut steps = vec![Step::Data(chunk(
        o,
        0,
        json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_fake1",
            "type": "function", "function": {"name": name, "arguments": ""}}]}),
        Value::Null,
    ))];
    let mut start = 0;
    while start < args.len() {
        let mut end = (start + 4).min(args.len());
        while !args.is_char_boundary(end) {
            end += 1;
        }
        let piece = &args[start..end];
        steps.push(Step::Data(chunk(
            o,
            0,
            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
            Value::Null,
        )));
        start = end;
    }
    steps.push(Step::Data(chunk(o, 0, json!({}), json!("tool_calls"))));
    if o.include_usage {
        let c = json!({ "id": COMPLETION_ID, "object": "chat.completion.chunk", "created": o.created,
            "model": o.model, "choices": [], "usage": {"prompt_tokens": o.prompt_tokens,
            "completion_tokens": 9, "total_tokens": o.prompt_tokens + 9} });
        steps.push(Step::Data(format!("data: {c}\n\n")));
    }
    steps.push(Step::Data("data: [DONE]\n\n".into()));
    streamed(steps, SSE)
}

// ---------------------------------------------------------------------------------------------
// Body streaming

enum Step {
    Data(String),
    Sleep(Duration),
    /// Raw bytes (may split a UTF-8 character).
    Raw(Vec<u8>),
    /// The same data `n` times (until the client goes away).
    Repeat(String, usize),
    /// End the body with an error: hyper aborts the connection mid-body (no terminating chunk).
    Abort,
}

const SSE: &str = "text/event-stream; charset=utf-8";
const JSON: &str = "application/json";

/// 200 response whose body is produced step by step by a background task.
fn streamed(steps: Vec<Step>, content_type: &str) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    tokio::spawn(async move {
        // Sleeps keep to a schedule from the start (a late wake-up is made up on the next token),
        // so a paced stream lasts as long whoever reads it and however loaded the machine is.
        let mut due = tokio::time::Instant::now();
        for step in steps {
            match step {
                Step::Data(s) => {
                    if tx.send(Ok(Bytes::from(s))).await.is_err() {
                        return; // client went away
                    }
                }
                Step::Sleep(d) => {
                    due += d;
                    tokio::time::sleep_until(due).await;
                }
                Step::Raw(b) => {
                    if tx.send(Ok(Bytes::from(b))).await.is_err() {
                        return;
                    }
                }
                Step::Repeat(s, n) => {
                    let b = Bytes::from(s);
                    for _ in 0..n {
                        if tx.send(Ok(b.clone())).await.is_err() {
                            return;
                        }
                    }
                }
                Step::Abort => {
                    // Let hyper flush what was sent so far, then kill the body.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let err = std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "fake-openai: cut",
                    );
                    let _ = tx.send(Err(err)).await;
                    return;
                }
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .unwrap()
}

/// The `test-fault-*` replies: every way a server can break or attack a stream (issue 14).
async fn fault_reply(o: &Opts, fault: &str) -> Response {
    let role = || {
        Step::Data(chunk(
            o,
            0,
            json!({"role": "assistant", "content": ""}),
            Value::Null,
        ))
    };
    let text = |t: &str| Step::Data(chunk(o, 0, json!({ "content": t }), Value::Null));
    let stop = || Step::Data(chunk(o, 0, json!({}), json!("stop")));
    let done = || Step::Data("data: [DONE]\n\n".into());
    let steps = match fault {
        "reset-before" => vec![Step::Abort],
        "reset-after" => vec![role(), text("First"), Step::Abort],
        "no-done" => vec![role(), text("Complete"), text(" answer"), stop()],
        "split-utf8" => {
            let mut body = Vec::new();
            for part in ["你好", " 🌍", " مرحبا"] {
                body.extend(chunk(o, 0, json!({ "content": part }), Value::Null).into_bytes());
            }
            body.extend(chunk(o, 0, json!({}), json!("stop")).into_bytes());
            body.extend(b"data: [DONE]\n\n");
            // Three bytes at a time: every multi-byte character is cut somewhere.
            body.chunks(3).map(|c| Step::Raw(c.to_vec())).collect()
        }
        "never" => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            vec![]
        }
        "error-event" => vec![
            role(),
            text("Before the error"),
            Step::Data(
                "data: {\"error\":{\"message\":\"overloaded mid-stream\",\"type\":\"server_error\"}}\n\n"
                    .into(),
            ),
        ],
        "comments" => vec![
            role(),
            // 10 MB of keep-alive comments, then the reply.
            Step::Repeat(format!(": {}\n", "x".repeat(1022)), 10 * 1024),
            text("After the comments"),
            stop(),
            done(),
        ],
        "slow-comments" => {
            // Comments every 50 ms for a second: bytes keep arriving, no event does.
            let mut steps = vec![role()];
            for _ in 0..20 {
                steps.push(Step::Data(": still thinking\n\n".into()));
                steps.push(Step::Sleep(Duration::from_millis(50)));
            }
            steps.extend([text("Thought done"), stop(), done()]);
            steps
        }
        "endless-line" => vec![
            role(),
            text("Before the line"),
            Step::Data("data: ".into()),
            Step::Repeat("a".repeat(64 * 1024), usize::MAX),
        ],
        "endless-comments" => vec![
            role(),
            text("Waiting"),
            Step::Repeat(format!(": {}\n", "x".repeat(1022)), usize::MAX),
        ],
        // 32 MiB of tool-call arguments, 64 KiB a chunk over all 128 calls, then a normal end.
        "huge-tool-calls" => {
            let mut steps = vec![role()];
            for i in 0..512 {
                let call = json!([{"index": i % 128, "id": format!("call_{}", i % 128), "type": "function",
                    "function": {"name": "f", "arguments": "z".repeat(64 * 1024)}}]);
                steps.push(Step::Data(chunk(o, 0, json!({ "tool_calls": call }), Value::Null)));
            }
            steps.extend([Step::Data(chunk(o, 0, json!({}), json!("tool_calls"))), done()]);
            steps
        }
        // A whole completion (JSON, not a stream) with choice indexes beyond `n`.
        "whole-bad-index" => {
            let choice = |i: u64, text: &str| json!({"index": i, "finish_reason": "stop",
                "message": {"role": "assistant", "content": text}});
            let body = json!({"id": COMPLETION_ID, "object": "chat.completion", "created": o.created,
                "model": o.model, "choices": [choice(4294967294, "Huge"), choice(0, "Kept"), choice(1, "One")]});
            return streamed(vec![Step::Data(body.to_string())], JSON);
        }
        // 64 KiB chunks forever: the client's reply cap must end it.
        _ => vec![role(), Step::Repeat(chunk(o, 0, json!({ "content": "z".repeat(64 * 1024) }), Value::Null), usize::MAX)],
    };
    streamed(steps, SSE)
}

// ---------------------------------------------------------------------------------------------
// Helpers

const BAD_JSON: &str = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)";

fn api_error(status: StatusCode, message: &str, kind: &str, code: Value) -> Response {
    let body =
        json!({ "error": { "message": message, "type": kind, "param": null, "code": code } });
    (status, Json(body)).into_response()
}

fn model_not_found(model: &str) -> Response {
    let msg = format!("The model `{model}` does not exist or you do not have access to it.");
    api_error(
        StatusCode::NOT_FOUND,
        &msg,
        "invalid_request_error",
        json!("model_not_found"),
    )
}

fn model_object(id: &str) -> Value {
    json!({ "id": id, "object": "model", "created": 1700000000, "owned_by": "parley-tests" })
}

/// `sk-abc…wxyz` style masking, as OpenAI does in its 401 message.
fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

// ---------------------------------------------------------------------------------------------
// Judge models (issue 4). They read the data blocks of Parley's judge prompt (a marker line
// `<<<REPLY>>>`, one line of JSON, `<<<END REPLY>>>`):
// - test-judge: single → score 1 + min(9, chars / 20) of the reply; pairwise → the longer reply wins
//   (equal length: tie). Deterministic, so swapping the order gives the same answer.
// - test-judge-biased: pairwise → always "A" (position bias); single like test-judge.
// - test-judge-echo: answers with whatever `{...}` text is inside the reply (a judge that a
//   prompt injection fooled completely); without any, a valid score of 5.
// - test-judge-garbage: prose, never JSON.
// - test-judge-slow: test-judge at 20 ms per token (for measuring concurrency).

/// The decoded text of a data block of the judge's prompt.
pub fn judge_block(prompt: &str, label: &str) -> Option<String> {
    let start = format!("<<<{label}>>>\n");
    let from = prompt.find(&start)? + start.len();
    let line = prompt[from..].lines().next()?;
    serde_json::from_str(line).ok()
}

/// What a judge model answers to this prompt.
pub fn judge_answer(model: &str, prompt: &str) -> String {
    if model == "test-judge-garbage" {
        return "This reply seems quite good to me, I would say about a seven.".into();
    }
    let pair = (
        judge_block(prompt, "REPLY A"),
        judge_block(prompt, "REPLY B"),
    );
    let single = judge_block(prompt, "REPLY");
    if model == "test-judge-echo" {
        let text = single.or(pair.1).unwrap_or_default();
        return match (text.find('{'), text.rfind('}')) {
            (Some(i), Some(j)) if i < j => text[i..=j].to_string(),
            _ => json!({"score": 5, "reasoning": "no verdict in the reply"}).to_string(),
        };
    }
    match pair {
        (Some(a), Some(b)) => {
            let (la, lb) = (a.chars().count(), b.chars().count());
            let winner = if model == "test-judge-biased" || la > lb {
                "A"
            } else if lb > la {
                "B"
            } else {
                "tie"
            };
            json!({"winner": winner, "reasoning": format!("A has {la} characters, B {lb}")})
                .to_string()
        }
        _ => {
            let len = single.unwrap_or_default().chars().count();
            let score = 1 + (len / 20).min(9);
            json!({"score": score, "reasoning": format!("{len} characters")}).to_string()
        }
    }
}

/// Message content as plain text: a string, or the concatenated `text` of content parts.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    }
}

/// Split into tokens, whitespace attached to the following word: "a b  c" → ["a", " b", "  c"].
/// Concatenating the tokens gives back the input exactly.
pub fn split_tokens(text: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_ws = true;
    for ch in text.chars() {
        let ws = ch.is_whitespace();
        if ws && !prev_ws && !cur.is_empty() {
            tokens.push(std::mem::take(&mut cur));
        }
        cur.push(ch);
        prev_ws = ws;
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens
}
