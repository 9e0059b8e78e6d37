//! The headless face of Parley: same binary, same database, no display needed.
//! Nothing here touches GTK or the webview.

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use parley_core::chat::{
    ChatEvent, ChatService, EnvFallback, JudgeTarget, KeySource, ProfileUpdate, SendRequest,
};
use parley_core::db::conversations;
use parley_core::db::judging::{JudgeKind, Verdict};
use parley_core::db::messages::Status;
use parley_core::db::profiles::{ProfileDefaults, ProfileKind};
use parley_core::error::Result;
use parley_core::openai::Proxy;
use parley_core::secrets::KeyringStore;

#[derive(Parser, Debug)]
#[command(
    name = "parley",
    version,
    about = "Parley: chat with the OpenAI API or any OpenAI-compatible server.",
    long_about = "Parley: chat with the OpenAI API or any OpenAI-compatible server.\n\n\
        Without a command, opens the Parley window. With a command, runs headless over the same \
        database (PARLEY_DATA_DIR overrides its folder). The API key is read from the system keyring \
        (set it with `parley key set`), else from OPENAI_API_KEY; the server from the saved profile, \
        else OPENAI_BASE_URL, else https://api.openai.com/v1."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Send one message, stream the reply to stdout (and nothing else), and save both.
    ///
    /// Exit codes: 0 done, 1 error (your message is kept), 130 stopped with Ctrl+C (partial reply kept).
    Ask(Box<AskArgs>),
    /// Manage the API key of a profile in the system keyring.
    Key {
        #[command(subcommand)]
        action: KeyAction,
        /// The profile whose key this is (default: the default profile).
        #[arg(long, global = true)]
        profile: Option<String>,
    },
    /// Manage provider profiles (OpenAI, Azure OpenAI, any OpenAI-compatible server).
    Profiles {
        #[command(subcommand)]
        action: Box<ProfilesAction>,
    },
    /// List the database backups (taken before each upgrade, and daily while the window is open).
    Backups,
    /// The saved prompt library.
    Prompts {
        #[command(subcommand)]
        action: PromptsAction,
    },
    /// The leaderboard from every vote: Bradley–Terry ratings with bootstrap 95% intervals, battle
    /// counts and win rates (online Elo beside), the same numbers as the window.
    Leaderboard {
        /// Print the whole result as JSON (with the win-rate matrix).
        #[arg(long)]
        json: bool,
        /// Only votes from the arena or from choices among replies.
        #[arg(long, value_parser = ["arena", "choice"])]
        source: Option<String>,
        /// Only battles where a reply carries this rating tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// One blind arena round: two models picked at random from the pool answer the prompt, you
    /// vote (a, b, tie or bad, read from stdin), then their names are shown.
    Arena {
        /// Models, comma separated (at least two); model@Profile asks another profile.
        #[arg(long, value_delimiter = ',', required = true)]
        pool: Vec<String>,
        /// The prompt.
        prompt: String,
    },
    /// Put a backup in place of the database; the current file is moved aside, never overwritten.
    /// Close the Parley window first.
    Restore {
        /// The backup's name, as `parley backups` lists it.
        name: String,
    },
    /// Have a model judge replies: a 1–10 grade each, or with --pairwise, which of two replies to
    /// the same message is better (judged in both orders; disagreement is shown as inconsistent).
    ///
    /// One line per verdict: reply id(s), model(s), score or winner, consistency, reasoning.
    /// Exit codes: 0 every verdict was given, 1 some failed (the failures are stored and printed).
    Judge(JudgeArgs),
    /// The judge's rubrics (editable; saving one again adds a new version).
    Rubrics {
        #[command(subcommand)]
        action: RubricsAction,
    },
}

#[derive(clap::Args, Debug)]
pub struct JudgeArgs {
    /// Reply ids (as `parley ask` and the app show them).
    #[arg(
        required_unless_present = "conversation",
        conflicts_with = "conversation"
    )]
    ids: Vec<i64>,
    /// Every finished reply of this conversation, all branches.
    #[arg(long)]
    conversation: Option<i64>,
    /// The judge's model (default: the judge profile's default model).
    #[arg(long)]
    judge_model: Option<String>,
    /// The judge's profile (default: the default profile).
    #[arg(long)]
    judge_profile: Option<String>,
    /// The rubric's name (its latest version; default: "default", or "default-pairwise").
    #[arg(long)]
    rubric: Option<String>,
    /// Compare replies in pairs: every two of the given replies (or of the conversation's) that
    /// answer the same message, i.e. siblings. Replies without a sibling are skipped with a note.
    #[arg(long)]
    pairwise: bool,
    /// Print the verdicts as a JSON array instead of lines.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand, Debug)]
pub enum RubricsAction {
    /// The latest version of every rubric.
    List,
    /// Print a rubric's text (its latest version, or --version N).
    Show {
        name: String,
        #[arg(long)]
        version: Option<i64>,
    },
    /// Save a rubric from a file ("-": stdin) as a new version of NAME (version 1 if new).
    Add {
        name: String,
        /// single (a 1–10 grade) or pairwise (which of two is better).
        #[arg(long, value_parser = ["single", "pairwise"])]
        kind: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(clap::Args, Debug)]
pub struct AskArgs {
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
    /// Sampling temperature, 0 to 2.
    #[arg(long, short)]
    temperature: Option<f64>,
    /// Upper bound on the reply's length in tokens.
    #[arg(long)]
    max_tokens: Option<i64>,
    /// Nucleus sampling, 0 to 1.
    #[arg(long)]
    top_p: Option<f64>,
    /// Penalty for tokens by how often they appeared, -2 to 2.
    #[arg(long, allow_hyphen_values = true)]
    frequency_penalty: Option<f64>,
    /// Penalty for tokens that appeared at all, -2 to 2.
    #[arg(long, allow_hyphen_values = true)]
    presence_penalty: Option<f64>,
    /// A sequence where the reply stops (repeat for up to 4).
    #[arg(long, allow_hyphen_values = true)]
    stop: Vec<String>,
    /// Seed for reproducible sampling, where the server supports it.
    #[arg(long, allow_hyphen_values = true)]
    seed: Option<i64>,
    /// How many choices to generate (1–8); each is printed under its own header.
    #[arg(long)]
    n: Option<i64>,
    /// Which API to call: chat (/v1/chat/completions) or completions (the legacy /v1/completions,
    /// prompt in, text out).
    #[arg(long, value_parser = ["chat", "completions"])]
    endpoint: Option<String>,
    /// Print tokens, time to first token, speed and cost to stderr after the reply.
    #[arg(long)]
    stats: bool,
    /// Send a saved prompt (its newest version) instead of a typed message; fill its variables
    /// with --var. Its system prompt and preset model apply unless given here.
    #[arg(long = "prompt", value_name = "NAME")]
    saved_prompt: Option<String>,
    /// A value for a saved prompt's variable: --var topic="sea turtles" (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE")]
    vars: Vec<String>,
    /// Continue the most recent conversation instead of starting a new one.
    #[arg(long = "continue", short = 'c')]
    continue_last: bool,
    /// The message. Read from stdin when absent or "-".
    prompt: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PromptsAction {
    /// List prompts (favourites first, then most used); QUERY searches name, title, text and tags.
    List { query: Option<String> },
    /// Show a prompt's newest version and its variables (--versions: every version).
    Show {
        name: String,
        #[arg(long)]
        versions: bool,
    },
    /// Write the whole library (every version) as Parley JSON to stdout.
    Export,
    /// Import Parley JSON or an act,prompt CSV (awesome-chatgpt-prompts); all or nothing.
    Import { file: std::path::PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum KeyAction {
    /// Read a key from stdin (typed without echo on a terminal) and store it in the keyring.
    Set,
    /// Remove the stored key.
    Clear,
    /// Say whether a key is stored (never prints it).
    Status,
}

// Parsed once per run; the size of the `add` arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum ProfilesAction {
    /// List the profiles: name, kind, URL, default model, whether a key is stored (never the key).
    List,
    /// Add a profile. Its key: `parley key set --profile NAME`.
    Add(ProfileArgs),
    /// Remove a profile and its key; its conversations move to the default profile.
    Remove { name: String },
    /// Make a profile the default one.
    Default { name: String },
}

#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    /// The profile's name (it also names its keyring entry).
    name: String,
    /// openai, azure or compatible.
    #[arg(long, default_value = "compatible")]
    kind: String,
    /// Base URL (compatible / openai) or the Azure resource endpoint (https://NAME.openai.azure.com).
    #[arg(long)]
    base_url: Option<String>,
    /// Azure deployment name.
    #[arg(long)]
    deployment: Option<String>,
    /// Azure api-version (default 2024-10-21).
    #[arg(long)]
    api_version: Option<String>,
    /// Default model.
    #[arg(long, short)]
    model: Option<String>,
    /// Proxy: "system", "none", or a URL (http://, https://, socks5://). Default: the app-wide setting.
    #[arg(long)]
    proxy: Option<String>,
    /// Connect timeout in seconds.
    #[arg(long)]
    connect_timeout: Option<f64>,
    /// Longest silence between two chunks of a reply, in seconds.
    #[arg(long)]
    idle_timeout: Option<f64>,
    /// Default temperature, 0 to 2.
    #[arg(long)]
    temperature: Option<f64>,
    /// Default top_p, 0 to 1.
    #[arg(long)]
    top_p: Option<f64>,
    /// Default max tokens.
    #[arg(long)]
    max_tokens: Option<i64>,
    /// Make it the default profile.
    #[arg(long = "default")]
    make_default: bool,
}

/// `None` when Parley should open its window.
pub fn parse() -> Option<Command> {
    Cli::parse().command
}

/// Entry point of the `parley` binary: a subcommand runs headless; none opens the window by running
/// `parley-desktop`, installed beside this binary (as `code` does).
pub fn main() -> i32 {
    parley_core::trace("start");
    match parse() {
        Some(command) => run(command),
        None => open_window(),
    }
}

/// Runs `parley-desktop` from the folder of this binary (or the PATH), passing the exit code on.
fn open_window() -> i32 {
    let name = format!("parley-desktop{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file());
    let program = beside.unwrap_or_else(|| std::path::PathBuf::from(&name));
    let mut command = std::process::Command::new(&program);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!(
            "parley: could not open the window ({}): {error}",
            program.display()
        );
        1
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(error) => {
            eprintln!(
                "parley: could not open the window ({}): {error}",
                program.display()
            );
            1
        }
    }
}

pub fn run(command: Command) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("parley: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Ask(args) => ask(*args).await,
            Command::Key { action, profile } => key(action, profile.as_deref()).await,
            Command::Profiles { action } => profiles_cmd(*action).await,
            Command::Backups => backups(),
            Command::Arena { pool, prompt } => arena(pool, prompt).await,
            Command::Leaderboard { json, source, tag } => leaderboard(json, source, tag),
            Command::Prompts { action } => prompts_cmd(action),
            Command::Restore { name } => restore(&name),
            Command::Judge(args) => judge(args).await,
            Command::Rubrics { action } => rubrics(action),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("parley: {e}");
            1
        }
    }
}

fn service() -> Result<ChatService> {
    let dir = parley_core::db::data_dir()?;
    let (service, notices) =
        parley_core::open_service(&dir, Arc::new(KeyringStore::new()), EnvFallback::from_env())?;
    for n in notices {
        eprintln!("parley: {n}");
    }
    Ok(service)
}

fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s)
}

/// The conversation `ask` writes to, with the command line's settings applied. Everything is
/// checked first, so a bad flag or an empty prompt leaves no empty conversation behind.
fn conversation_for(service: &ChatService, args: &AskArgs, prompt: &str) -> Result<i64> {
    parley_core::chat::clean_content(prompt)?;
    let profile_id = service.profile_id_by_name(args.profile.as_deref())?;
    if let Some(url) = &args.base_url {
        let url = parley_core::openai::client::parse_base_url(url)?;
        if let Some(warning) = parley_core::openai::client::insecure_warning(&url) {
            eprintln!("parley: warning: {warning}");
        }
    }
    service.db().with(|c| {
        let tx = c.transaction()?;
        let existing = match args.continue_last {
            true => conversations::latest(&tx)?,
            false => None,
        };
        let mut settings = existing
            .as_ref()
            .map(|conv| conv.settings.clone())
            .unwrap_or_default();
        let a = args;
        settings.system_prompt = a.system.clone().unwrap_or(settings.system_prompt);
        settings.model = a.model.clone().or(settings.model);
        settings.temperature = a.temperature.or(settings.temperature);
        settings.max_tokens = a.max_tokens.or(settings.max_tokens);
        settings.top_p = a.top_p.or(settings.top_p);
        settings.frequency_penalty = a.frequency_penalty.or(settings.frequency_penalty);
        settings.presence_penalty = a.presence_penalty.or(settings.presence_penalty);
        if !a.stop.is_empty() {
            settings.stop = a.stop.clone();
        }
        settings.seed = a.seed.or(settings.seed);
        settings.n = a.n.or(settings.n);
        if let Some(e) = &a.endpoint {
            settings.endpoint = parley_core::db::conversations::EndpointKind::parse(e)?;
        }
        let id = match existing {
            Some(conv) => conversations::update_settings(&tx, conv.id, settings)?.id,
            None => conversations::create(&tx, Some(settings))?.id,
        };
        if profile_id.is_some() {
            conversations::set_profile(&tx, id, profile_id)?;
        }
        tx.commit()?;
        Ok(id)
    })
}

/// Ctrl+C stops the reply (the partial text is saved); a second Ctrl+C, or one before the reply
/// has started, quits at once.
fn stop_on_ctrl_c(service: Arc<ChatService>, stream_id: String) {
    tokio::spawn(async move {
        let mut stopping = false;
        while tokio::signal::ctrl_c().await.is_ok() {
            if stopping || !service.cancel(&stream_id) {
                eprintln!("parley: interrupted");
                std::process::exit(130);
            }
            stopping = true;
        }
    });
}

/// `--prompt NAME --var k=v`: the saved prompt's newest version, filled; its system prompt and
/// preset model apply unless given on the command line.
fn saved_prompt(service: &ChatService, args: &mut AskArgs, name: &str) -> Result<(String, i64)> {
    use parley_core::prompts::{builtins_now, library, variables};
    if args.prompt.is_some() {
        return Err(parley_core::error::Error::invalid(
            "Give either a message or --prompt NAME, not both.",
        ));
    }
    let p = service.db().with(|c| library::get(c, name))?;
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
            .and_then(|preset| preset["model"].as_str())
            .map(str::to_string);
    }
    Ok((text, p.latest.id))
}

async fn ask(mut args: AskArgs) -> Result<i32> {
    let service = Arc::new(service()?);
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
                eprintln!("parley: type your message, then Ctrl+D");
            }
            read_stdin()?
        }
        (None, Some(p)) => p.to_string(),
    };
    let conversation_id = conversation_for(&service, &args, &prompt)?;
    let stream_id = format!("cli-{}", std::process::id());
    stop_on_ctrl_c(service.clone(), stream_id.clone());
    let request = SendRequest {
        conversation_id,
        content: prompt,
        stream_id: Some(stream_id),
        base_url: args.base_url,
        prompt_version_id,
        ..Default::default()
    };
    let stdout = std::io::stdout();
    let first_token = std::sync::Once::new();
    // One choice streams live; several are printed one after the other, each under a header.
    let live = std::sync::Mutex::new(None::<i64>);
    let several = service
        .db()
        .with(|c| conversations::get(c, conversation_id))?
        .settings
        .n
        .is_some_and(|n| n > 1);
    let replies = service
        .send_all(request, |event| match event {
            ChatEvent::Started {
                assistant_message_id,
                ..
            } => {
                parley_core::trace("message saved, request starting");
                live.lock().unwrap().get_or_insert(assistant_message_id);
            }
            ChatEvent::Delta { reply_id, text } => {
                first_token.call_once(|| parley_core::trace("first token"));
                if !several && *live.lock().unwrap() == Some(reply_id) {
                    let mut out = stdout.lock();
                    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
                }
            }
            ChatEvent::Retrying {
                attempt,
                delay_ms,
                reason,
                ..
            } => {
                eprintln!("parley: {reason} — retrying ({attempt}/2) in {delay_ms} ms")
            }
            _ => {}
        })
        .await?;
    parley_core::trace("reply saved");
    let mut out = stdout.lock();
    if several {
        for (i, reply) in replies.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            let _ = write!(
                out,
                "{sep}=== choice {}/{} ===\n{}",
                i + 1,
                replies.len(),
                reply.content
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
            eprintln!("parley: {}", stats_line(reply));
        }
    }
    // The worst outcome decides the exit code.
    let mut code = 0;
    for reply in &replies {
        match reply.status {
            Status::Done => {}
            Status::Cancelled => {
                eprintln!("parley: stopped; the partial reply was saved");
                code = code.max(130);
            }
            _ => {
                eprintln!(
                    "parley: {}",
                    reply
                        .error_message
                        .clone()
                        .unwrap_or_else(|| "the reply failed".into())
                );
                eprintln!("parley: your message was saved (conversation {conversation_id})");
                code = if code == 130 { 130 } else { 1 };
            }
        }
    }
    Ok(code)
}

/// `--stats`: one line per reply, e.g.
/// `gpt-4o-mini · 12 → 40 tokens · TTFT 230 ms · 1.4 s · 34.8 tok/s · $0.000026`.
pub fn stats_line(m: &parley_core::db::messages::Message) -> String {
    let mut parts = vec![m.model.clone().unwrap_or_else(|| "?".into())];
    if let (Some(p), Some(c)) = (m.prompt_tokens, m.completion_tokens) {
        let counted = if m.tokens_counted {
            " (counted here)"
        } else {
            ""
        };
        parts.push(format!("{p} → {c} tokens{counted}"));
    }
    if let Some(t) = m.ttft_ms {
        parts.push(format!("TTFT {t} ms"));
    }
    if let Some(t) = m.total_ms {
        parts.push(format!("{:.1} s", t as f64 / 1000.0));
    }
    if let Some(rate) = tokens_per_second(m) {
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

/// Completion tokens per second of generation (after the first token).
pub fn tokens_per_second(m: &parley_core::db::messages::Message) -> Option<f64> {
    let tokens = m.completion_tokens? as f64;
    let gen_ms = (m.total_ms? - m.ttft_ms.unwrap_or(0)) as f64;
    // Below 50 ms of generation the rate says nothing.
    (tokens > 1.0 && gen_ms >= 50.0).then(|| (tokens - 1.0) * 1000.0 / gen_ms)
}

fn prompts_cmd(action: PromptsAction) -> Result<i32> {
    use parley_core::prompts::{library, transfer};
    let service = service()?;
    let db = service.db();
    let mut out = std::io::stdout().lock();
    match action {
        PromptsAction::List { query } => {
            let list =
                db.with(|c| library::list(c, query.as_deref().unwrap_or(""), library::Sort::Uses))?;
            for p in list {
                let star = if p.favourite { "★ " } else { "" };
                let vars: Vec<&str> = p
                    .variables
                    .variables
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect();
                let _ = writeln!(
                    out,
                    "{star}{}\tv{}\t{} uses\t{}{}",
                    p.name,
                    p.latest.version,
                    p.use_count,
                    p.latest.draft.title,
                    if vars.is_empty() {
                        String::new()
                    } else {
                        format!("\t{{{{{}}}}}", vars.join("}}, {{"))
                    }
                );
            }
        }
        PromptsAction::Show { name, versions } => {
            let p = db.with(|c| library::get(c, &name))?;
            let list = if versions {
                db.with(|c| library::versions(c, &name))?
            } else {
                vec![p.latest.clone()]
            };
            for v in list {
                let _ = writeln!(
                    out,
                    "=== {} v{} — {} {}",
                    p.name, v.version, v.draft.title, v.message
                );
                if !v.draft.system_prompt.is_empty() {
                    let _ = writeln!(out, "[system] {}", v.draft.system_prompt);
                }
                let _ = writeln!(out, "{}", v.draft.body);
            }
        }
        PromptsAction::Export => {
            let _ = writeln!(out, "{}", db.with(|c| transfer::export_json(c))?);
        }
        PromptsAction::Import { file } => {
            let text = std::fs::read_to_string(&file)?;
            let report = db.with(|c| transfer::import(c, &text))?;
            eprintln!(
                "parley: imported {} prompt(s); {} duplicate(s) left as they were{}",
                report.imported.len(),
                report.duplicates.len(),
                if report.duplicates.is_empty() {
                    String::new()
                } else {
                    format!(": {}", report.duplicates.join(", "))
                }
            );
        }
    }
    Ok(0)
}

fn leaderboard(json: bool, source: Option<String>, tag: Option<String>) -> Result<i32> {
    use parley_core::eval::arena::{self, BattleFilter, Source};
    let service = service()?;
    let db = service.db();
    let filter = BattleFilter {
        source: source.map(|s| {
            if s == "choice" {
                Source::Choice
            } else {
                Source::Arena
            }
        }),
        tag,
        ..Default::default()
    };
    let options = parley_core::eval::stats::LeaderboardOptions::default();
    let board = db.with(|c| arena::leaderboard(c, &filter, &options))?;
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&board).unwrap_or_default()
        );
        return Ok(0);
    }
    if board.rows.is_empty() {
        eprintln!("parley: no votes yet (parley arena, or continue from one of several models side by side)");
        return Ok(0);
    }
    let _ = writeln!(
        out,
        "{:>3}  {:<32} {:>7}  {:>15}  {:>7}  {:>11}  {:>6}  {:>6}",
        "#", "model", "rating", "95% interval", "battles", "W/L/T", "win %", "elo"
    );
    let ci = |x: Option<f64>| x.map(|v| format!("{v:.0}")).unwrap_or_else(|| "—".into());
    for r in &board.rows {
        let _ = writeln!(
            out,
            "{:>3}  {:<32} {:>7.0}  {:>15}  {:>7}  {:>11}  {:>5.1}%  {:>6.0}",
            r.rank,
            r.model,
            r.rating,
            format!("{} – {}", ci(r.ci_low), ci(r.ci_high)),
            r.battles,
            format!("{}/{}/{}", r.wins, r.losses, r.ties),
            r.win_rate * 100.0,
            r.elo
        );
    }
    let _ = writeln!(
        out,
        "{} battle{}; Bradley–Terry maximum likelihood, {} bootstrap rounds; both-bad votes count as {:?}",
        board.total_battles,
        if board.total_battles == 1 { "" } else { "s" },
        options.bootstrap_rounds,
        options.both_bad
    );
    Ok(0)
}

/// `parley arena`: prints reply A and reply B (no names), reads the vote, reveals the models.
async fn arena(pool: Vec<String>, prompt: String) -> Result<i32> {
    use parley_core::chat::arena::{ArenaEntry, ArenaRequest};
    use parley_core::eval::arena::Winner;
    let service = Arc::new(service()?);
    let mut entries = Vec::new();
    for item in pool.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        // model@Profile when Profile names a profile; otherwise the whole text is the model.
        let named = item.rsplit_once('@').and_then(|(model, profile)| {
            let id = service.profile_id_by_name(Some(profile.trim())).ok()??;
            Some((model.trim().to_string(), id))
        });
        entries.push(match named {
            Some((model, id)) => ArenaEntry {
                model,
                profile_id: Some(id),
            },
            None => ArenaEntry {
                model: item.to_string(),
                profile_id: None,
            },
        });
    }
    let ids = [
        format!("arena-a-{}", std::process::id()),
        format!("arena-b-{}", std::process::id()),
    ];
    let stopper = service.clone();
    let to_stop = ids.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            for id in &to_stop {
                stopper.cancel(id);
            }
        }
    });
    eprintln!("parley: two models are answering…");
    let round = service
        .arena_round(
            ArenaRequest {
                content: prompt,
                pool: entries,
                stream_ids: ids.to_vec(),
            },
            |_| {},
        )
        .await?;
    let mut out = std::io::stdout().lock();
    for (side, reply) in [("A", &round.reply_a), ("B", &round.reply_b)] {
        let note = match reply.status {
            Status::Done => String::new(),
            Status::Cancelled => " (stopped)".into(),
            _ => format!(
                " (failed: {})",
                reply.error_message.clone().unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "=== {side}{note} ===\n{}\n", reply.content.trim_end());
    }
    let _ = out.flush();
    drop(out);
    let interactive = std::io::stdin().is_terminal();
    let winner = loop {
        eprint!("Your vote (a, b, tie, bad): ");
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            eprintln!();
            eprintln!(
                "parley: no vote; the round is kept unvoted (conversation {})",
                round.conversation_id
            );
            return Ok(1);
        }
        match Winner::parse(&line) {
            Ok(w) => break w,
            Err(e) if interactive => eprintln!("parley: {e}"),
            Err(e) => return Err(e),
        }
    };
    let reveal = service.arena_vote(round.battle_id, winner)?;
    println!(
        "A was {} · B was {}",
        reveal.battle.model_a, reveal.battle.model_b
    );
    Ok(0)
}

async fn key(action: KeyAction, profile: Option<&str>) -> Result<i32> {
    let service = service()?;
    let id = service.profile_id_by_name(profile)?;
    match action {
        KeyAction::Set => {
            // On a terminal, read without echo so the key stays out of the scrollback.
            let raw = if std::io::stdin().is_terminal() {
                rpassword::prompt_password("API key (not shown): ")?
            } else {
                read_stdin()?
            };
            let view = service.set_key(id, &raw).await?;
            eprintln!(
                "parley: key stored in the system keyring for profile \"{}\", {} (it is sent to that server only)",
                view.name, view.effective_base_url
            );
        }
        KeyAction::Clear => {
            let view = service.clear_key(id).await?;
            eprintln!(
                "parley: key of profile \"{}\" removed from the system keyring",
                view.name
            );
        }
        KeyAction::Status => {
            let view = service.profile(id).await?;
            if let Some(e) = view.keyring_error {
                eprintln!("parley: {e}");
                return Ok(1);
            }
            println!(
                "{}",
                key_line(view.key_source, view.key_held_for.as_deref())
            );
        }
    }
    Ok(0)
}

fn key_line(source: KeySource, held_for: Option<&str>) -> String {
    match (source, held_for) {
        (KeySource::Keyring, _) => "a key is stored".to_string(),
        (_, Some(origin)) => format!("a key is stored for {origin}, not for this server"),
        (KeySource::Env, None) => "no key stored (OPENAI_API_KEY is used)".to_string(),
        (KeySource::None, None) => "no key stored".to_string(),
    }
}

fn proxy_arg(raw: &str) -> Proxy {
    match raw.trim().to_ascii_lowercase().as_str() {
        "system" => Proxy::System,
        "none" | "direct" => Proxy::None,
        _ => Proxy::Custom(raw.trim().to_string()),
    }
}

fn secs_to_ms(secs: Option<f64>) -> Result<Option<i64>> {
    match secs {
        Some(s) if !s.is_finite() || s <= 0.0 => Err(parley_core::error::Error::invalid(
            "A timeout is a positive number of seconds.",
        )),
        Some(s) => Ok(Some((s * 1000.0).round() as i64)),
        None => Ok(None),
    }
}

async fn profiles_cmd(action: ProfilesAction) -> Result<i32> {
    let service = service()?;
    match action {
        ProfilesAction::List => {
            let overview = service.profiles().await?;
            println!("NAME\tKIND\tURL\tMODEL\tKEY");
            for p in overview.profiles {
                let key = if p.keyring_error.is_some() {
                    "keyring unavailable".to_string()
                } else {
                    key_line(p.key_source, p.key_held_for.as_deref())
                };
                let url = match (&p.azure_deployment, p.kind) {
                    (Some(d), ProfileKind::Azure) => {
                        format!("{} (deployment {d})", p.effective_base_url)
                    }
                    _ => p.effective_base_url.clone(),
                };
                println!(
                    "{}{}\t{}\t{}\t{}\t{}",
                    p.name,
                    if p.is_default { " (default)" } else { "" },
                    p.kind.as_str(),
                    url,
                    p.default_model.as_deref().unwrap_or("-"),
                    key
                );
            }
        }
        ProfilesAction::Add(a) => {
            let update = ProfileUpdate {
                name: Some(a.name.clone()),
                kind: Some(ProfileKind::parse(&a.kind)?),
                base_url: a.base_url,
                default_model: a.model,
                azure_deployment: a.deployment,
                api_version: a.api_version,
                proxy: a.proxy.as_deref().map(proxy_arg),
                connect_timeout_ms: secs_to_ms(a.connect_timeout)?,
                idle_timeout_ms: secs_to_ms(a.idle_timeout)?,
                defaults: ProfileDefaults {
                    temperature: a.temperature,
                    top_p: a.top_p,
                    max_tokens: a.max_tokens,
                    ..Default::default()
                },
            };
            let view = service.create_profile(update).await?;
            if a.make_default {
                service.set_default_profile(view.id).await?;
            }
            if let Some(w) = &view.base_url_warning {
                eprintln!("parley: warning: {w}");
            }
            eprintln!(
                "parley: profile \"{}\" added ({}); set its key with `parley key set --profile {}`",
                view.name, view.effective_base_url, view.name
            );
        }
        ProfilesAction::Remove { name } => {
            let id = service
                .profile_id_by_name(Some(&name))?
                .expect("a name was given");
            service.delete_profile(id).await?;
            eprintln!("parley: profile \"{}\" and its key removed", name.trim());
        }
        ProfilesAction::Default { name } => {
            let id = service
                .profile_id_by_name(Some(&name))?
                .expect("a name was given");
            service.set_default_profile(id).await?;
            eprintln!("parley: \"{}\" is now the default profile", name.trim());
        }
    }
    Ok(0)
}

fn backups() -> Result<i32> {
    let dir = parley_core::db::data_dir()?;
    let list = parley_core::db::backup::list(&dir)?;
    if list.is_empty() {
        eprintln!(
            "parley: no backups yet in {}",
            parley_core::db::backup::dir_of(&dir).display()
        );
    }
    let now = parley_core::db::now_ms();
    for b in list {
        let hours = (now - b.taken_at) as f64 / 3_600_000.0;
        println!(
            "{}\t{:.1} MB\t{:.1} h ago",
            b.name,
            b.bytes as f64 / 1e6,
            hours
        );
    }
    Ok(0)
}

fn restore(name: &str) -> Result<i32> {
    let dir = parley_core::db::data_dir()?;
    let moved = parley_core::db::backup::restore(&dir, name)?;
    eprintln!(
        "parley: restored {name}; the previous database was moved to {}",
        moved.display()
    );
    Ok(0)
}

/// Shortens a text to one line of at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}

/// One verdict as one line: `ID\tMODEL\tRESULT\tCONSISTENCY\tREASONING` (pairs: `A vs B`).
pub fn verdict_line(v: &Verdict) -> String {
    let model = |m: &Option<String>| m.clone().unwrap_or_else(|| "?".into());
    let (ids, models) = match v.other_message_id {
        Some(other) => (
            format!("{} vs {other}", v.message_id),
            format!("{} vs {}", model(&v.reply_model), model(&v.other_model)),
        ),
        None => (v.message_id.to_string(), model(&v.reply_model)),
    };
    if let Some(e) = &v.error {
        return format!("{ids}\t{models}\terror\t-\t{}", one_line(e, 160));
    }
    let result = match (v.score, v.winner.as_deref(), v.other_message_id) {
        (Some(s), _, _) => format!("score {s}/10"),
        (_, Some("a"), _) => format!("winner {}", v.message_id),
        (_, Some("b"), Some(other)) => format!("winner {other}"),
        (_, Some(w), _) => w.to_string(),
        _ => "-".into(),
    };
    let consistency = match v.consistent {
        Some(true) => "consistent",
        Some(false) => "inconsistent (A/B and B/A disagree)",
        None => "-",
    };
    format!(
        "{ids}\t{models}\t{result}\t{consistency}\t{}",
        one_line(v.reasoning.as_deref().unwrap_or(""), 100)
    )
}

async fn judge(args: JudgeArgs) -> Result<i32> {
    let service = service()?;
    let target = JudgeTarget {
        profile_id: service.profile_id_by_name(args.judge_profile.as_deref())?,
        model: args.judge_model.clone(),
    };
    let rubric_id = match &args.rubric {
        Some(name) => Some(service.rubric_by_name(name)?.id),
        None => None,
    };
    let ids = match args.conversation {
        Some(c) => service.replies_of_conversation(c)?,
        None => args.ids.clone(),
    };
    if ids.is_empty() {
        eprintln!("parley: no finished replies to judge");
        return Ok(1);
    }
    let mut verdicts = Vec::new();
    let mut failures = 0;
    let mut report = |label: String, r: Result<Verdict>| match r {
        Ok(v) => {
            failures += usize::from(v.error.is_some());
            verdicts.push(v);
        }
        Err(e) => {
            failures += 1;
            eprintln!("parley: {label}: {e}");
        }
    };
    if args.pairwise {
        let (pairs, alone) = service.sibling_pairs(&ids)?;
        for id in alone {
            eprintln!("parley: reply {id} has no sibling among these replies; not compared");
        }
        for ((a, b), r) in service.judge_pairs(&pairs, rubric_id, &target).await? {
            report(format!("{a} vs {b}"), r);
        }
    } else {
        for (id, r) in service.judge_replies(&ids, rubric_id, &target).await? {
            report(format!("reply {id}"), r);
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&verdicts).unwrap_or_default()
        );
    } else {
        for v in &verdicts {
            let _ = writeln!(out, "{}", verdict_line(v));
        }
    }
    let _ = out.flush();
    Ok(if failures > 0 { 1 } else { 0 })
}

fn rubrics(action: RubricsAction) -> Result<i32> {
    let service = service()?;
    match action {
        RubricsAction::List => {
            println!("NAME\tVERSION\tKIND\tTEXT");
            for r in service.rubrics()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    r.name,
                    r.version,
                    r.kind.as_str(),
                    one_line(&r.body, 60)
                );
            }
        }
        RubricsAction::Show { name, version } => {
            let rubric = match version {
                None => service.rubric_by_name(&name)?,
                Some(v) => service
                    .rubric_versions(&name)?
                    .into_iter()
                    .find(|r| r.version == v)
                    .ok_or_else(|| {
                        parley_core::error::Error::not_found(format!(
                            "version {v} of rubric \"{}\"",
                            name.trim()
                        ))
                    })?,
            };
            eprintln!(
                "parley: {} version {} ({})",
                rubric.name,
                rubric.version,
                rubric.kind.as_str()
            );
            println!("{}", rubric.body);
        }
        RubricsAction::Add { name, kind, file } => {
            let body = if file.as_os_str() == "-" {
                read_stdin()?
            } else {
                std::fs::read_to_string(&file).map_err(|e| parley_core::error::Error::Io {
                    message: format!("{}: {e}", file.display()),
                })?
            };
            let rubric = service.save_rubric(&name, JudgeKind::parse(&kind)?, &body)?;
            eprintln!(
                "parley: saved rubric \"{}\" version {}",
                rubric.name, rubric.version
            );
        }
    }
    Ok(0)
}
