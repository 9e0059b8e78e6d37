//! The chat service on a real SQLite file: persist → stream → persist, cancel, errors, retry, reopen.

use std::sync::Arc;
use std::time::Duration;

use parley_core::api::ConversationSettings;
use parley_core::chat::{ChatEvent, RetryRequest, SendRequest};
use parley_core::db::messages::{self, Role, Status};
use parley_core::params::Params;

use crate::common::{new_conversation, peek, service, tempdir, Events};
use crate::fake_openai::FakeOpenAi;

fn send_req(conversation_id: i64, content: &str) -> SendRequest {
    SendRequest {
        conversation_id,
        content: content.into(),
        stream_id: Some(format!("s-{content}")),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_reply_streams_in_order_and_is_saved_with_its_measures() {
    let server = FakeOpenAi::start_with_key("sk-1");
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some("sk-1"));
    let conv = new_conversation(&svc, "test-model");
    let events = Events::default();
    let reply = svc
        .send(send_req(conv, "hello there"), events.sink())
        .await
        .unwrap();

    assert_eq!(events.kinds().first(), Some(&"started"));
    assert_eq!(
        &events.kinds()[events.kinds().len() - 2..],
        ["usage", "finished"]
    );
    assert_eq!(events.text(), "Echo: hello there");
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.content, "Echo: hello there");
    assert_eq!(reply.model.as_deref(), Some("test-model"));
    assert_eq!(reply.completion_tokens, Some(3));
    assert!(reply.prompt_tokens.unwrap() > 0);
    assert!(reply.ttft_ms.is_some() && reply.total_ms.unwrap() >= reply.ttft_ms.unwrap());
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
    drop(svc);

    // Closing and reopening shows the conversation exactly as it was.
    let svc = service(dir.path(), &server, Some("sk-1"));
    let path = messages::active_path(&peek(dir.path()), conv).unwrap();
    assert_eq!(path.len(), 2);
    assert_eq!(
        (path[0].role, path[0].content.as_str()),
        (Role::User, "hello there")
    );
    assert_eq!(path[1], reply);
    let title = svc.conversation(conv).unwrap().title;
    assert_eq!(title, "hello there");
}

#[tokio::test]
async fn history_system_prompt_and_parameters_reach_the_server() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    let settings = ConversationSettings {
        system_prompt: "You are terse.".into(),
        model: Some("test-model".into()),
        params: Params {
            temperature: Some(0.2),
            max_tokens: Some(2),
            top_p: Some(0.5),
            frequency_penalty: Some(0.25),
            presence_penalty: Some(-0.5),
            stop: Some(vec!["STOP".into(), "\n\n".into()]),
            seed: Some(7),
            ..Default::default()
        },
        ..Default::default()
    };
    svc.update_conversation(conv, settings).unwrap();
    let first = svc
        .send(send_req(conv, "one two three"), |_| {})
        .await
        .unwrap();
    assert_eq!(first.finish_reason.as_deref(), Some("length"));
    assert_eq!(first.content, "Echo: one");
    svc.send(send_req(conv, "four"), |_| {}).await.unwrap();
    let body = &server.requests()[1].body;
    let roles: Vec<(&str, &str)> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("system", "You are terse."),
            ("user", "one two three"),
            ("assistant", "Echo: one"),
            ("user", "four")
        ]
    );
    assert_eq!(body["temperature"], 0.2);
    assert_eq!(body["max_tokens"], 2);
    assert_eq!(body["top_p"], 0.5);
    assert_eq!(body["frequency_penalty"], 0.25);
    assert_eq!(body["presence_penalty"], -0.5);
    assert_eq!(body["stop"], serde_json::json!(["STOP", "\n\n"]));
    assert_eq!(body["seed"], 7);
    // A conversation without them sends none of them (the server's defaults apply).
    let plain = new_conversation(&svc, "test-model");
    svc.send(send_req(plain, "plain"), |_| {}).await.unwrap();
    let body = server.requests().last().unwrap().body.clone();
    for absent in [
        "temperature",
        "max_tokens",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "stop",
        "seed",
    ] {
        assert!(
            body.get(absent).is_none(),
            "{absent} sent without being set"
        );
    }
}

#[tokio::test]
async fn stop_keeps_the_partial_reply_marked_cancelled() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, None));
    let conv = new_conversation(&svc, "test-slow");
    let events = Events::default();
    let sink = events.sink();
    let canceller = svc.clone();
    let reply = svc
        .send(send_req(conv, "long please"), move |e| {
            let is_delta = matches!(e, ChatEvent::Delta { .. });
            sink(e);
            if is_delta {
                canceller.cancel("s-long please");
            }
        })
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Cancelled);
    assert!(
        !reply.content.is_empty() && reply.content.len() < 100,
        "{}",
        reply.content
    );
    assert!(matches!(
        events.all().last(),
        Some(ChatEvent::Finished { .. })
    ));
    assert!(
        !svc.cancel("s-long please"),
        "the stream is gone once it ended"
    );
    let saved = messages::get(&peek(dir.path()), reply.id).unwrap();
    assert_eq!(
        (saved.status, saved.content),
        (Status::Cancelled, reply.content)
    );
}

#[tokio::test]
async fn a_failed_reply_keeps_the_user_message_and_retry_answers_it() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "no-such-model");
    let events = Events::default();
    let failed = svc
        .send(send_req(conv, "are you there"), events.sink())
        .await
        .unwrap();
    assert_eq!(failed.status, Status::Error);
    assert_eq!(failed.error_kind.as_deref(), Some("model_not_found"));
    assert!(failed
        .error_message
        .as_deref()
        .unwrap()
        .contains("no-such-model"));
    match events.all().last() {
        Some(ChatEvent::Failed {
            error,
            message: Some(m),
        }) => {
            assert_eq!(error.kind(), "model_not_found");
            assert_eq!(m.id, failed.id);
        }
        other => panic!("expected a failed event, got {other:?}"),
    }
    let user_id = failed.parent_id.unwrap();

    let fixed = ConversationSettings {
        model: Some("test-model".into()),
        ..Default::default()
    };
    svc.update_conversation(conv, fixed).unwrap();
    let retried = svc
        .retry(
            RetryRequest {
                conversation_id: conv,
                user_message_id: user_id,
                stream_id: None,
                targets: Vec::new(),
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(retried.status, Status::Done);
    assert_eq!(retried.parent_id, Some(user_id));
    let path = messages::active_path(&peek(dir.path()), conv).unwrap();
    assert_eq!(
        path.iter().map(|m| m.id).collect::<Vec<_>>(),
        [user_id, retried.id]
    );
    // The failed reply is still there, as a sibling: nothing is overwritten.
    assert_eq!(
        messages::get(&peek(dir.path()), failed.id).unwrap().status,
        Status::Error
    );
    // The failed attempt is not sent as history.
    let last = server.requests().last().unwrap().body.clone();
    assert_eq!(last["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_broken_stream_saves_what_arrived_as_an_error() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-cut");
    let reply = svc.send(send_req(conv, "x"), |_| {}).await.unwrap();
    assert_eq!(
        (reply.status, reply.content.as_str()),
        (Status::Error, "Partial reply here")
    );
    assert_eq!(reply.error_kind.as_deref(), Some("stream"));
}

#[tokio::test]
async fn openai_without_any_key_says_so_and_keeps_the_message() {
    let dir = tempdir();
    let env = parley_core::chat::EnvFallback::default();
    let (svc, _) = parley_core::open_service(
        dir.path(),
        Arc::new(parley_core::secrets::MemoryStore::default()),
        env,
    )
    .unwrap();
    let conv = svc.create_conversation(None).unwrap().id;
    let reply = svc.send(send_req(conv, "hi"), |_| {}).await.unwrap();
    assert_eq!(reply.error_kind.as_deref(), Some("no_key"));
    let path = messages::active_path(&peek(dir.path()), conv).unwrap();
    assert_eq!(path[0].content, "hi");
}

#[tokio::test]
async fn empty_and_huge_messages_are_refused_before_saving() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    assert_eq!(
        svc.send(send_req(conv, "   "), |_| {})
            .await
            .unwrap_err()
            .kind(),
        "invalid"
    );
    let huge = "y".repeat(parley_core::chat::MAX_MESSAGE_BYTES + 10);
    assert_eq!(
        svc.send(send_req(conv, &huge), |_| {})
            .await
            .unwrap_err()
            .kind(),
        "invalid"
    );
    assert!(messages::active_path(&peek(dir.path()), conv)
        .unwrap()
        .is_empty());
    assert_eq!(server.request_count(), 0);
    // A big but acceptable paste (2 MB, emoji and RTL) goes through intact.
    let short = ConversationSettings {
        model: Some("test-model".into()),
        params: Params {
            max_tokens: Some(5),
            ..Default::default()
        },
        ..Default::default()
    };
    svc.update_conversation(conv, short).unwrap();
    let big = "مرحبا 🌍 ".repeat(150_000);
    let reply = svc.send(send_req(conv, &big), |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Done);
    let saved = messages::active_path(&peek(dir.path()), conv).unwrap();
    assert_eq!(saved[0].content, big);
}

#[tokio::test]
async fn a_compatible_server_without_a_chosen_model_asks_for_one() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = svc.create_conversation(None).unwrap().id;
    let reply = svc
        .send(send_req(conv, "which model?"), |_| {})
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Error);
    assert!(reply.error_message.unwrap().contains("No model is chosen"));
    // A kind of its own: the window answers it with the server's model list.
    assert_eq!(reply.error_kind.as_deref(), Some("no_model"));
    assert_eq!(server.request_count(), 0, "no guess was sent to the server");
}

#[tokio::test]
async fn a_stream_id_in_use_is_refused_and_stop_works_before_the_first_token() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, None));
    let conv = new_conversation(&svc, "test-slow");
    let canceller = svc.clone();
    let first = svc.send(send_req(conv, "dup"), move |e| {
        if let ChatEvent::Started { .. } = e {
            // A second reply with the same id is refused while the first runs…
            let dup = futures_util::FutureExt::now_or_never(
                canceller.send(send_req(conv, "dup"), |_| {}),
            );
            assert_eq!(dup.expect("refused at once").unwrap_err().kind(), "invalid");
            // …and Stop works even before the first token.
            assert!(canceller.cancel("s-dup"));
        }
    });
    let reply = first.await.unwrap();
    assert_eq!(reply.status, Status::Cancelled);
    assert_eq!(reply.content, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_app_mid_reply_saves_it_as_stopped() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, None));
    let conv = new_conversation(&svc, "test-slow");
    let (first_delta, seen) = tokio::sync::oneshot::channel::<()>();
    let first_delta = std::sync::Mutex::new(Some(first_delta));
    let running = svc.clone();
    let reply = tokio::spawn(async move {
        running
            .send(send_req(conv, "closing"), move |e| {
                if matches!(e, ChatEvent::Delta { .. }) {
                    if let Some(tx) = first_delta.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                }
            })
            .await
    });
    seen.await.unwrap();
    let closer = svc.clone();
    let stopped = tokio::task::spawn_blocking(move || closer.stop_all(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(stopped, 1);
    // Saved by the time stop_all returned (the app exits right after).
    let path = messages::active_path(&peek(dir.path()), conv).unwrap();
    let saved = path.last().unwrap();
    assert_eq!(saved.status, Status::Cancelled);
    assert!(saved.content.starts_with("Echo:"), "{}", saved.content);
    let reply = reply.await.unwrap().unwrap();
    assert_eq!(&reply, saved);
}

#[tokio::test]
async fn a_prompt_version_deleted_since_it_was_inserted_still_gets_the_reply() {
    // The `/` insert remembers the saved prompt's version; deleted before the send, the text goes
    // as typed (before: the question was saved, then the send failed on the version).
    let server = FakeOpenAi::start_with_key("sk-1");
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some("sk-1"));
    let conv = new_conversation(&svc, "test-model");
    let reply = svc
        .send(
            SendRequest {
                prompt_version_id: Some(987_654),
                ..send_req(conv, "from a prompt")
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(reply.content, "Echo: from a prompt");
    let linked: Option<i64> = crate::common::peek(dir.path())
        .query_row(
            "SELECT prompt_version_id FROM messages WHERE role = 'user'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(linked, None);
}
