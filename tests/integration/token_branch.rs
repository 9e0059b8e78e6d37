//! Legacy completions (issue 12): an alternative token continues the text as a new branch (the
//! prompt ends with the text before the token and the alternative); the reply's mean
//! log-probability and perplexity are an automatic metric of the thread.

use parley_core::api::EndpointKind;
use parley_core::chat::{SendRequest, TokenBranchRequest};

use crate::common::{new_conversation, service, tempdir};
use crate::conformance::check;
use crate::fake_openai::FakeOpenAi;

#[tokio::test]
async fn an_alternative_token_continues_a_completion_as_a_new_branch() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-logprobs");
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = EndpointKind::Completions;
    s.params.logprobs = Some(parley_core::params::Logprobs(3));
    svc.update_conversation(conv, s).unwrap();
    let send = SendRequest {
        conversation_id: conv,
        content: "one two three".into(),
        ..Default::default()
    };
    let first = svc.send(send, |_| {}).await.unwrap();
    let tok = &first.logprobs[1];
    let alt = tok
        .top
        .iter()
        .find(|a| a.token != tok.token)
        .unwrap()
        .clone();
    let req = TokenBranchRequest {
        conversation_id: conv,
        reply_id: first.id,
        token_index: 1,
        alternative: alt.token.clone(),
        stream_id: None,
    };
    let branch = svc.continue_from_token(req.clone(), |_| {}).await.unwrap();
    let start = format!("{}{}", first.logprobs[0].token, alt.token);
    let body = server.requests().pop().unwrap().body;
    check(&body, "CreateCompletionRequest");
    assert_eq!(body["prompt"], format!("one two three{start}"));
    assert!(branch.content.starts_with(&start), "{:?}", branch.content);
    assert!(branch.content.len() > start.len());
    // A sibling of the first reply: the user message now has two versions of its answer.
    assert_eq!(branch.parent_id, first.parent_id);
    let thread = svc.thread(conv).unwrap();
    let last = thread.last().unwrap();
    assert_eq!(last.message.id, branch.id);
    assert_eq!(last.sibling_ids, [first.id, branch.id]);
    // Its probabilities start with the kept token and the alternative, then the continuation.
    assert_eq!(branch.logprobs[1].token, alt.token);
    assert_eq!(branch.logprobs[1].logprob, alt.logprob);
    let text: String = branch.logprobs.iter().map(|t| t.token.as_str()).collect();
    assert_eq!(text, branch.content);
    // Mean log-probability and perplexity: an automatic metric of the reply.
    let metric = last.logprob_metric.expect("a logprob metric");
    assert!((metric.mean_logprob - branch.mean_logprob.unwrap()).abs() < 1e-12);
    assert!((metric.perplexity - (-metric.mean_logprob).exp()).abs() < 1e-12);
    // Not a listed alternative, or on the chat endpoint: refused, nothing sent.
    let before = server.requests().len();
    let bad = TokenBranchRequest {
        alternative: "never listed".into(),
        ..req.clone()
    };
    assert_eq!(
        svc.continue_from_token(bad, |_| {})
            .await
            .unwrap_err()
            .kind(),
        "invalid"
    );
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = EndpointKind::Chat;
    svc.update_conversation(conv, s).unwrap();
    let err = svc.continue_from_token(req, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("legacy completions"), "{err}");
    assert_eq!(server.requests().len(), before);
}
