//! The HTTP client against the local OpenAI-compatible server: streaming, errors, retries, timeouts.

use std::time::Duration;

use parley_core::error::Error;
use parley_core::openai::client::parse_base_url;
use parley_core::openai::types::{ChatMessage, ChatRequest, Request};
use parley_core::openai::{Client, ClientOptions, Endpoint, Finished, StreamEvent};
use parley_core::secrets::ApiKey;
use tokio_util::sync::CancellationToken;

use crate::fake_openai::FakeOpenAi;

fn endpoint(server: &FakeOpenAi, key: Option<&str>) -> Endpoint {
    Endpoint::new(
        parse_base_url(&server.base_url()).unwrap(),
        key.map(|k| ApiKey::new(k).unwrap()),
    )
}

fn client(idle: Duration) -> Client {
    Client::new(ClientOptions {
        connect_timeout: Duration::from_secs(2),
        idle_timeout: idle,
        ..ClientOptions::default()
    })
    .unwrap()
}

fn request(model: &str, text: &str) -> Request {
    Request::Chat(ChatRequest::streaming(
        model,
        vec![ChatMessage {
            role: "user".into(),
            content: text.into(),
            ..Default::default()
        }],
    ))
}

struct Run {
    result: Result<Finished, Error>,
    text: String,
    retries: Vec<(u32, Duration)>,
}

async fn run(client: &Client, ep: &Endpoint, req: &Request, cancel: &CancellationToken) -> Run {
    let mut text = String::new();
    let mut retries = Vec::new();
    let result = client
        .stream(ep, req, cancel, &mut |ev| match ev {
            StreamEvent::Delta { text: t, .. } => text.push_str(&t),
            StreamEvent::Retrying { attempt, delay, .. } => retries.push((attempt, delay)),
            _ => {}
        })
        .await;
    Run {
        result,
        text,
        retries,
    }
}

async fn stream(server: &FakeOpenAi, key: Option<&str>, model: &str) -> Run {
    run(
        &client(Duration::from_secs(10)),
        &endpoint(server, key),
        &request(model, "hello world"),
        &CancellationToken::new(),
    )
    .await
}

#[tokio::test]
async fn streams_deltas_usage_and_finish_reason_with_the_key_in_the_header() {
    let server = FakeOpenAi::start_with_key("sk-test-123");
    let r = stream(&server, Some("sk-test-123"), "test-model").await;
    let fin = r.result.unwrap();
    assert_eq!(r.text, "Echo: hello world");
    assert_eq!(fin.finish_reason(0).as_deref(), Some("stop"));
    assert_eq!(fin.model.as_deref(), Some("test-model"));
    let usage = fin.usage.expect("usage chunk");
    assert_eq!(usage.completion_tokens, 3);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/v1/chat/completions");
    assert_eq!(
        reqs[0].header("authorization").as_deref(),
        Some("Bearer sk-test-123")
    );
    assert_eq!(reqs[0].body["stream"], true);
    assert_eq!(reqs[0].body["stream_options"]["include_usage"], true);
    assert_eq!(reqs[0].body["messages"][0]["content"], "hello world");
}

#[tokio::test]
async fn a_wrong_key_is_a_401_without_retries() {
    let server = FakeOpenAi::start_with_key("sk-right");
    let r = stream(&server, Some("sk-wrong"), "test-model").await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
    assert!(err.to_string().contains("key was refused"));
    assert!(
        !err.to_string().contains("sk-wrong"),
        "the key must not appear in errors: {err}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn an_unknown_model_names_the_model() {
    let server = FakeOpenAi::start();
    let err = stream(&server, None, "no-such-model-9")
        .await
        .result
        .unwrap_err();
    assert_eq!(err.kind(), "model_not_found");
    assert!(err.to_string().contains("no-such-model-9"));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn rate_limits_are_retried_twice_honouring_retry_after_ms() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-429").await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "rate_limited");
    assert_eq!(server.request_count(), 3, "one try and two retries");
    assert_eq!(
        r.retries,
        vec![
            (1, Duration::from_millis(20)),
            (2, Duration::from_millis(20))
        ]
    );
    assert!(serde_json::to_value(&err).unwrap()["retryAfterSecs"]
        .as_f64()
        .is_some());
}

#[tokio::test]
async fn a_single_rate_limit_is_recovered_by_a_retry() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-429-once").await;
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(r.text, "Echo: hello world");
    assert_eq!(r.retries.len(), 1);
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_reported() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-500").await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "server");
    assert!(err.to_string().contains("The server had an error"));
    assert_eq!(server.request_count(), 3);
    // Exponential backoff without retry-after: ≈0.5 s then ≈1 s (minus jitter).
    assert!(
        r.retries[0].1 <= Duration::from_millis(500)
            && r.retries[1].1 <= Duration::from_millis(1000)
    );
    assert!(r.retries[1].1 >= Duration::from_millis(750));
}

#[tokio::test]
async fn context_too_long_is_said_plainly() {
    let server = FakeOpenAi::start();
    let err = stream(&server, None, "test-context")
        .await
        .result
        .unwrap_err();
    assert_eq!(err.kind(), "context_too_long");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn a_dead_server_is_a_network_error_after_retries() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ep = Endpoint::new(
        parse_base_url(&format!("http://127.0.0.1:{port}/v1")).unwrap(),
        None,
    );
    let r = run(
        &client(Duration::from_secs(5)),
        &ep,
        &request("test-model", "x"),
        &CancellationToken::new(),
    )
    .await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "network");
    assert_eq!(r.retries.len(), 2);
    // It names the host it could not reach and how many tries it made.
    let said = err.to_string();
    assert!(
        said.contains(&format!("127.0.0.1:{port}")) && said.contains("(3 tries)"),
        "{said}"
    );
}

#[tokio::test]
async fn a_cut_stream_is_an_error_and_the_partial_text_was_delivered() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-cut").await;
    assert_eq!(r.result.unwrap_err().kind(), "stream");
    assert_eq!(r.text, "Partial reply here");
    assert_eq!(
        server.request_count(),
        1,
        "a stream is never retried after its first token"
    );
}

#[tokio::test]
async fn a_malformed_chunk_is_an_error_event() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-malformed").await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "stream");
    assert!(err.to_string().contains("malformed"));
    assert_eq!(r.text, "Good");
}

#[tokio::test]
async fn a_silent_server_hits_the_idle_timeout() {
    let server = FakeOpenAi::start();
    let r = run(
        &client(Duration::from_millis(400)),
        &endpoint(&server, None),
        &request("test-hang", "x"),
        &CancellationToken::new(),
    )
    .await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "timeout");
    // The server answered with headers, then went silent: it says from where, and for how long.
    assert!(
        err.to_string()
            .contains("nothing arrived from 127.0.0.1 for 0.4 s"),
        "{err}"
    );
}

#[tokio::test]
async fn an_answer_not_streamed_may_take_longer_than_the_idle_timeout_and_is_asked_once() {
    // A suite's cell: the headers come only with the whole answer, after the generation.
    let server = FakeOpenAi::start();
    // 204 words at 3 ms each: the answer comes after ~0.6 s, twice the idle timeout.
    let mut req = request("test-slow-3", "one two three");
    if let Request::Chat(r) = &mut req {
        r.stream = false;
        r.stream_options = None;
    }
    let r = run(
        &client(Duration::from_millis(300)),
        &endpoint(&server, None),
        &req,
        &CancellationToken::new(),
    )
    .await;
    r.result.unwrap();
    assert!(r.text.starts_with("Echo: one two three w0"), "{}", r.text);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn cancel_stops_the_stream_at_once() {
    let server = FakeOpenAi::start();
    let client = client(Duration::from_secs(10));
    let ep = endpoint(&server, None);
    let req = request("test-slow", "x");
    let cancel = CancellationToken::new();
    let mut text = String::new();
    let canceller = cancel.clone();
    let result = client
        .stream(&ep, &req, &cancel, &mut |ev| {
            if let StreamEvent::Delta { text: t, .. } = ev {
                text.push_str(&t);
                if text.len() > 20 {
                    canceller.cancel();
                }
            }
        })
        .await;
    assert_eq!(result.unwrap_err(), Error::Cancelled);
    assert!(text.starts_with("Echo: x w0"), "{text}");
    assert!(
        !text.contains("w199"),
        "the stream went on after cancel: {text}"
    );
}

#[tokio::test]
async fn the_key_is_not_sent_to_another_origin_on_redirect() {
    let server = FakeOpenAi::start_with_key("sk-secret-redirect");
    let r = stream(&server, Some("sk-secret-redirect"), "test-redirect").await;
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), "network", "{err}");
    let reqs = server.requests();
    assert!(
        reqs.iter().all(|r| !r.path.starts_with("/other")),
        "followed a cross-origin redirect: {reqs:?}"
    );
    assert!(!err.to_string().contains("sk-secret-redirect"));
}

#[tokio::test]
async fn lists_models() {
    let server = FakeOpenAi::start_with_key("k");
    let models = client(Duration::from_secs(5))
        .list_models(&endpoint(&server, Some("k")))
        .await
        .unwrap();
    // In the server's order: its first model first.
    assert_eq!(&models[..2], ["test-model", "test-slow"]);
    let err = client(Duration::from_secs(5))
        .list_models(&endpoint(&server, Some("bad")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
}

#[tokio::test]
async fn a_server_that_ignores_stream_still_gives_its_answer() {
    let server = FakeOpenAi::start();
    let r = stream(&server, None, "test-no-stream").await;
    let fin = r.result.unwrap();
    assert_eq!(r.text, "Echo: hello world");
    assert_eq!(fin.finish_reason(0).as_deref(), Some("stop"));
    assert!(fin.usage.is_some());
}

#[tokio::test]
async fn a_401_without_a_key_says_a_key_is_needed() {
    let server = FakeOpenAi::start_with_key("sk-needed");
    let err = stream(&server, None, "test-model")
        .await
        .result
        .unwrap_err();
    assert_eq!(err.kind(), "unauthorized");
    assert!(err.to_string().contains("no API key was sent"), "{err}");
}
