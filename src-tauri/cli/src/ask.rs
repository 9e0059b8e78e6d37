//! `parley ask`: one message, the reply streamed to stdout, both saved.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use parley_core::api::{ConversationSettings, Status};
use parley_core::chat::{ChatEvent, ChatService, SendRequest};
use parley_core::error::{Error, Result};
use parley_core::params::ResponseFormat;

use crate::params::ParamArgs;
use crate::read_stdin;
use parley_core::params::Params;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model to use (default: the conversation's, then the profile's default model).
    #[arg(long, short)]
    model: Option<String>,
    /// Base URL of an OpenAI-compatible API for this request only, e.g. http://127.0.0.1:8080/v1.
    #[arg(long)]
    base_url: Option<String>,
    /// The provider profile to use (saved on the conversation; default: the default profile).
    #[arg(long)]
    profile: Option<String>,
    /// System prompt for the conversation.
    #[arg(long, short)]
    system: Option<String>,
    /// The request parameters (temperature, top_p, stop…), from the table in core's params.rs.
    #[command(flatten)]
    params: ParamArgs<false>,
    /// Which API to call: chat (/v1/chat/completions), completions (the legacy /v1/completions,
    /// prompt in, text out) or responses (/v1/responses).
    #[arg(long, value_enum)]
    endpoint: Option<Endpoint>,
    /// Print tokens, time to first token, speed and cost to stderr after the reply.
    #[arg(long)]
    stats: bool,
    /// Ask for JSON following the JSON Schema in FILE (strict mode; or a file holding
    /// {"name", "schema", "strict"}). The reply is printed; when it does not validate, the errors
    /// go to stderr and the exit code is 3.
    #[arg(long, value_name = "FILE", conflicts_with = "json_object")]
    json_schema: Option<std::path::PathBuf>,
    /// Ask for a JSON object (JSON mode); a reply that is not one exits with code 3.
    #[arg(long)]
    json_object: bool,
    /// Also print the model's reasoning (reasoning_content, or a leading <think> block) to
    /// stderr as it streams; stdout gets only the answer either way.
    #[arg(long)]
    reasoning: bool,
    /// Images and text files sent with the message.
    #[command(flatten)]
    attach: crate::attach::AttachArgs,
    /// Send a saved prompt (its newest version) instead of a typed message; fill its variables
    /// with --var. Its system prompt and preset model apply unless given here.
    #[arg(long = "prompt", value_name = "NAME")]
    saved_prompt: Option<String>,
    /// A value for a saved prompt's variable: --var topic="sea turtles" (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", requires = "saved_prompt")]
    vars: Vec<String>,
    /// Continue the most recent conversation instead of starting a new one.
    #[arg(long = "continue", short = 'c')]
    continue_last: bool,
    /// The message. Read from stdin when absent or "-".
    prompt: Option<String>,
}

/// The conversation `ask` writes to, with the command line's settings applied. Everything is
/// checked first, so a bad flag or an empty prompt leaves no empty conversation behind.
fn conversation_for(service: &ChatService, args: &Args, prompt: &str) -> Result<i64> {
    parley_core::chat::clean_content(prompt)?;
    if let Some(e) = args.endpoint {
        // Before anything is saved, when the endpoint is the command line's.
        args.params.params.check_endpoint(e.into())?;
    }
    let profile_id = service.profile_id_by_name(args.profile.as_deref())?;
    if let Some(url) = &args.base_url {
        let url = parley_core::openai::client::parse_base_url(url)?;
        if let Some(warning) = parley_core::openai::client::insecure_warning(&url) {
            errln!("parley: warning: {warning}");
        }
    }
    let format = response_format(args)?;
    // A parameter given here that the endpoint refuses is an error, not silently dropped; with
    // --continue, the endpoint may be the conversation's (then nothing is changed).
    let refused = std::cell::RefCell::new(None);
    let edit = |edited: &mut ConversationSettings| {
        let a = args;
        let endpoint = a.endpoint.map_or(edited.endpoint, Into::into);
        if let Err(e) = a.params.params.check_endpoint(endpoint) {
            *refused.borrow_mut() = Some(e);
            return;
        }
        let mut settings = std::mem::take(edited);
        settings.system_prompt = a.system.clone().unwrap_or(settings.system_prompt);
        settings.model = a.model.clone().or(settings.model);
        settings.params = Params::merge(&a.params.params, &settings.params);
        settings.endpoint = endpoint;
        if format.is_some() {
            settings.params.response_format = format;
        }
        *edited = settings;
    };
    let conv = service.start_or_continue(args.continue_last, profile_id, edit)?;
    match refused.into_inner() {
        Some(e) => Err(e),
        None => Ok(conv.id),
    }
}

/// The largest schema file read (the schema itself is limited by the core).
const MAX_SCHEMA_FILE: u64 = 1024 * 1024;

/// `--json-object` / `--json-schema FILE`: a bare JSON Schema (strict, named after the file) or
/// the `{"name", "schema", "strict"}` object. The core checks it before anything is saved.
fn response_format(args: &Args) -> Result<Option<ResponseFormat>> {
    if args.json_object {
        return Ok(Some(ResponseFormat::JsonObject));
    }
    let Some(path) = &args.json_schema else {
        return Ok(None);
    };
    let bad = |why: String| Error::invalid(format!("--json-schema {}: {why}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if size > MAX_SCHEMA_FILE {
        return Err(bad(format!("larger than {} KB", MAX_SCHEMA_FILE / 1024)));
    }
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if value.get("schema").is_some_and(|s| s.is_object()) && value.get("name").is_some() {
        let mut wrapped = value;
        wrapped["type"] = "json_schema".into();
        return serde_json::from_value(wrapped)
            .map(Some)
            .map_err(|e| bad(e.to_string()));
    }
    let stem: String = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect();
    Ok(Some(ResponseFormat::JsonSchema {
        name: if stem.is_empty() {
            "schema".into()
        } else {
            stem
        },
        description: String::new(),
        schema: value,
        strict: true,
    }))
}

/// Ctrl+C stops the reply (the partial text is saved); a second Ctrl+C, or one before the reply
/// has started, quits at once.
pub(crate) fn stop_on_ctrl_c(service: Arc<ChatService>, stream_id: String) {
    tokio::spawn(async move {
        let mut stopping = false;
        while tokio::signal::ctrl_c().await.is_ok() {
            if stopping || !service.cancel(&stream_id) {
                errln!("parley: interrupted");
                std::process::exit(130);
            }
            stopping = true;
        }
    });
}

/// `--prompt NAME --var k=v`: the saved prompt's newest version, filled; its system prompt and
/// preset model apply unless given on the command line.
fn saved_prompt(service: &ChatService, args: &mut Args, name: &str) -> Result<(String, i64)> {
    use parley_core::prompts::{builtins_now, variables};
    if args.prompt.is_some() {
        return Err(parley_core::error::Error::invalid(
            "Give either a message or --prompt NAME, not both.",
        ));
    }
    let p = service.prompt(name)?;
    let mut values = std::collections::HashMap::new();
    for kv in &args.vars {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(parley_core::error::Error::invalid(format!(
                "--var takes KEY=VALUE (got {kv:?})."
            )));
        };
        values.insert(k.trim().to_string(), v.to_string());
    }
    let clipboard = values.remove("clipboard");
    let text = variables::fill(&p.latest.draft.body, &values, &builtins_now(clipboard))?;
    if args.system.is_none() && !p.latest.draft.system_prompt.is_empty() {
        args.system = Some(p.latest.draft.system_prompt.clone());
    }
    if args.model.is_none() {
        args.model = p
            .latest
            .draft
            .preset
            .as_ref()
            .and_then(|preset| preset.model.clone());
    }
    Ok((text, p.latest.id))
}

/// `--endpoint`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Endpoint {
    /// /v1/chat/completions
    Chat,
    /// the legacy /v1/completions: prompt in, text out
    Completions,
    /// /v1/responses: the history as input items, nothing kept on the server
    Responses,
}

impl From<Endpoint> for parley_core::api::EndpointKind {
    fn from(e: Endpoint) -> Self {
        match e {
            Endpoint::Chat => Self::Chat,
            Endpoint::Completions => Self::Completions,
            Endpoint::Responses => Self::Responses,
        }
    }
}

pub async fn run(mut args: Args) -> Result<i32> {
    // The key is read from the keyring while the database is checked and the conversation and
    // the message are written (the profile of a continued conversation is only known from it:
    // then the read comes later, as before).
    let ahead = (args.profile.is_some() || !args.continue_last).then_some(args.profile.as_deref());
    let service = Arc::new(crate::service_reading_key(ahead)?);
    parley_core::trace("database open");
    let mut prompt_version_id = None;
    let prompt = match (args.saved_prompt.clone(), args.prompt.as_deref()) {
        (Some(name), _) => {
            let (text, version) = saved_prompt(&service, &mut args, &name)?;
            prompt_version_id = Some(version);
            text
        }
        (None, None | Some("-")) => {
            if std::io::stdin().is_terminal() {
                errln!("parley: type your message, then Ctrl+D");
            }
            read_stdin()?
        }
        (None, Some(p)) => p.to_string(),
    };
    let (images, files) = crate::attach::load(&service, &args.attach).await?;
    let conversation_id = conversation_for(&service, &args, &prompt)?;
    let stream_id = format!("cli-{}", std::process::id());
    stop_on_ctrl_c(service.clone(), stream_id.clone());
    let request = SendRequest {
        conversation_id,
        content: prompt,
        stream_id: Some(stream_id),
        base_url: args.base_url,
        prompt_version_id,
        images,
        files,
        ..Default::default()
    };
    let stdout = std::io::stdout();
    let first_token = std::sync::Once::new();
    let show_reasoning = args.reasoning;
    // Reasoning was printed and its line not ended yet.
    let reasoned = std::sync::atomic::AtomicBool::new(false);
    // One choice streams live; several are printed one after the other, each under a header.
    let live = std::sync::Mutex::new(None::<i64>);
    let settings = service.conversation(conversation_id)?.settings;
    let several = (settings.params.for_endpoint(settings.endpoint).n).is_some_and(|n| n > 1);
    let replies = service
        .send_all(request, |event| match event {
            ChatEvent::Started {
                assistant_message_id,
                ..
            } => {
                parley_core::trace("message saved, request starting");
                live.lock().unwrap().get_or_insert(assistant_message_id);
            }
            ChatEvent::Reasoning { reply_id, text }
                if show_reasoning && !several && *live.lock().unwrap() == Some(reply_id) =>
            {
                let mut err = std::io::stderr().lock();
                let _ = err
                    .write_all(crate::term::err(&text).as_bytes())
                    .and_then(|_| err.flush());
                reasoned.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            ChatEvent::Delta { reply_id, text } => {
                first_token.call_once(|| parley_core::trace("first token"));
                if reasoned.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    // The reasoning on stderr ends before the answer begins.
                    eprintln!();
                }
                if !several && *live.lock().unwrap() == Some(reply_id) {
                    let mut out = stdout.lock();
                    let _ = out
                        .write_all(crate::term::out(&text).as_bytes())
                        .and_then(|_| out.flush());
                }
            }
            ChatEvent::Retrying {
                attempt,
                max_attempts,
                delay_ms,
                reason,
                ..
            } => {
                errln!("parley: {reason} — retrying ({attempt}/{max_attempts}) in {delay_ms} ms")
            }
            _ => {}
        })
        .await?;
    parley_core::trace("reply saved");
    if reasoned.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!();
    }
    if show_reasoning && several {
        for (i, reply) in replies
            .iter()
            .filter(|r| !r.reasoning.is_empty())
            .enumerate()
        {
            errln!(
                "=== reasoning {} ===\n{}",
                i + 1,
                reply.reasoning.trim_end()
            );
        }
    }
    let mut out = stdout.lock();
    if several {
        for (i, reply) in replies.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            let _ = write!(
                out,
                "{sep}=== choice {}/{} ===\n{}",
                i + 1,
                replies.len(),
                crate::term::out(&reply.content)
            );
            if !reply.content.ends_with('\n') {
                let _ = out.write_all(b"\n");
            }
        }
        let _ = out.flush();
    } else if let Some(reply) = replies.first() {
        // On a terminal, end the line; into a pipe, exactly the reply's bytes.
        if out.is_terminal() && !reply.content.is_empty() && !reply.content.ends_with('\n') {
            let _ = out.write_all(b"\n").and_then(|_| out.flush());
        }
    }
    drop(out);
    if args.stats {
        for reply in &replies {
            errln!("parley: {}", stats_line(reply));
        }
    }
    // The worst outcome decides the exit code.
    let mut code = 0;
    for reply in &replies {
        match reply.status {
            Status::Done => {}
            Status::Cancelled => {
                errln!("parley: stopped; the partial reply was saved");
                code = code.max(130);
            }
            _ => {
                errln!(
                    "parley: {}",
                    reply
                        .error_message
                        .clone()
                        .unwrap_or_else(|| "the reply failed".into())
                );
                errln!("parley: your message was saved (conversation {conversation_id})");
                code = if code == 130 { 130 } else { 1 };
            }
        }
    }
    // A reply that is not the JSON asked for: the exact errors, and exit code 3.
    for reply in replies.iter().filter(|r| r.status == Status::Done) {
        if let Some(check) = reply.schema_check.as_ref().filter(|c| !c.valid) {
            errln!("parley: the reply does not validate:");
            for e in &check.errors {
                errln!("  - {e}");
            }
            if code == 0 {
                code = 3;
            }
        }
    }
    Ok(code)
}

/// `--stats`: one line per reply, e.g.
/// `gpt-4o-mini · 12 → 40 tokens · TTFT 230 ms · 1.4 s · 34.8 tok/s · $0.000026`.
pub fn stats_line(m: &parley_core::api::Message) -> String {
    let mut parts = vec![m.model.clone().unwrap_or_else(|| "?".into())];
    if let (Some(p), Some(c)) = (m.prompt_tokens, m.completion_tokens) {
        let counted = if m.tokens_counted {
            " (counted here)"
        } else {
            ""
        };
        parts.push(format!("{p} → {c} tokens{counted}"));
    }
    if let Some(r) = m.reasoning_tokens {
        let cost = m
            .reasoning_cost_usd
            .map(|c| format!(" (${c:.6})"))
            .unwrap_or_default();
        parts.push(format!("{r} reasoning tokens{cost}"));
    }
    // The core's metrics: the window shows the same numbers.
    if let Some(l) = parley_core::eval::metrics::logprob_metric(m.mean_logprob) {
        parts.push(format!(
            "mean logprob {:.3} (perplexity {:.2})",
            l.mean_logprob, l.perplexity
        ));
    }
    if let Some(s) = parley_core::eval::metrics::structured_metric(m.schema_check.as_ref()) {
        parts.push(match s.valid {
            true => "JSON valid".into(),
            false => format!("JSON invalid ({} errors)", s.errors),
        });
    }
    if let Some(t) = m.thinking_ms {
        parts.push(format!("thought {:.1} s", t as f64 / 1000.0));
    }
    if let Some(t) = m.ttft_ms {
        parts.push(format!("TTFT {t} ms"));
    }
    if let Some(t) = m.total_ms {
        parts.push(format!("{:.1} s", t as f64 / 1000.0));
    }
    // The core's one rule: the window shows the same number.
    let rate =
        parley_core::eval::metrics::tokens_per_second(m.completion_tokens, m.ttft_ms, m.total_ms);
    if let Some(rate) = rate {
        parts.push(format!("{rate:.1} tok/s"));
    }
    match m.cost_usd {
        Some(c) => parts.push(format!("${c:.6}")),
        None => parts.push("cost unknown (no price for this model)".into()),
    }
    if let Some(o) = m.omitted {
        parts.push(format!(
            "{o} earlier messages left out to fit the context window"
        ));
    }
    parts.join(" · ")
}
