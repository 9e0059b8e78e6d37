//! One cell of the grid: the request (prompt filled with the test's vars, the provider's
//! parameters), the cache keyed by a digest of the exact request (origin + body), the call
//! (the client's retry policy), the assertions and the judge for `llm-rubric`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::assertions::{score_test, Outcome, Output, Step};
use super::{saved, template, Api, Prompt, PromptBody, Provider, Suite, TestCase};
use crate::db::pricing::ModelInfo;
use crate::db::suites::ResultRow;
use crate::error::{Error, Result};
use crate::eval::judge;
use crate::openai::types::{
    wants_max_completion_tokens, ChatMessage, ChatRequest, CompletionRequest, Request, Sampling,
};
use crate::openai::{Client, Endpoint, StreamEvent};
use crate::params::{EndpointKind, Params};

/// A provider ready to call: where, with which client, at which price.
#[derive(Clone)]
pub struct Resolved {
    pub endpoint: Endpoint,
    pub client: Client,
    pub price: Option<ModelInfo>,
}

impl Resolved {
    /// What the cache key starts with: the server's origin and path prefix.
    pub fn origin(&self) -> String {
        self.endpoint.url("").to_string()
    }
}

/// A cached answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub latency_ms: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logprobs: Vec<f64>,
}

/// The request body of a cell.
pub fn request(prompt: &Prompt, provider: &Provider, test: &TestCase) -> Result<Request> {
    let vars = &test.vars;
    let params: &Params = &provider.params;
    match provider.api {
        Api::Chat => {
            let messages = match &prompt.body {
                PromptBody::Text(t) => vec![ChatMessage {
                    role: "user".into(),
                    content: template::render(t, vars)?,
                    ..Default::default()
                }],
                PromptBody::Chat(list) => list
                    .iter()
                    .map(|(role, content)| {
                        Ok(ChatMessage {
                            role: role.clone(),
                            content: template::render(content, vars)?,
                            ..Default::default()
                        })
                    })
                    .collect::<Result<_>>()?,
                PromptBody::Saved(s) => {
                    let (system, body) = saved::render(prompt, s, test)?;
                    let message = |role: &str, content: String| ChatMessage {
                        role: role.into(),
                        content,
                        ..Default::default()
                    };
                    let mut list: Vec<ChatMessage> =
                        system.map(|s| message("system", s)).into_iter().collect();
                    list.push(message("user", body));
                    list
                }
            };
            let mut r = ChatRequest::streaming(&provider.model, messages);
            r.stream = false;
            r.stream_options = None;
            r.sampling = Sampling {
                params: params.clone(),
                endpoint: EndpointKind::Chat,
            };
            r.set_output_limit(
                params.max_tokens,
                wants_max_completion_tokens(&provider.model),
            );
            Ok(Request::Chat(r))
        }
        Api::Completion => {
            let text = match &prompt.body {
                PromptBody::Text(t) => template::render(t, vars)?,
                PromptBody::Chat(_) => {
                    return Err(Error::invalid(format!(
                        "the prompt \"{}\" is a chat message list; {} is a completion provider",
                        prompt.label, provider.id
                    )))
                }
                PromptBody::Saved(s) => match saved::render(prompt, s, test)? {
                    (None, body) => body,
                    (Some(_), _) => {
                        return Err(Error::invalid(format!(
                            "the saved prompt \"{}\" has a system prompt; {} is a completion \
                             provider (use a chat provider)",
                            prompt.label, provider.id
                        )))
                    }
                },
            };
            let mut r = CompletionRequest::streaming(&provider.model, text);
            r.stream = false;
            r.stream_options = None;
            r.sampling.params = params.clone();
            r.max_tokens = params.max_tokens;
            Ok(Request::Completion(r))
        }
    }
}

/// The cache key: SHA-256 of origin, newline, body.
pub fn cache_key(origin: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(origin.as_bytes());
    h.update(b"\n");
    h.update(body.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends a request; the answer's text (choice 0), usage, time and token log-probabilities.
pub async fn call(target: &Resolved, body: &Request, cancel: &CancellationToken) -> Result<Answer> {
    let started = std::time::Instant::now();
    let mut text = String::new();
    let mut logprobs = Vec::new();
    let finished = target
        .client
        .stream(&target.endpoint, body, cancel, &mut |ev| match ev {
            StreamEvent::Delta { index: 0, text: t } => text.push_str(&t),
            StreamEvent::Logprobs { index: 0, tokens } => {
                logprobs.extend(tokens.iter().map(|t| t.logprob))
            }
            _ => {}
        })
        .await?;
    Ok(Answer {
        text,
        prompt_tokens: finished.usage.as_ref().map(|u| u.prompt_tokens),
        completion_tokens: finished.usage.as_ref().map(|u| u.completion_tokens),
        latency_ms: started.elapsed().as_secs_f64() * 1e3,
        logprobs,
    })
}

/// Asks the judge to grade an output against a rubric: (grade 1–10, reasoning).
async fn grade(
    judge_model: &str,
    target: &Resolved,
    rubric: &str,
    question: &str,
    output: &str,
    cancel: &CancellationToken,
) -> std::result::Result<(i64, String), String> {
    let ctx = judge::Context {
        question: question.to_string(),
        history: Vec::new(),
        omitted: 0,
    };
    let mut r = ChatRequest::streaming(judge_model, judge::single_prompt(rubric, &ctx, output));
    r.stream = false;
    r.stream_options = None;
    r.sampling.params.temperature = Some(judge::JUDGE_TEMPERATURE);
    let answer = call(target, &Request::Chat(r), cancel)
        .await
        .map_err(|e| e.to_string())?;
    judge::parse_single(&answer.text)
        .map(|v| (v.score, v.reasoning))
        .map_err(|e| e.to_string())
}

/// The text the judge is told was asked (the filled prompt).
fn question(body: &Request) -> String {
    match body {
        Request::Chat(r) => r
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n\n"),
        Request::Completion(r) => r.prompt.clone(),
        Request::Responses(r) => r
            .input
            .iter()
            .filter_map(|i| i["content"].as_str())
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

/// Who grades a test's `llm-rubric`: the provider its `options.provider` names (by id or label),
/// else the one that answered; the same in a streamed run and a batched one.
pub fn grader<'a>(
    suite: &'a Suite,
    targets: &'a [Resolved],
    test: &TestCase,
    answered_by: usize,
) -> (&'a Provider, &'a Resolved) {
    let named = test
        .grader
        .as_deref()
        .and_then(|g| (suite.providers.iter()).position(|x| x.id == g || x.label == g));
    let g = named.unwrap_or(answered_by);
    (&suite.providers[g], &targets[g])
}

/// Runs the assertions on an answer (the judge where needed): outcomes, pass, score.
pub async fn check(
    test: &TestCase,
    body: &Request,
    answer: &Answer,
    cost: Option<f64>,
    grader: (&Provider, &Resolved),
    cancel: &CancellationToken,
) -> (Vec<Outcome>, bool, f64) {
    let out = Output {
        text: &answer.text,
        // 0: unknown (a batched cell).
        latency_ms: (answer.latency_ms > 0.0).then_some(answer.latency_ms),
        cost_usd: cost,
        logprobs: (!answer.logprobs.is_empty()).then_some(answer.logprobs.as_slice()),
    };
    let mut outcomes = Vec::with_capacity(test.assertions.len());
    for a in &test.assertions {
        let o = match a.run(&out, &test.vars) {
            Ok(Step::Done(o)) => o,
            Ok(Step::Judge(rubric)) => {
                let q = question(body);
                let v = grade(&grader.0.model, grader.1, &rubric, &q, &answer.text, cancel).await;
                a.graded(v)
            }
            Err(e) => Outcome {
                kind: a.kind(),
                pass: false,
                score: 0.0,
                weight: a.weight,
                reason: e.to_string(),
                judge_grade: None,
            },
        };
        outcomes.push(o);
    }
    let (pass, score) = score_test(&outcomes, test.threshold);
    (outcomes, pass, score)
}

/// A cell that produced no answer.
pub fn failed(index: (usize, usize, usize), error: String) -> ResultRow {
    ResultRow {
        prompt: index.0,
        provider: index.1,
        test: index.2,
        output: String::new(),
        error: Some(error),
        pass: false,
        score: 0.0,
        assertions: "[]".into(),
        latency_ms: None,
        prompt_tokens: None,
        completion_tokens: None,
        cost_usd: None,
        cached: false,
    }
}
