//! Structured outputs and the parameters folded into the one table (issue 12): response format per
//! conversation and in prompt presets, a schema the API would reject explained and never sent, a
//! reply validated after streaming (stored, counted as a metric), `parley ask --json-schema` /
//! `--json-object` with exit code 3; `reasoning_effort` per conversation, profile and `parley ask`.

use parley_core::api::{EndpointKind, ProfileKind};
use parley_core::chat::{ProfileUpdate, SendRequest};
use parley_core::params::{ReasoningEffort, ResponseFormat};
use serde_json::{json, Value};

use crate::cli::{ask, assert_succeeded};
use crate::common::{new_conversation, service, tempdir};
use crate::conformance::check;
use crate::fake_openai::FakeOpenAi;

fn person() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["name", "age", "tags"],
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}}})
}

fn strict(schema: Value) -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "person".into(),
        description: "A person".into(),
        schema,
        strict: true,
    }
}

async fn send(svc: &parley_core::chat::ChatService, conv: i64) -> parley_core::api::Message {
    let req = SendRequest {
        conversation_id: conv,
        content: "Describe Ada".into(),
        ..Default::default()
    };
    svc.send(req, |_| {}).await.unwrap()
}

#[tokio::test]
async fn a_reply_under_a_schema_is_validated_after_streaming_stored_and_counted() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for (model, valid) in [("test-json-valid", true), ("test-json-invalid", false)] {
        let conv = new_conversation(&svc, model);
        svc.edit_conversation_params(conv, |p| {
            p.response_format = Some(strict(person()));
            p.reasoning_effort = Some(ReasoningEffort::Minimal);
        })
        .unwrap();
        let reply = send(&svc, conv).await;
        let body = server.requests().pop().unwrap().body;
        check(&body, "CreateChatCompletionRequest");
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(body["response_format"]["json_schema"]["schema"], person());
        assert_eq!(body["response_format"]["json_schema"]["strict"], true);
        assert_eq!(body["reasoning_effort"], "minimal");
        let check = reply.schema_check.clone().expect("checked");
        assert_eq!(check.valid, valid, "{model}: {check:?}");
        if !valid {
            // The exact error, with where it is.
            assert!(
                check
                    .errors
                    .iter()
                    .any(|e| e.contains("\"name\" is a required property")),
                "{check:?}"
            );
        }
        // Stored with the reply, and an automatic metric of the thread.
        let last = svc.thread(conv).unwrap().pop().unwrap();
        assert_eq!(last.message.schema_check, Some(check));
        let metric = last.structured.expect("a metric");
        assert_eq!(metric.valid, valid);
    }
    // JSON mode: an object, or prose that is not one.
    let conv = new_conversation(&svc, "test-json-invalid");
    svc.edit_conversation_params(conv, |p| {
        p.response_format = Some(ResponseFormat::JsonObject)
    })
    .unwrap();
    let reply = send(&svc, conv).await;
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateChatCompletionRequest");
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    let c = reply.schema_check.unwrap();
    assert!(!c.valid && c.errors[0].contains("not JSON"), "{c:?}");
    // Text (the default) is not sent, and nothing is checked.
    let conv = new_conversation(&svc, "test-json-valid");
    svc.edit_conversation_params(conv, |p| p.response_format = Some(ResponseFormat::Text))
        .unwrap();
    let reply = send(&svc, conv).await;
    assert!(server
        .requests()
        .pop()
        .unwrap()
        .body
        .get("response_format")
        .is_none());
    assert_eq!(reply.schema_check, None);
}

#[tokio::test]
async fn a_schema_the_api_would_reject_is_explained_and_never_sent() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-json-valid");
    let open = json!({"type": "object", "properties": {"a": {"type": "string"}}});
    let err = svc
        .edit_conversation_params(conv, |p| p.response_format = Some(strict(open)))
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
    let text = err.to_string();
    assert!(text.contains("additionalProperties\": false"), "{text}");
    assert!(
        text.contains("every property in \"required\" (missing a"),
        "{text}"
    );
    // Nothing was saved, so nothing of it is sent.
    assert_eq!(
        svc.conversation(conv)
            .unwrap()
            .settings
            .params
            .response_format,
        None
    );
    send(&svc, conv).await;
    assert!(server
        .requests()
        .pop()
        .unwrap()
        .body
        .get("response_format")
        .is_none());
    // The legacy endpoint takes no response format: not sent there, nothing checked.
    let conv = new_conversation(&svc, "test-json-valid");
    svc.edit_conversation_params(conv, |p| p.response_format = Some(strict(person())))
        .unwrap();
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = EndpointKind::Completions;
    svc.update_conversation(conv, s).unwrap();
    let reply = send(&svc, conv).await;
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateCompletionRequest");
    assert!(body.get("response_format").is_none());
    assert_eq!(reply.schema_check, None);
}

#[test]
fn a_prompt_preset_keeps_its_response_format_and_refuses_a_bad_schema() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let draft = |format: ResponseFormat| -> parley_core::prompts::library::Draft {
        serde_json::from_value(json!({"title": "People", "body": "Describe {{who}}",
            "preset": {"model": "test-json-valid", "settings": {"responseFormat": format}}}))
        .unwrap()
    };
    let saved = svc
        .save_prompt("people", draft(strict(person())), "")
        .unwrap();
    let preset = saved.latest.draft.preset.unwrap();
    assert_eq!(
        preset.settings.params.response_format,
        Some(strict(person()))
    );
    let err = svc
        .save_prompt("people", draft(strict(json!({"type": "object"}))), "")
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
}

#[tokio::test]
async fn reasoning_effort_comes_from_the_conversation_else_its_profile() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let update = ProfileUpdate {
        name: Some("thinker".into()),
        kind: Some(ProfileKind::Compatible),
        base_url: Some(server.base_url()),
        default_model: Some("test-model".into()),
        defaults: parley_core::api::ProfileDefaults {
            reasoning_effort: Some(ReasoningEffort::High),
            ..Default::default()
        },
        ..Default::default()
    };
    let profile = svc.create_profile(update).await.unwrap();
    let conv = svc.create_conversation(None).unwrap().id;
    svc.set_conversation_profile(conv, Some(profile.id))
        .unwrap();
    send(&svc, conv).await;
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateChatCompletionRequest");
    assert_eq!(body["reasoning_effort"], "high");
    svc.edit_conversation_params(conv, |p| p.reasoning_effort = Some(ReasoningEffort::None))
        .unwrap();
    send(&svc, conv).await;
    assert_eq!(
        server.requests().pop().unwrap().body["reasoning_effort"],
        "none"
    );
}

#[test]
fn parley_ask_json_schema_prints_the_reply_and_exits_3_when_it_does_not_validate() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let file = dir.path().join("person.json");
    std::fs::write(&file, person().to_string()).unwrap();
    let path = file.to_str().unwrap();
    let ok = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-json-valid",
            "--json-schema",
            path,
            "--reasoning-effort",
            "low",
            "--stats",
            "Ada",
        ],
    );
    assert_succeeded(&ok);
    let printed: Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(printed["age"], 1);
    assert!(String::from_utf8_lossy(&ok.stderr).contains("JSON valid"));
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateChatCompletionRequest");
    assert_eq!(body["response_format"]["json_schema"]["name"], "person");
    assert_eq!(body["reasoning_effort"], "low");
    let bad = ask(
        dir.path(),
        &server,
        &["--model", "test-json-invalid", "--json-schema", path, "Ada"],
    );
    assert_eq!(bad.status.code(), Some(3));
    // The reply is printed all the same; the errors go to stderr.
    let printed: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert!(printed.get("name").is_none());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("does not validate"), "{err}");
    assert!(
        err.contains("\"name\" is a required property (at /)"),
        "{err}"
    );
    let obj = ask(
        dir.path(),
        &server,
        &["--model", "test-json-invalid", "--json-object", "Ada"],
    );
    assert_eq!(obj.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&obj.stderr).contains("not JSON"));
    // A schema the API would reject: explained, exit 1, nothing sent.
    std::fs::write(
        &file,
        r#"{"type": "object", "properties": {"a": {"type": "string"}}}"#,
    )
    .unwrap();
    let before = server.requests().len();
    let refused = ask(
        dir.path(),
        &server,
        &["--model", "test-json-valid", "--json-schema", path, "Ada"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("additionalProperties"));
    assert_eq!(server.requests().len(), before);
}

#[test]
fn a_server_that_takes_no_json_schema_gets_a_json_object_with_the_schema_and_the_reply_is_still_checked(
) {
    // As llama-cpp-python's server: `json_schema` refused (a 500 with its validation message),
    // `json_object` with a `schema` beside it taken. Found trying the real local model.
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let file = dir.path().join("person.json");
    std::fs::write(&file, person().to_string()).unwrap();
    let out = ask(
        dir.path(),
        &server,
        &[
            "--model",
            "test-json-object-only",
            "--json-schema",
            file.to_str().unwrap(),
            "--stats",
            "Ada",
        ],
    );
    assert_succeeded(&out);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["age"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("JSON valid"));
    let bodies: Vec<Value> = server.requests().into_iter().map(|r| r.body).collect();
    let last = bodies.last().unwrap();
    assert_eq!(last["response_format"]["type"], "json_object");
    assert_eq!(last["response_format"]["schema"], person());
    // Asked with json_schema first (the server's retries included), then once with json_object.
    assert!(bodies[..bodies.len() - 1]
        .iter()
        .all(|b| b["response_format"]["type"] == "json_schema"));
    assert_eq!(
        bodies
            .iter()
            .filter(|b| b["response_format"]["type"] == "json_object")
            .count(),
        1
    );
}

/// A refusal (OpenAI's `refusal` field under structured outputs, content null) is the reply the
/// user sees, streamed in pieces or in one body; before, the reply was empty.
#[tokio::test]
async fn a_refusal_is_shown_as_the_reply_streamed_or_whole() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for model in ["test-refuse", "test-refuse-whole"] {
        let conv = new_conversation(&svc, model);
        svc.edit_conversation_params(conv, |p| p.response_format = Some(strict(person())))
            .unwrap();
        let reply = send(&svc, conv).await;
        assert_eq!(reply.content, crate::fake_openai::REFUSAL, "{model}");
        let check = reply.schema_check.expect("checked");
        assert!(!check.valid, "{model}: a refusal is not the schema's JSON");
    }
}
