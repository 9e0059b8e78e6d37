//! Reasoning (issue 12): `reasoning_content` deltas and a leading `<think>` block streamed apart
//! from the answer, stored apart, never sent back, counted (tokens, cost, time thinking), and
//! `parley ask --reasoning` printing it to stderr only.

use parley_core::api::ModelInfo;
use parley_core::chat::{ChatEvent, SendRequest};
use parley_core::db::messages::Status;

use crate::cli::{assert_succeeded, parley};
use crate::common::{new_conversation, service, tempdir, Events};
use crate::fake_openai::{FakeOpenAi, THINKING};

fn send(conversation_id: i64, content: &str) -> SendRequest {
    SendRequest {
        conversation_id,
        content: content.into(),
        ..Default::default()
    }
}

fn reasoning_of(events: &Events) -> String {
    events
        .all()
        .into_iter()
        .filter_map(|e| match e {
            ChatEvent::Reasoning { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn reasoning_deltas_are_streamed_and_stored_apart_from_the_answer() {
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
    let conv = new_conversation(&svc, "test-think-deltas");
    let events = Events::default();
    let reply = svc.send(send(conv, "hi"), events.sink()).await.unwrap();
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.content, "Echo: hi");
    assert_eq!(reply.reasoning, THINKING);
    assert_eq!(reasoning_of(&events), THINKING);
    assert_eq!(events.text(), "Echo: hi");
    // Reasoning comes before the answer in the event order.
    let kinds = events.kinds();
    let first_reasoning = kinds.iter().position(|k| *k == "reasoning").unwrap();
    let first_delta = kinds.iter().position(|k| *k == "delta").unwrap();
    assert!(first_reasoning < first_delta, "{kinds:?}");
    // The server's reasoning tokens, billed as output tokens.
    let rt = reply.reasoning_tokens.expect("reasoning tokens");
    assert_eq!(
        rt as usize,
        crate::fake_openai::split_tokens(THINKING).len()
    );
    assert!(!reply.tokens_counted);
    let cost = reply.reasoning_cost_usd.unwrap();
    assert!((cost - rt as f64 * 2.0 / 1e6).abs() < 1e-12, "{cost}");
    assert!(reply.thinking_ms.is_some());
    // Stored: the thread shows it after a reload.
    let thread = svc.thread(conv).unwrap();
    assert_eq!(thread.last().unwrap().message.reasoning, THINKING);
}

#[tokio::test]
async fn a_leading_think_block_cut_across_chunks_becomes_reasoning() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-think-tags");
    let events = Events::default();
    let reply = svc.send(send(conv, "hello"), events.sink()).await.unwrap();
    assert_eq!(reply.content, "Echo: hello");
    assert_eq!(reply.reasoning.trim(), THINKING);
    assert!(!events.text().contains("think>"), "{}", events.text());
    // No usage details: the reasoning tokens are counted here, part of the completion tokens.
    assert!(reply.reasoning_tokens.unwrap() > 0);
}

#[tokio::test]
async fn reasoning_is_never_sent_back_in_the_history() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for model in ["test-think-deltas", "test-think-tags"] {
        let conv = new_conversation(&svc, model);
        svc.send(send(conv, "one"), |_| {}).await.unwrap();
        svc.send(send(conv, "two"), |_| {}).await.unwrap();
        let body = server.requests().pop().unwrap().body;
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3, "{body}");
        assert_eq!(messages[1]["content"], "Echo: one");
        assert!(messages[1].get("reasoning_content").is_none());
        assert!(!body.to_string().contains("我想"), "{body}");
    }
}

#[test]
fn ask_prints_only_the_answer_on_stdout_and_the_reasoning_on_stderr_when_asked() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let run = |extra: &[&str]| {
        parley(dir.path())
            .env("OPENAI_BASE_URL", server.base_url())
            .args(["ask", "--model", "test-think-deltas", "--stats"])
            .args(extra)
            .arg("why")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_succeeded(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Echo: why");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains(THINKING), "{err}");
    assert!(err.contains("reasoning tokens"), "{err}");
    let out = run(&["--reasoning"]);
    assert_succeeded(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Echo: why");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(THINKING), "{err}");
}
