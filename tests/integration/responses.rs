//! The Responses API as a third endpoint (issue 12): streamed text, the reasoning summary into the
//! Thinking block, usage and cost from `response.completed`, a failure mid-stream keeping the
//! partial, the history (and tool results) sent as input items, the parameters it refuses left
//! out (and refused by `parley ask`), and every body checked against the reference's
//! `CreateResponse`.

use parley_core::api::{EndpointKind, FunctionTool, ModelInfo};
use parley_core::chat::{ChatEvent, SendRequest, ToolResult};
use parley_core::db::messages::Status;
use serde_json::json;

use crate::cli::{ask, assert_succeeded};
use crate::common::{new_conversation, service, tempdir, Events};
use crate::conformance::check;
use crate::fake_openai::FakeOpenAi;

fn send(conversation_id: i64, content: &str) -> SendRequest {
    SendRequest {
        conversation_id,
        content: content.into(),
        ..Default::default()
    }
}

/// A conversation on the Responses endpoint, with `edit` applied to its settings.
fn responses_conversation(
    svc: &parley_core::chat::ChatService,
    model: &str,
    edit: impl FnOnce(&mut parley_core::api::ConversationSettings),
) -> i64 {
    let conv = new_conversation(svc, model);
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = EndpointKind::Responses;
    edit(&mut s);
    svc.update_conversation(conv, s).unwrap();
    conv
}

#[tokio::test]
async fn a_reply_streams_from_the_responses_endpoint_with_its_usage_and_cost() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    svc.save_model_info(ModelInfo {
        model: "test-model".into(),
        input_per_m: Some(1.0),
        output_per_m: Some(2.0),
        context_window: None,
    })
    .unwrap();
    let conv = responses_conversation(&svc, "test-model", |s| {
        s.system_prompt = "Be brief.".into();
        s.params.max_tokens = Some(64);
        s.params.temperature = Some(0.4);
    });
    let events = Events::default();
    let reply = svc
        .send(send(conv, "hello 你好"), events.sink())
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.content, "Echo: hello 你好");
    // Streamed: one delta per token, not one block.
    assert!(events.kinds().iter().filter(|k| **k == "delta").count() > 2);
    assert_eq!(events.text(), "Echo: hello 你好");
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
    // The server's usage, not a count made here.
    assert!(!reply.tokens_counted);
    assert_eq!(reply.prompt_tokens, Some(4)); // "Be brief." + "hello 你好"
    assert_eq!(reply.completion_tokens, Some(3));
    let cost = reply.cost_usd.unwrap();
    assert!((cost - (4.0 + 3.0 * 2.0) / 1e6).abs() < 1e-12, "{cost}");
    let r = server.requests().pop().unwrap();
    assert_eq!(r.path, "/v1/responses");
    check(&r.body, "CreateResponse");
    assert_eq!(r.body["instructions"], "Be brief.");
    assert_eq!(r.body["store"], false);
    assert_eq!(r.body["max_output_tokens"], 64);
    assert_eq!(r.body["temperature"], 0.4);
    // The reply says which endpoint made it.
    let thread = svc.thread(conv).unwrap();
    assert_eq!(
        thread.last().unwrap().message.endpoint.as_deref(),
        Some("responses")
    );
}

#[tokio::test]
async fn the_reasoning_summary_goes_to_the_thinking_block_and_its_tokens_are_billed() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    svc.save_model_info(ModelInfo {
        model: "test-think-deltas".into(),
        input_per_m: Some(1.0),
        output_per_m: Some(2.0),
        context_window: None,
    })
    .unwrap();
    let conv = responses_conversation(&svc, "test-think-deltas", |_| {});
    let events = Events::default();
    let reply = svc.send(send(conv, "why?"), events.sink()).await.unwrap();
    assert_eq!(reply.content, "Echo: why?");
    assert_eq!(
        reply.reasoning,
        "First, read the question.\n\nThen answer it briefly."
    );
    let kinds = events.kinds();
    let first_reasoning = kinds.iter().position(|k| *k == "reasoning").unwrap();
    let first_delta = kinds.iter().position(|k| *k == "delta").unwrap();
    assert!(first_reasoning < first_delta, "{kinds:?}");
    assert_eq!(reply.reasoning_tokens, Some(8));
    let cost = reply.reasoning_cost_usd.unwrap();
    assert!((cost - 8.0 * 2.0 / 1e6).abs() < 1e-12, "{cost}");
    assert!(reply.thinking_ms.is_some());
    // Never sent back: the next request's input has the answer, not the reasoning.
    svc.send(send(conv, "and?"), |_| {}).await.unwrap();
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateResponse");
    assert!(!body.to_string().contains("read the question"), "{body}");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_a_clear_error_and_the_partial_reply_is_kept() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for (model, says) in [
        (
            "test-fault-error-event",
            "The model failed to generate a response. (server_error)",
        ),
        (
            "test-responses-error",
            "Something went wrong (ERR_SOMETHING)",
        ),
    ] {
        let conv = responses_conversation(&svc, model, |_| {});
        let events = Events::default();
        let reply = svc.send(send(conv, "hi"), events.sink()).await.unwrap();
        assert_eq!(reply.status, Status::Error);
        assert_eq!(reply.error_kind.as_deref(), Some("stream"));
        let err = reply.error_message.unwrap_or_default();
        assert!(err.contains(says), "{err}");
        let failed = events
            .all()
            .into_iter()
            .find_map(|e| match e {
                ChatEvent::Failed { error, message } => Some((error, message?)),
                _ => None,
            })
            .expect("the failed reply");
        assert_eq!(failed.0.kind(), "stream");
        assert_eq!(failed.1.content, "Partial reply");
        let thread = svc.thread(conv).unwrap();
        assert_eq!(thread.last().unwrap().message.content, "Partial reply");
    }
}

#[tokio::test]
async fn the_history_and_tool_results_are_sent_as_input_items() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = responses_conversation(&svc, "test-tools", |s| s.system_prompt = "Tools.".into());
    let tool = FunctionTool {
        name: "get_weather".into(),
        description: "The weather in a city.".into(),
        parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
    };
    svc.set_conversation_tools(conv, &[tool]).unwrap();
    let reply = svc.send(send(conv, "Oslo?"), |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].id, "call_fake1");
    assert_eq!(reply.tool_calls[0].function.name, "get_weather");
    let args: serde_json::Value =
        serde_json::from_str(&reply.tool_calls[0].function.arguments).unwrap();
    assert_eq!(args, json!({"query": "Oslo?"}));
    let first = server.requests().pop().unwrap().body;
    check(&first, "CreateResponse");
    // The flat tool form of the Responses API.
    assert_eq!(first["tools"][0]["name"], "get_weather");

    let results = SendRequest {
        conversation_id: conv,
        tool_results: vec![ToolResult {
            tool_call_id: "call_fake1".into(),
            content: "sunny".into(),
        }],
        ..Default::default()
    };
    let answer = svc.send(results, |_| {}).await.unwrap();
    assert_eq!(answer.content, "Echo: sunny");
    svc.send(send(conv, "thanks"), |_| {}).await.unwrap();
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateResponse");
    assert_eq!(body["instructions"], "Tools.");
    assert!(body.get("previous_response_id").is_none());
    let input = body["input"].as_array().unwrap();
    let shape: Vec<String> = input
        .iter()
        .map(|i| match i["type"].as_str().unwrap() {
            "message" => format!(
                "{}: {}",
                i["role"].as_str().unwrap(),
                i["content"].as_str().unwrap()
            ),
            "function_call" => format!(
                "call {} {}",
                i["call_id"].as_str().unwrap(),
                i["name"].as_str().unwrap()
            ),
            "function_call_output" => format!(
                "output {} {}",
                i["call_id"].as_str().unwrap(),
                i["output"].as_str().unwrap()
            ),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(
        shape,
        [
            "user: Oslo?",
            "call call_fake1 get_weather",
            "output call_fake1 sunny",
            "assistant: Echo: sunny",
            "user: thanks",
        ]
    );
}

#[tokio::test]
async fn parameters_the_responses_api_refuses_are_left_out_not_sent() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    // Set on the conversation (say before switching endpoint): kept, but not sent.
    let conv = responses_conversation(&svc, "test-model", |s| {
        s.params.frequency_penalty = Some(0.5);
        s.params.presence_penalty = Some(0.5);
        s.params.stop = Some(vec!["END".into()]);
        s.params.seed = Some(7);
        s.params.n = Some(3);
        s.params.top_p = Some(0.9);
    });
    let replies = svc.send_all(send(conv, "hi"), |_| {}).await.unwrap();
    // One answer: the Responses API has no `n`.
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].content, "Echo: hi");
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateResponse");
    for key in ["frequency_penalty", "presence_penalty", "stop", "seed", "n"] {
        assert!(body.get(key).is_none(), "{key} was sent: {body}");
    }
    assert_eq!(body["top_p"], 0.9);
    let kept = svc.conversation(conv).unwrap().settings.params;
    assert_eq!((kept.seed, kept.n), (Some(7), Some(3)));
    // An output limit below the API's minimum is explained, not sent.
    let small = responses_conversation(&svc, "test-model", |s| s.params.max_tokens = Some(8));
    let before = server.request_count();
    let reply = svc.send(send(small, "hi"), |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Error);
    assert_eq!(reply.error_kind.as_deref(), Some("invalid"));
    let err = reply.error_message.unwrap_or_default();
    assert!(err.contains("at least 16"), "{err}");
    assert_eq!(server.request_count(), before);
}

#[test]
fn parley_ask_endpoint_responses_streams_and_refuses_a_parameter_it_does_not_take() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let out = ask(
        dir.path(),
        &server,
        &[
            "--endpoint",
            "responses",
            "--model",
            "test-model",
            "-t",
            "0.2",
            "hi there",
        ],
    );
    assert_succeeded(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Echo: hi there"
    );
    let r = server.requests().pop().unwrap();
    assert_eq!(r.path, "/v1/responses");
    check(&r.body, "CreateResponse");

    let count = server.request_count();
    let out = ask(
        dir.path(),
        &server,
        &[
            "--endpoint",
            "responses",
            "--model",
            "test-model",
            "--seed",
            "3",
            "--stop",
            "x",
            "hi",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Responses API does not take --stop, --seed"),
        "{err}"
    );
    assert_eq!(server.request_count(), count, "nothing was sent");
    // Continuing that (Responses) conversation with a refused flag is refused the same way.
    let out = ask(
        dir.path(),
        &server,
        &["-c", "--frequency-penalty", "1", "more"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frequency-penalty"));
    assert_eq!(server.request_count(), count);
}
