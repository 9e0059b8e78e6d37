//! A hostile or broken server (issue 14): every fault of the fake server ends in exactly one final
//! state, keeps what arrived, and never loses the user's message.

use std::time::Duration;

use parley_core::chat::SendRequest;
use parley_core::db::messages::{self, Role, Status};
use parley_core::error::Error;
use parley_core::openai::client::{parse_base_url, MAX_REPLY_BYTES};
use parley_core::openai::types::{ChatMessage, ChatRequest, Request};
use parley_core::openai::{Client, ClientOptions, Endpoint, Finished, StreamEvent};
use tokio_util::sync::CancellationToken;

use crate::common::{new_conversation, peek, service, tempdir, Events};
use crate::fake_openai::{FakeOpenAi, CLAIMED_MODEL, SPLIT_UTF8_TEXT};

async fn run(
    model: &str,
    idle: Duration,
    cancel: &CancellationToken,
) -> (Result<Finished, Error>, String) {
    let server = FakeOpenAi::start();
    let client = Client::new(ClientOptions {
        connect_timeout: Duration::from_secs(2),
        idle_timeout: idle,
        ..ClientOptions::default()
    })
    .unwrap();
    let ep = Endpoint::new(parse_base_url(&server.base_url()).unwrap(), None);
    let req = Request::Chat(ChatRequest::streaming(
        model,
        vec![ChatMessage {
            role: "user".into(),
            content: "x".into(),
            ..Default::default()
        }],
    ));
    let mut text = String::new();
    let result = client
        .stream(&ep, &req, cancel, &mut |ev| {
            if let StreamEvent::Delta { text: t, .. } = ev {
                text.push_str(&t);
            }
        })
        .await;
    (result, text)
}

async fn fault(model: &str) -> (Result<Finished, Error>, String) {
    run(model, Duration::from_secs(5), &CancellationToken::new()).await
}

#[tokio::test]
async fn a_reset_before_the_first_token_is_a_stream_error_with_nothing_shown() {
    let (r, text) = fault("test-fault-reset-before").await;
    assert_eq!(r.unwrap_err().kind(), "stream");
    assert_eq!(text, "");
}

#[tokio::test]
async fn a_reset_after_the_first_token_keeps_that_token() {
    let (r, text) = fault("test-fault-reset-after").await;
    assert_eq!(r.unwrap_err().kind(), "stream");
    assert_eq!(text, "First");
}

#[tokio::test]
async fn a_stream_without_done_that_finished_its_choice_is_complete() {
    let (r, text) = fault("test-fault-no-done").await;
    assert_eq!(r.unwrap().finish_reason(0).as_deref(), Some("stop"));
    assert_eq!(text, "Complete answer");
}

#[tokio::test]
async fn chunks_split_inside_utf8_characters_give_the_exact_text() {
    let (r, text) = fault("test-fault-split-utf8").await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(text, SPLIT_UTF8_TEXT);
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let (r, text) = run(
        "test-fault-never",
        Duration::from_millis(300),
        &CancellationToken::new(),
    )
    .await;
    assert_eq!(r.unwrap_err().kind(), "timeout");
    assert_eq!(text, "");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_reported_and_the_text_before_it_kept() {
    let (r, text) = fault("test-fault-error-event").await;
    let err = r.unwrap_err();
    assert!(err.to_string().contains("overloaded mid-stream"), "{err}");
    assert_eq!(text, "Before the error");
}

#[tokio::test]
async fn ten_megabytes_of_comments_do_not_stop_the_reply() {
    let (r, text) = fault("test-fault-comments").await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(text, "After the comments");
}

#[tokio::test]
async fn the_idle_timeout_counts_bytes_not_events() {
    // Comments every 50 ms for a second, idle timeout 300 ms: bytes keep the stream alive.
    let (r, text) = run(
        "test-fault-slow-comments",
        Duration::from_millis(300),
        &CancellationToken::new(),
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(text, "Thought done");
}

#[tokio::test]
async fn an_endless_line_is_cut_at_the_cap_and_the_reply_before_it_kept() {
    let (r, text) = fault("test-fault-endless-line").await;
    let err = r.unwrap_err();
    assert_eq!(err.kind(), "stream");
    assert!(err.to_string().contains("longer than 4 MB"), "{err}");
    assert_eq!(text, "Before the line");
}

#[tokio::test]
async fn stop_acts_while_a_server_streams_bytes_that_never_make_an_event() {
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.cancel();
    });
    let (r, text) = run(
        "test-fault-endless-comments",
        Duration::from_secs(5),
        &cancel,
    )
    .await;
    assert_eq!(r.unwrap_err(), Error::Cancelled);
    assert_eq!(text, "Waiting");
}

#[tokio::test]
async fn a_huge_reply_stops_at_the_reply_cap_with_the_part_received() {
    let (r, text) = fault("test-fault-huge-reply").await;
    let err = r.unwrap_err();
    assert!(err.to_string().contains("limit of 16 MB"), "{err}");
    assert!(text.len() <= MAX_REPLY_BYTES && text.len() > MAX_REPLY_BYTES - 128 * 1024);
}

#[tokio::test]
async fn tool_call_bytes_count_toward_the_reply_cap() {
    // 128 calls of up to 1 MiB each would hold 128 MiB; the reply's cap stops it at 16.
    let (r, _) = fault("test-fault-huge-tool-calls").await;
    let err = r.unwrap_err();
    assert!(err.to_string().contains("limit of 16 MB"), "{err}");
}

#[tokio::test]
async fn a_whole_completion_with_choice_indexes_beyond_n_keeps_the_asked_one() {
    // An index of 4e9 once sized a vector of 4e9 splitters (the process aborted); 1 with n = 1
    // indexed past the reply's texts (a panic, the reply left streaming).
    let (r, text) = fault("test-fault-whole-bad-index").await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(text, "Kept");
}

/// Through the chat service and SQLite: one final event, the user's message and the partial reply saved.
#[tokio::test]
async fn every_fault_ends_in_one_final_state_and_keeps_the_users_message() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for (model, status, kept) in [
        ("test-fault-reset-before", Status::Error, ""),
        ("test-fault-reset-after", Status::Error, "First"),
        ("test-fault-no-done", Status::Done, "Complete answer"),
        ("test-fault-split-utf8", Status::Done, SPLIT_UTF8_TEXT),
        ("test-fault-error-event", Status::Error, "Before the error"),
        ("test-fault-comments", Status::Done, "After the comments"),
        ("test-fault-endless-line", Status::Error, "Before the line"),
        ("test-fault-huge-reply", Status::Error, ""),
    ] {
        let conv = new_conversation(&svc, model);
        let events = Events::default();
        let req = SendRequest {
            conversation_id: conv,
            content: format!("question for {model}"),
            stream_id: Some(model.into()),
            ..Default::default()
        };
        let reply = svc.send(req, events.sink()).await.unwrap();
        let finals = events
            .kinds()
            .into_iter()
            .filter(|k| matches!(*k, "finished" | "failed"))
            .count();
        assert_eq!(finals, 1, "{model}: {:?}", events.kinds());
        assert_eq!(reply.status, status, "{model}");
        if model == "test-fault-huge-reply" {
            assert!(reply.content.len() > MAX_REPLY_BYTES / 2, "{model}");
        } else {
            assert_eq!(reply.content, kept, "{model}");
        }
        let path = messages::active_path(&peek(dir.path()), conv).unwrap();
        assert_eq!(path[0].role, Role::User);
        assert_eq!(path[0].content, format!("question for {model}"));
        assert_eq!(path[1].id, reply.id);
    }
}

#[tokio::test]
async fn the_model_a_server_claims_is_kept_beside_the_one_asked_for() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-claims-other-model");
    let req = SendRequest {
        conversation_id: conv,
        content: "who are you".into(),
        ..Default::default()
    };
    let reply = svc.send(req, |_| {}).await.unwrap();
    assert_eq!(reply.model.as_deref(), Some("test-claims-other-model"));
    assert_eq!(reply.served_model.as_deref(), Some(CLAIMED_MODEL));
    let stored = messages::get(&peek(dir.path()), reply.id).unwrap();
    assert_eq!(stored, reply);
}

/// A server that echoes the key (an HTML error page, an error event mid-stream): the key is in
/// no stored, returned or retried-with text.
#[tokio::test]
async fn a_key_echoed_by_the_server_is_redacted_before_it_is_stored_or_shown() {
    const KEY: &str = "sk-parley-echo-0123456789abcdefXYZ";
    let server = FakeOpenAi::start_with_key(KEY);
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some(KEY));
    for model in ["test-echo-key", "test-echo-key-midstream"] {
        let conv = new_conversation(&svc, model);
        let events = Events::default();
        let req = SendRequest {
            conversation_id: conv,
            content: "hello".into(),
            ..Default::default()
        };
        let reply = svc.send(req, events.sink()).await.unwrap();
        assert_eq!(reply.status, Status::Error, "{model}");
        let shown = format!("{:?}", events.all());
        assert!(shown.contains("[redacted]"), "{model}: {shown}");
        assert!(!shown.contains("0123456789abcdef"), "{model}: {shown}");
        assert!(
            !format!("{reply:?}").contains("0123456789abcdef"),
            "{model}"
        );
    }
    drop(svc);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let hit = bytes.windows(16).any(|w| w == b"0123456789abcdef");
            assert!(!hit, "the key is in {}", path.display());
        }
    }
}

/// One recognisable key through chat, a server that echoes it, the judge, a backup and an export,
/// with tracing on: it is in no file of the data folder or the export folder, and in no event.
#[tokio::test]
async fn a_recognisable_key_leaves_no_trace_in_the_data_folder_exports_or_events() {
    const KEY: &str = "sk-SCANME-7f3a9c1e5b2d4f6a8c0e1a3b5d7f9e2c";
    const NEEDLE: &[u8] = b"7f3a9c1e5b2d4f6a";
    std::env::set_var("PARLEY_TRACE", "1");
    let server = FakeOpenAi::start_with_key(KEY);
    let dir = tempdir();
    let exports = tempdir();
    let svc = service(dir.path(), &server, Some(KEY));
    let events = Events::default();
    let mut reply_id = 0;
    for model in [
        "test-model",
        "test-echo-key",
        "test-echo-key-midstream",
        "test-429-once",
    ] {
        let conv = new_conversation(&svc, model);
        let req = SendRequest {
            conversation_id: conv,
            content: format!("scan {model}"),
            ..Default::default()
        };
        let reply = svc.send(req, events.sink()).await.unwrap();
        if model == "test-model" {
            reply_id = reply.id;
        }
        assert!(!format!("{reply:?}")
            .as_bytes()
            .windows(NEEDLE.len())
            .any(|w| w == NEEDLE));
    }
    let target = parley_core::chat::JudgeTarget {
        profile_id: None,
        model: Some("test-judge".into()),
        ..Default::default()
    };
    let verdict = svc.judge_single(reply_id, None, &target).await.unwrap();
    let echoed = parley_core::chat::JudgeTarget {
        profile_id: None,
        model: Some("test-echo-key".into()),
        ..Default::default()
    };
    let failed = svc.judge_single(reply_id, None, &echoed).await.unwrap();
    parley_core::db::backup::write(&peek(dir.path()), dir.path(), "manual").unwrap();
    let json = svc.prompts_json().await.unwrap();
    std::fs::write(exports.path().join("prompts.json"), json).unwrap();
    drop(svc);
    let shown = format!("{:?}{verdict:?}{failed:?}", events.all());
    assert!(
        !shown.as_bytes().windows(NEEDLE.len()).any(|w| w == NEEDLE),
        "{shown}"
    );
    let mut files = 0;
    let mut stack = vec![dir.path().to_path_buf(), exports.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
                let bytes = std::fs::read(&path).unwrap();
                let hit = bytes.windows(NEEDLE.len()).any(|w| w == NEEDLE);
                assert!(!hit, "the key is in {}", path.display());
            }
        }
    }
    assert!(files >= 3, "database, backup and export were scanned");
}
