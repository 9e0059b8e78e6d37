//! Chat, complete (issue 3): both endpoints, n choices, models side by side, branches (regenerate,
//! edit, select), the output-limit name, counted tokens, cost, and fitting the context window —
//! the chat service on a real SQLite file against the local OpenAI-compatible server.

use parley_core::api::ModelInfo;
use parley_core::api::{ConversationSettings, EndpointKind};
use parley_core::chat::{tokens, ChatEvent, RetryRequest, SendRequest, Target};
use parley_core::db::messages::Status;

use crate::common::{new_conversation, peek, service, tempdir, Events};
use crate::fake_openai::FakeOpenAi;

fn send(conversation_id: i64, content: &str) -> SendRequest {
    SendRequest {
        conversation_id,
        content: content.into(),
        ..Default::default()
    }
}

fn set(svc: &parley_core::chat::ChatService, conv: i64, f: impl FnOnce(&mut ConversationSettings)) {
    let mut s = svc.conversation(conv).unwrap().settings;
    f(&mut s);
    svc.update_conversation(conv, s).unwrap();
}

fn thread_text(svc: &parley_core::chat::ChatService, conv: i64) -> Vec<String> {
    svc.thread(conv)
        .unwrap()
        .into_iter()
        .map(|t| t.message.content)
        .collect()
}

#[tokio::test]
async fn a_legacy_completion_sends_a_prompt_and_streams_text() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    set(&svc, conv, |s| {
        s.endpoint = EndpointKind::Completions;
        s.system_prompt = "A story.".into();
        s.params.max_tokens = Some(50);
        s.params.stop = Some(vec!["THE END".into()]);
    });
    let events = Events::default();
    let reply = svc
        .send(send(conv, "Once upon a time"), events.sink())
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Done);
    assert_eq!(reply.content, "Echo: A story.\n\nOnce upon a time");
    assert_eq!(events.text(), reply.content);
    assert_eq!(reply.endpoint.as_deref(), Some("completions"));
    let req = server.requests().pop().unwrap();
    assert_eq!(req.path, "/v1/completions");
    assert_eq!(req.body["prompt"], "A story.\n\nOnce upon a time");
    assert_eq!(req.body["stream"], true);
    assert_eq!(req.body["max_tokens"], 50);
    assert_eq!(req.body["stop"], serde_json::json!(["THE END"]));
    assert!(req.body.get("messages").is_none());
    // Usage came from the server's final chunk.
    assert!(!reply.tokens_counted);
    assert!(reply.completion_tokens.unwrap() > 0);
    // The next turn continues the text: prompt, completion and new text, a newline between turns.
    let next = svc.send(send(conv, "And then"), |_| {}).await.unwrap();
    let req = server.requests().pop().unwrap();
    assert_eq!(
        req.body["prompt"],
        format!("A story.\n\nOnce upon a time\n{}\nAnd then", reply.content)
    );
    assert_eq!(next.status, Status::Done);
}

#[tokio::test]
async fn n_choices_stream_side_by_side_and_one_is_chosen_to_continue() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    set(&svc, conv, |s| s.params.n = Some(3));
    let events = Events::default();
    let replies = svc.send_all(send(conv, "hi"), events.sink()).await.unwrap();
    assert_eq!(server.requests().len(), 1, "one request for all choices");
    assert_eq!(server.requests()[0].body["n"], 3);
    // One prompt for the three choices: counted once in the conversation's totals.
    let prompt = replies[0].prompt_tokens.unwrap();
    assert!(replies.iter().all(|r| r.prompt_tokens == Some(prompt)));
    assert_eq!(svc.totals(conv).unwrap().prompt_tokens, prompt);
    let texts: Vec<&str> = replies.iter().map(|r| r.content.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Choice 1: Echo: hi",
            "Choice 2: Echo: hi",
            "Choice 3: Echo: hi"
        ]
    );
    let group = replies[0].group_id.clone().unwrap();
    assert!(replies
        .iter()
        .all(|r| r.group_id.as_deref() == Some(&group)));
    assert_eq!(
        replies.iter().map(|r| r.choice_index).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(2)]
    );
    // Until one is chosen, the first column is the one the conversation goes on from.
    let path = parley_core::db::messages::active_path(&peek(dir.path()), conv).unwrap();
    assert_eq!(path.last().unwrap().choice_index, Some(0));
    // Each choice's deltas were tagged with its own reply.
    for r in &replies {
        let text: String = events
            .all()
            .into_iter()
            .filter_map(|e| match e {
                ChatEvent::Delta { reply_id, text } if reply_id == r.id => Some(text),
                _ => None,
            })
            .collect();
        assert_eq!(text, r.content);
    }
    // The server's usage covers all choices together: completion tokens are counted per choice.
    assert!(replies.iter().all(|r| r.tokens_counted));
    assert_eq!(
        replies[1].completion_tokens,
        Some(tokens::count_text("test-model", "Choice 2: Echo: hi") as i64)
    );
    // The thread shows the group; choosing choice 2 continues from it.
    let t = svc.thread(conv).unwrap();
    assert_eq!(t.last().unwrap().group.len(), 3);
    // Automatic metrics of the group: the three replies share most words.
    let d = t.last().unwrap().diversity.clone().unwrap();
    assert_eq!(d.replies, 3);
    let (d1, sim) = (d.distinct1.unwrap(), d.self_similarity.unwrap());
    // distinct-1 by hand: {choice, 1, 2, 3, echo, hi} = 6 different words of 12.
    assert!((d1 - 0.5).abs() < 1e-12, "{d:?}");
    assert!(sim > 0.0 && sim < 1.0, "{d:?}");
    svc.select_branch(replies[1].id).unwrap();
    set(&svc, conv, |s| s.params.n = None);
    svc.send(send(conv, "go on"), |_| {}).await.unwrap();
    let history = &server.requests().pop().unwrap().body["messages"];
    assert_eq!(history[1]["content"], "Choice 2: Echo: hi");
    assert!(server.requests().pop().unwrap().body.get("n").is_none());
}

#[tokio::test]
async fn a_server_that_ignores_n_gets_a_clear_error_on_the_missing_choices() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-one-choice");
    set(&svc, conv, |s| s.params.n = Some(2));
    let replies = svc.send_all(send(conv, "two?"), |_| {}).await.unwrap();
    assert_eq!(replies[0].status, Status::Done);
    assert_eq!(replies[0].content, "Echo: two?");
    assert_eq!(replies[1].status, Status::Error);
    assert!(
        replies[1]
            .error_message
            .as_deref()
            .unwrap()
            .contains("may not support n > 1"),
        "{:?}",
        replies[1].error_message
    );
}

#[tokio::test]
async fn two_models_answer_side_by_side_each_with_its_own_stop() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = std::sync::Arc::new(service(dir.path(), &server, None));
    let conv = new_conversation(&svc, "test-model");
    let canceller = svc.clone();
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let request = SendRequest {
        targets: vec![
            Target {
                model: Some("test-slow-20".into()),
                stream_id: Some("left".into()),
                ..Default::default()
            },
            Target {
                model: Some("test-model".into()),
                stream_id: Some("right".into()),
                ..Default::default()
            },
        ],
        ..send(conv, "compare")
    };
    let replies = svc
        .send_all(request, move |e| {
            // Stop the slow column once it has shown something; the other is untouched.
            if let ChatEvent::Delta { .. } = e {
                if !stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    canceller.cancel("left");
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0].model.as_deref(), Some("test-slow-20"));
    assert_eq!(replies[0].status, Status::Cancelled);
    assert_eq!(replies[1].model.as_deref(), Some("test-model"));
    assert_eq!(replies[1].status, Status::Done);
    assert_eq!(replies[1].content, "Echo: compare");
    assert_eq!(replies[0].group_id, replies[1].group_id);
    assert_eq!(server.requests().len(), 2);
    // Either column can be continued as the main branch.
    svc.select_branch(replies[1].id).unwrap();
    assert_eq!(thread_text(&svc, conv), ["compare", "Echo: compare"]);
    let too_many = SendRequest {
        targets: vec![Target::default(); 5],
        ..send(conv, "x")
    };
    assert_eq!(
        svc.send_all(too_many, |_| {}).await.unwrap_err().kind(),
        "invalid"
    );
}

#[tokio::test]
async fn regenerate_and_edit_make_branches_and_nothing_is_overwritten() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    let a1 = svc.send(send(conv, "one"), |_| {}).await.unwrap();
    svc.send(send(conv, "two"), |_| {}).await.unwrap();
    let u1 = a1.parent_id.unwrap();
    // Regenerate the first answer: a sibling; the later turns wait on the old branch.
    let regen = svc
        .retry(
            RetryRequest {
                conversation_id: conv,
                user_message_id: u1,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    let t = svc.thread(conv).unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].sibling_ids, [a1.id, regen.id]);
    svc.select_branch(a1.id).unwrap();
    assert_eq!(
        thread_text(&svc, conv),
        ["one", "Echo: one", "two", "Echo: two"]
    );
    // Edit the second question: a new branch from the same point.
    let second_user = svc.thread(conv).unwrap()[2].message.id;
    let edited = svc
        .send(
            SendRequest {
                edit_of: Some(second_user),
                ..send(conv, "two, edited")
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(edited.content, "Echo: two, edited");
    let t = svc.thread(conv).unwrap();
    assert_eq!(t[2].message.content, "two, edited");
    assert_eq!(t[2].sibling_ids.len(), 2);
    // The request history followed the branch: the old second turn is not in it.
    let history = server.requests().pop().unwrap().body["messages"].clone();
    assert_eq!(history.as_array().unwrap().len(), 3);
    // Back to the original wording: its answer is still there.
    svc.select_branch(second_user).unwrap();
    assert_eq!(thread_text(&svc, conv)[3], "Echo: two");
    let rows: i64 = peek(dir.path())
        .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 7);
    // Only a user message of this conversation can be edited.
    let bad = SendRequest {
        edit_of: Some(a1.id),
        ..send(conv, "x")
    };
    assert_eq!(svc.send(bad, |_| {}).await.unwrap_err().kind(), "invalid");
}

#[tokio::test]
async fn the_output_limit_goes_under_the_name_the_model_accepts() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    // Known reasoning model: max_completion_tokens at once.
    let conv = new_conversation(&svc, "o1-mini");
    set(&svc, conv, |s| s.params.max_tokens = Some(40));
    let reply = svc.send(send(conv, "think"), |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Done);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].body["max_completion_tokens"], 40);
    assert!(reqs[0].body.get("max_tokens").is_none());
    // Unknown model that refuses max_tokens: retried once with the other name.
    let conv = new_conversation(&svc, "test-reasoning");
    set(&svc, conv, |s| s.params.max_tokens = Some(40));
    let reply = svc.send(send(conv, "think"), |_| {}).await.unwrap();
    assert_eq!(reply.status, Status::Done, "{:?}", reply.error_message);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[1].body["max_tokens"], 40);
    assert_eq!(reqs[2].body["max_completion_tokens"], 40);
    assert!(reqs[2].body.get("max_tokens").is_none());
}

#[tokio::test]
async fn tokens_are_counted_when_the_server_reports_none_and_cost_comes_from_the_table() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-no-usage");
    let events = Events::default();
    let reply = svc
        .send(send(conv, "count me"), events.sink())
        .await
        .unwrap();
    assert!(reply.tokens_counted);
    assert_eq!(
        reply.completion_tokens,
        Some(tokens::count_text("test-no-usage", "Echo: count me") as i64)
    );
    assert!(reply.prompt_tokens.unwrap() > 0);
    assert!(events
        .all()
        .iter()
        .any(|e| matches!(e, ChatEvent::Usage { counted: true, .. })));
    assert_eq!(reply.cost_usd, None, "no price for this model");

    // A priced model: the server's usage × the table's prices.
    let conv = new_conversation(&svc, "gpt-4o-mini");
    let reply = svc.send(send(conv, "price me"), |_| {}).await.unwrap();
    assert!(!reply.tokens_counted);
    let (pt, ct) = (
        reply.prompt_tokens.unwrap(),
        reply.completion_tokens.unwrap(),
    );
    let expected = (pt as f64 * 0.15 + ct as f64 * 0.60) / 1e6;
    assert!((reply.cost_usd.unwrap() - expected).abs() < 1e-12);
    // Edited price applies to the next reply.
    svc.save_model_info(ModelInfo {
        model: "gpt-4o-mini".into(),
        input_per_m: Some(1000.0),
        output_per_m: Some(2000.0),
        context_window: Some(128_000),
    })
    .unwrap();
    let again = svc.send(send(conv, "again"), |_| {}).await.unwrap();
    let expected = (again.prompt_tokens.unwrap() as f64 * 1000.0
        + again.completion_tokens.unwrap() as f64 * 2000.0)
        / 1e6;
    assert!((again.cost_usd.unwrap() - expected).abs() < 1e-12);
    let totals = svc.totals(conv).unwrap();
    assert_eq!(totals.replies, 2);
    assert_eq!(
        totals.completion_tokens,
        reply.completion_tokens.unwrap() + again.completion_tokens.unwrap()
    );
    assert!((totals.cost_usd.unwrap() - (reply.cost_usd.unwrap() + expected)).abs() < 1e-12);
}

#[tokio::test]
async fn a_long_history_is_fitted_to_the_context_window_keeping_the_system_prompt() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    set(&svc, conv, |s| {
        s.system_prompt = "Stay on topic.".into();
        s.params.max_tokens = Some(100);
    });
    let long = "lorem ipsum ".repeat(60);
    for i in 0..3 {
        svc.send(send(conv, &format!("{i} {long}")), |_| {})
            .await
            .unwrap();
    }
    // Nothing was left out while the window was unknown.
    let full = server.requests().pop().unwrap().body["messages"].clone();
    assert_eq!(full.as_array().unwrap().len(), 6);
    svc.save_model_info(ModelInfo {
        model: "test-model".into(),
        input_per_m: None,
        output_per_m: None,
        context_window: Some(600),
    })
    .unwrap();
    let reply = svc.send(send(conv, "last question"), |_| {}).await.unwrap();
    let sent = server.requests().pop().unwrap().body["messages"].clone();
    let sent = sent.as_array().unwrap();
    assert_eq!(sent[0]["content"], "Stay on topic.");
    assert_eq!(sent.last().unwrap()["content"], "last question");
    assert_eq!(
        sent[1]["role"], "user",
        "the kept history starts at a question"
    );
    let omitted = reply.omitted.unwrap();
    assert!(omitted >= 2, "{omitted}");
    // system + the kept messages + everything left out = the whole history.
    assert_eq!(sent.len() - 1 + omitted as usize, 7);
}
