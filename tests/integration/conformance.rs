//! The request bodies Parley sends, checked against the official OpenAI API description
//! (`CreateChatCompletionRequest`, `CreateCompletionRequest`, extracted into
//! tests/fixtures/openai-request-schemas.json, and the Responses API's `CreateResponse` into
//! tests/fixtures/openai-responses-schemas.json, by tests/fixtures/extract_openai_schemas.py).
//! The bodies are the ones the local server really received, every parameter set.

use parley_core::api::EndpointKind;
use serde_json::{json, Value};

use crate::common::{new_conversation, service, tempdir};
use crate::fake_openai::FakeOpenAi;

fn schemas(schema_name: &str) -> Value {
    let raw = match schema_name {
        "CreateResponse" => include_str!("../fixtures/openai-responses-schemas.json"),
        _ => include_str!("../fixtures/openai-request-schemas.json"),
    };
    let mut v: Value = serde_json::from_str(raw).unwrap();
    drop_bare_nullable(&mut v);
    // An input item is `oneOf` EasyInputMessage and Item, which overlap for a message whose
    // content is a list of parts (text and an image: the shape OpenAI's own SDK sends), so no
    // such message could pass `oneOf`; read as `anyOf`.
    if let Some(item) = v["components"]["schemas"]["InputItem"].as_object_mut() {
        if let Some(one) = item.remove("oneOf") {
            item.insert("anyOf".into(), one);
        }
    }
    v
}

/// OpenAPI's `nullable` is not JSON Schema; where it stands without a `type` it is a no-op.
fn drop_bare_nullable(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if !map.contains_key("type") {
                map.remove("nullable");
            }
            map.values_mut().for_each(drop_bare_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_bare_nullable),
        _ => {}
    }
}

/// Every property name a schema declares, through allOf/anyOf/oneOf and references.
fn declared(schemas: &Value, schema: &Value, out: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return declared(schemas, &schemas["components"]["schemas"][name], out);
    }
    if let Some(props) = schema["properties"].as_object() {
        out.extend(props.keys().cloned());
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            declared(schemas, s, out);
        }
    }
}

pub(crate) fn check(body: &Value, schema_name: &str) {
    let mut root = schemas(schema_name);
    root["$ref"] = json!(format!("#/components/schemas/{schema_name}"));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_name}: {errors:#?}\n{body:#}");
    // The schema allows unknown fields; a misspelt parameter must still fail here.
    let mut known = Vec::new();
    let target = root["components"]["schemas"][schema_name].clone();
    declared(&root, &target, &mut known);
    for key in body.as_object().unwrap().keys() {
        assert!(
            known.contains(key),
            "{schema_name} has no parameter {key:?}"
        );
    }
}

#[tokio::test]
async fn request_bodies_match_the_openai_reference_for_every_endpoint() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for endpoint in EndpointKind::ALL {
        for model in ["test-model", "o1-mini"] {
            let conv = new_conversation(&svc, model);
            let mut s = svc.conversation(conv).unwrap().settings;
            s.endpoint = endpoint;
            s.system_prompt = "Be brief.".into();
            s.params.temperature = Some(0.7);
            s.params.max_tokens = Some(64);
            s.params.top_p = Some(0.9);
            s.params.frequency_penalty = Some(-0.5);
            s.params.presence_penalty = Some(1.5);
            s.params.stop = Some(vec!["\n\n".into(), "END".into()]);
            s.params.seed = Some(-7);
            s.params.n = Some(2);
            s.params.reasoning_effort = Some(parley_core::params::ReasoningEffort::Low);
            s.params.logprobs = Some(parley_core::params::Logprobs(2));
            s.params.response_format = Some(parley_core::params::ResponseFormat::JsonObject);
            svc.update_conversation(conv, s).unwrap();
            let req = parley_core::chat::SendRequest {
                conversation_id: conv,
                content: "hello 你好".into(),
                ..Default::default()
            };
            svc.send_all(req, |_| {}).await.unwrap();
        }
    }
    let bodies: Vec<(String, Value)> = server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.body))
        .collect();
    assert_eq!(bodies.len(), 6);
    for (path, body) in &bodies {
        match path.as_str() {
            "/v1/chat/completions" => check(body, "CreateChatCompletionRequest"),
            "/v1/completions" => check(body, "CreateCompletionRequest"),
            "/v1/responses" => {
                check(body, "CreateResponse");
                // Only what the table gives the Responses API (tests/integration/responses.rs).
                assert_eq!(
                    (&body["temperature"], &body["top_p"]),
                    (&json!(0.7), &json!(0.9))
                );
                assert!(body.get("seed").is_none() && body.get("stop").is_none());
                continue;
            }
            other => panic!("unexpected path {other}"),
        }
        // Every parameter that was set was sent.
        for key in [
            "temperature",
            "top_p",
            "n",
            "stop",
            "seed",
            "frequency_penalty",
        ] {
            assert!(body.get(key).is_some(), "{path}: {key} missing");
        }
        let chat_only = ["reasoning_effort", "response_format", "top_logprobs"];
        for key in chat_only {
            let chat = path == "/v1/chat/completions";
            assert_eq!(body.get(key).is_some(), chat, "{path}: {key}");
        }
    }
    // The checker itself rejects what the reference forbids.
    let bad =
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3});
    assert!(std::panic::catch_unwind(|| check(&bad, "CreateChatCompletionRequest")).is_err());
    let typo =
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_token": 3});
    assert!(std::panic::catch_unwind(|| check(&typo, "CreateChatCompletionRequest")).is_err());
}
