//! `parley key set|clear|status`: a profile's API key in the system keyring (never printed).

use std::io::IsTerminal;

use clap::Subcommand;

use parley_core::chat::KeySource;
use parley_core::error::Result;

use crate::{read_stdin, service};

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Read a key from stdin (typed without echo on a terminal) and store it in the keyring.
    Set,
    /// Remove the stored key.
    Clear,
    /// Say whether a key is stored (never prints it).
    Status,
    /// Let the stored key (saved for another or an unknown server) go to the profile's server.
    Confirm,
}

/// `parley key …`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// The profile whose key this is (default: the default profile).
    #[arg(long, global = true)]
    profile: Option<String>,
}

pub async fn run(args: Args) -> Result<i32> {
    let (action, profile) = (args.action, args.profile.as_deref());
    let service = service()?;
    let id = service.profile_id_by_name(profile)?;
    match action {
        Action::Set => {
            // On a terminal, read without echo so the key stays out of the scrollback.
            let raw = if std::io::stdin().is_terminal() {
                rpassword::prompt_password("API key (not shown): ")?
            } else {
                read_stdin()?
            };
            let view = service.set_key(id, &raw).await?;
            errln!(
                "parley: key stored in the system keyring for profile \"{}\", {} (it is sent to that server only)",
                view.name, view.effective_base_url
            );
        }
        Action::Clear => {
            let view = service.clear_key(id).await?;
            errln!(
                "parley: key of profile \"{}\" removed from the system keyring",
                view.name
            );
        }
        Action::Confirm => {
            let view = service.confirm_key(id).await?;
            errln!(
                "parley: the key of profile \"{}\" is now sent to {} (and nowhere else)",
                view.name,
                view.effective_base_url
            );
        }
        Action::Status => {
            let view = service.profile(id).await?;
            if let Some(e) = view.keyring_error {
                errln!("parley: {e}");
                return Ok(1);
            }
            outln!(
                "{}",
                key_line(
                    view.key_source,
                    view.key_held_for.as_deref(),
                    view.key_unbound
                )
            );
        }
    }
    Ok(0)
}

pub(crate) fn key_line(source: KeySource, held_for: Option<&str>, unbound: bool) -> String {
    match (source, held_for) {
        (KeySource::Keyring, _) => "a key is stored".to_string(),
        (_, None) if unbound => {
            "a key is stored for an unknown server (not sent; `parley key confirm` sends it here)"
                .to_string()
        }
        (_, Some(origin)) => format!("a key is stored for {origin}, not for this server"),
        (KeySource::Env, None) => "no key stored (OPENAI_API_KEY is used)".to_string(),
        (KeySource::None, None) => "no key stored".to_string(),
    }
}
