//! The headless face of Parley: same binary, same database, no display needed.
//! Nothing here touches GTK or the webview.

use std::io::Read;
use std::sync::Arc;

use clap::{Parser, Subcommand};

#[macro_use]
mod term;

mod arena;
mod ask;
mod attach;
mod backups;
mod conversations;
mod eval;
mod export;
mod import;
mod judge;
mod key;
mod leaderboard;
mod params;
mod profiles;
mod prompts;
mod restore;
mod rubrics;
mod search;

pub use ask::stats_line;
pub use judge::verdict_line;

use parley_core::chat::{ChatService, EnvFallback, KeyPrefetch};
use parley_core::error::Result;
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
        else OPENAI_BASE_URL, else https://api.openai.com/v1.\n\n\
        On a terminal, text from models and servers (replies, errors, judge reasoning, prompts) is \
        printed with its control characters escaped (\\x1b, \\r…), so it cannot clear the screen, \
        set the clipboard or the title, or hide a link. When stdout is not a terminal (a pipe or a \
        file), the bytes are exact."
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
    /// On a terminal, control characters in the reply are shown escaped; into a pipe, the exact bytes.
    Ask(Box<ask::Args>),
    /// Manage the API key of a profile in the system keyring.
    Key(key::Args),
    /// Manage provider profiles (OpenAI, Azure OpenAI, any OpenAI-compatible server).
    Profiles {
        #[command(subcommand)]
        action: Box<profiles::Action>,
    },
    /// List the database backups (taken before each upgrade, and daily while the window is open).
    Backups,
    /// The saved prompt library.
    Prompts {
        #[command(subcommand)]
        action: prompts::Action,
    },
    /// The leaderboard from every vote: Bradley–Terry ratings with bootstrap 95% intervals, battle
    /// counts and win rates (online Elo beside), the same numbers as the window.
    Leaderboard(leaderboard::Args),
    /// One blind arena round: two models picked at random from the pool answer the prompt, you
    /// vote (a, b, tie or bad, read from stdin), then their names are shown.
    Arena(arena::Args),
    /// Put a backup in place of the database; the current file is moved aside, never overwritten.
    /// Close the Parley window first.
    Restore(restore::Args),
    /// Have a model judge replies: a 1–10 grade each, or with --pairwise, which of two replies to
    /// the same message is better (judged in both orders; disagreement is shown as inconsistent).
    ///
    /// One line per verdict: reply id(s), model(s), score or winner, consistency, reasoning.
    /// Exit codes: 0 every verdict was given, 1 some failed (the failures are stored and printed).
    Judge(judge::Args),
    /// The judge's rubrics (editable; saving one again adds a new version).
    Rubrics {
        #[command(subcommand)]
        action: rubrics::Action,
    },
    /// Search every message of every conversation (all branches, archived too), newest first.
    ///
    /// One line per hit: conversation id, title, date, model, snippet ([matches] in brackets).
    /// Exit codes: 0 with hits, 1 with none.
    Search(search::Args),
    /// Write conversations out: Markdown to read, or Parley JSON (lossless, for `parley import`).
    Export(export::Args),
    /// Bring conversations in from a Parley JSON or ChatGPT export (`conversations.json`); the format
    /// is detected. All or nothing: exit 1 and nothing changed on a bad file.
    Import(import::Args),
    /// The conversations, with their folders, tags, pins and archive.
    Conversations {
        #[command(subcommand)]
        action: conversations::Action,
    },
    /// Evaluation suites in promptfoo's format (promptfooconfig.yaml): run them, list, show and
    /// compare runs.
    Eval {
        #[command(subcommand)]
        action: eval::Action,
    },
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
        errln!(
            "parley: could not open the window ({}): {error}",
            program.display()
        );
        1
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => status.code().unwrap_or(1),
        Err(error) => {
            errln!(
                "parley: could not open the window ({}): {error}",
                program.display()
            );
            1
        }
    }
}

pub fn run(command: Command) -> i32 {
    // One thread: a command streams one request (or a few, interleaved); blocking work (the
    // keyring, CPU-heavy statistics) goes to the blocking pool. No worker threads to start.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            errln!("parley: {e}");
            return 1;
        }
    };
    let result = runtime.block_on(async {
        match command {
            Command::Ask(args) => ask::run(*args).await,
            Command::Key(args) => key::run(args).await,
            Command::Profiles { action } => profiles::run(*action).await,
            Command::Backups => backups::run(),
            Command::Arena(args) => arena::run(args).await,
            Command::Leaderboard(args) => leaderboard::run(args).await,
            Command::Prompts { action } => prompts::run(action).await,
            Command::Restore(args) => restore::run(args),
            Command::Judge(args) => judge::run(args).await,
            Command::Rubrics { action } => rubrics::run(action),
            Command::Search(args) => search::run(args),
            Command::Export(args) => export::run(args),
            Command::Import(args) => import::run(args),
            Command::Conversations { action } => conversations::run(action),
            Command::Eval { action } => eval::run(action).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            errln!("parley: {e}");
            1
        }
    }
}

pub(crate) fn service() -> Result<ChatService> {
    service_reading_key(None)
}

/// The service; with `Some(profile)` (`Some(None)`: the default one), that profile's key is read
/// from the keyring while the database is checked and opened (`ask`: off its way to the request).
pub(crate) fn service_reading_key(profile: Option<Option<&str>>) -> Result<ChatService> {
    let dir = parley_core::api::data_dir()?;
    let secrets = Arc::new(KeyringStore::new());
    if profile.is_some() {
        secrets.warm_up();
    }
    let ahead = profile.and_then(|p| KeyPrefetch::start(&dir, p, secrets.clone()));
    let (service, notices) = parley_core::open_service(&dir, secrets, EnvFallback::from_env())?;
    if let Some(ahead) = ahead {
        service.adopt_key_prefetch(ahead);
    }
    for n in notices {
        errln!("parley: {n}");
    }
    Ok(service)
}

pub(crate) fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s)
}

/// Shortens a text to one line of at most `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}
