//! Tool calls (issue 12): function tools per conversation, a reply that only calls tools stored and
//! returned (never empty, never executed), the user's results sent back as `tool` messages, and
//! every request body checked against the OpenAI reference.

use parley_core::api::FunctionTool;
use parley_core::chat::{SendRequest, ToolResult};
use parley_core::db::messages::{Role, Status};
use serde_json::json;

use crate::common::{new_conversation, service, tempdir};
use crate::conformance::check;
use crate::fake_openai::FakeOpenAi;

fn weather() -> FunctionTool {
    FunctionTool {
        name: "get_weather".into(),
        description: "The weather in a city.".into(),
        parameters: json!({"type": "object", "properties": {"query": {"type": "string"}},
            "required": ["query"]}),
    }
}

#[tokio::test]
async fn a_reply_that_only_calls_a_tool_is_stored_and_its_result_continues_the_conversation() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-tools");
    svc.set_conversation_tools(conv, &[weather()]).unwrap();
    let send = SendRequest {
        conversation_id: conv,
        content: "Paris, 巴黎?".into(),
        ..Default::default()
    };
    let reply = svc.send(send, |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(reply.content, "");
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!(call.id, "call_fake1");
    assert_eq!(call.function.name, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&call.function.arguments).unwrap();
    assert_eq!(args, json!({"query": "Paris, 巴黎?"}));
    // Stored: the thread shows the call after a reload.
    let thread = svc.thread(conv).unwrap();
    assert_eq!(thread.last().unwrap().message.tool_calls, reply.tool_calls);
    let first = server.requests().pop().unwrap().body;
    check(&first, "CreateChatCompletionRequest");
    assert_eq!(first["tools"][0]["function"]["name"], "get_weather");

    // The user types the result; it goes back as a tool message and the model answers it.
    let results = SendRequest {
        conversation_id: conv,
        tool_results: vec![ToolResult {
            tool_call_id: "call_fake1".into(),
            content: "sunny, 22 °C".into(),
        }],
        ..Default::default()
    };
    let answer = svc.send(results, |_| {}).await.unwrap();
    assert_eq!(answer.content, "Echo: sunny, 22 °C");
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateChatCompletionRequest");
    let sent = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = sent.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "tool"]);
    assert_eq!(sent[1]["tool_calls"][0]["id"], "call_fake1");
    assert_eq!(sent[2]["tool_call_id"], "call_fake1");
    let thread = svc.thread(conv).unwrap();
    let roles: Vec<Role> = thread.iter().map(|t| t.message.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
}

#[tokio::test]
async fn a_result_for_a_call_that_was_not_made_is_refused_and_nothing_is_saved() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-tools");
    svc.set_conversation_tools(conv, &[weather()]).unwrap();
    let send = SendRequest {
        conversation_id: conv,
        content: "hi".into(),
        ..Default::default()
    };
    svc.send(send, |_| {}).await.unwrap();
    let before = svc.thread(conv).unwrap().len();
    let results = SendRequest {
        conversation_id: conv,
        tool_results: vec![ToolResult {
            tool_call_id: "call_nope".into(),
            content: "x".into(),
        }],
        ..Default::default()
    };
    let err = svc.send(results, |_| {}).await.unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(svc.thread(conv).unwrap().len(), before);
    // A tool whose parameters are not a JSON Schema is explained, not saved.
    let mut bad = weather();
    bad.parameters = json!({"type": "object", "properties": {"q": {"type": 5}}});
    let err = svc.set_conversation_tools(conv, &[bad]).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(svc.conversation_tools(conv).unwrap(), [weather()]);
}

/// Calls the user never answered (a plain message typed after them instead) are left out of the
/// next request: the API refuses calls without their results, and every later send of the
/// branch failed.
#[tokio::test]
async fn calls_never_answered_are_not_sent_back() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-tools");
    svc.set_conversation_tools(conv, &[weather()]).unwrap();
    let send = |content: &str| SendRequest {
        conversation_id: conv,
        content: content.into(),
        ..Default::default()
    };
    let reply = svc.send(send("Paris?"), |_| {}).await.unwrap();
    assert_eq!(reply.tool_calls.len(), 1);
    // The user writes on instead of giving the result (the fake calls again: that is fine).
    svc.send(send("never mind, tell me a joke"), |_| {})
        .await
        .unwrap();
    let body = server.requests().last().unwrap().body.clone();
    check(&body, "CreateChatCompletionRequest");
    let messages = body["messages"].as_array().unwrap();
    for (i, m) in messages.iter().enumerate() {
        for call in m["tool_calls"].as_array().into_iter().flatten() {
            let answered = messages[i + 1..]
                .iter()
                .take_while(|n| n["role"] == "tool")
                .any(|n| n["tool_call_id"] == call["id"]);
            assert!(answered, "a call without its result was sent: {body}");
        }
    }
    assert_eq!(
        messages.last().unwrap()["content"],
        "never mind, tell me a joke"
    );
}
