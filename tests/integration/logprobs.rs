//! Token probabilities (issue 12): asked for per conversation (chat `logprobs` + `top_logprobs`,
//! legacy `logprobs: N`), read from the stream, stored per reply with the mean log-probability,
//! and `parley ask --logprobs N --stats`.

use parley_core::api::EndpointKind;
use parley_core::chat::SendRequest;

use crate::cli::{assert_succeeded, parley};
use crate::common::{new_conversation, service, tempdir};
use crate::conformance::check;
use crate::fake_openai::{fake_logprob, FakeOpenAi};

#[tokio::test]
async fn both_endpoints_store_each_tokens_probability_and_alternatives() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    for endpoint in [EndpointKind::Chat, EndpointKind::Completions] {
        let conv = new_conversation(&svc, "test-logprobs");
        let mut s = svc.conversation(conv).unwrap().settings;
        s.endpoint = endpoint;
        svc.update_conversation(conv, s).unwrap();
        svc.set_conversation_logprobs(conv, Some(3)).unwrap();
        let send = SendRequest {
            conversation_id: conv,
            content: "one two three".into(),
            ..Default::default()
        };
        let reply = svc.send(send, |_| {}).await.unwrap();
        let body = server.requests().pop().unwrap().body;
        match endpoint {
            EndpointKind::Chat => {
                check(&body, "CreateChatCompletionRequest");
                assert_eq!(body["logprobs"], true);
                assert_eq!(body["top_logprobs"], 3);
            }
            EndpointKind::Completions => {
                check(&body, "CreateCompletionRequest");
                assert_eq!(body["logprobs"], 3);
            }
            EndpointKind::Responses => unreachable!("not asked for logprobs here"),
        }
        let tokens: String = reply.logprobs.iter().map(|t| t.token.as_str()).collect();
        assert_eq!(tokens, reply.content, "{endpoint:?}");
        assert_eq!(reply.logprobs[1].logprob, fake_logprob(1));
        assert_eq!(reply.logprobs[0].top.len(), 3);
        assert_eq!(reply.logprobs[0].top[1].token, "alt1");
        let n = reply.logprobs.len();
        let mean = (0..n).map(fake_logprob).sum::<f64>() / n as f64;
        assert!((reply.mean_logprob.unwrap() - mean).abs() < 1e-9);
        // Stored with the reply.
        let stored = svc.thread(conv).unwrap().pop().unwrap().message;
        assert_eq!(stored.logprobs, reply.logprobs);
    }
    // Out of range is refused, not sent.
    let conv = new_conversation(&svc, "test-logprobs");
    let err = svc.set_conversation_logprobs(conv, Some(21)).unwrap_err();
    assert_eq!(err.kind(), "invalid");
}

#[test]
fn ask_with_logprobs_and_stats_prints_the_mean_log_probability() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args([
            "ask",
            "--model",
            "test-logprobs",
            "--logprobs",
            "2",
            "--stats",
            "hi",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "Echo: hi");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("mean logprob -0.150 (perplexity 1.16)"),
        "{err}"
    );
}
