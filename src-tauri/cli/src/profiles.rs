//! `parley profiles list|add|remove|default`: provider profiles.

use clap::Subcommand;

use parley_core::api::ProfileKind;
use parley_core::chat::ProfileUpdate;
use parley_core::error::Result;
use parley_core::openai::Proxy;

use crate::key::key_line;
use crate::params::ParamArgs;
use crate::service;

// Parsed once per run; the size of the `add` arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Action {
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
    #[arg(long, value_enum, default_value_t = Kind::Compatible)]
    kind: Kind,
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
    /// Send requests to servers on this machine (127.0.0.1, ::1, localhost) through the proxy too
    /// (by default they go direct).
    #[arg(long)]
    proxy_local: bool,
    /// Connect timeout in seconds.
    #[arg(long)]
    connect_timeout: Option<f64>,
    /// Longest silence between two chunks of a reply, in seconds.
    #[arg(long)]
    idle_timeout: Option<f64>,
    /// Default request parameters (those a profile can default), from core's params.rs table.
    #[command(flatten)]
    defaults: ParamArgs<true>,
    /// Make it the default profile.
    #[arg(long = "default")]
    make_default: bool,
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

/// `--kind`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Kind {
    Openai,
    Azure,
    Compatible,
}

impl From<Kind> for ProfileKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Openai => ProfileKind::OpenAi,
            Kind::Azure => ProfileKind::Azure,
            Kind::Compatible => ProfileKind::Compatible,
        }
    }
}

pub async fn run(action: Action) -> Result<i32> {
    let service = service()?;
    match action {
        Action::List => {
            let overview = service.profiles().await?;
            outln!("NAME\tKIND\tURL\tMODEL\tKEY");
            for p in overview.profiles {
                let key = if p.keyring_error.is_some() {
                    "keyring unavailable".to_string()
                } else {
                    key_line(p.key_source, p.key_held_for.as_deref(), p.key_unbound)
                };
                let url = match (&p.azure_deployment, p.kind) {
                    (Some(d), ProfileKind::Azure) => {
                        format!("{} (deployment {d})", p.effective_base_url)
                    }
                    _ => p.effective_base_url.clone(),
                };
                outln!(
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
        Action::Add(a) => {
            let update = ProfileUpdate {
                name: Some(a.name.clone()),
                kind: Some(a.kind.into()),
                base_url: a.base_url,
                default_model: a.model,
                azure_deployment: a.deployment,
                api_version: a.api_version,
                proxy: a.proxy.as_deref().map(proxy_arg),
                proxy_local: a.proxy_local.then_some(true),
                connect_timeout_ms: secs_to_ms(a.connect_timeout)?,
                idle_timeout_ms: secs_to_ms(a.idle_timeout)?,
                defaults: a.defaults.params,
            };
            let view = service.create_profile(update).await?;
            if a.make_default {
                service.set_default_profile(view.id).await?;
            }
            if let Some(w) = &view.base_url_warning {
                errln!("parley: warning: {w}");
            }
            errln!(
                "parley: profile \"{}\" added ({}); set its key with `parley key set --profile {}`",
                view.name,
                view.effective_base_url,
                view.name
            );
        }
        Action::Remove { name } => {
            let id = service
                .profile_id_by_name(Some(&name))?
                .expect("a name was given");
            service.delete_profile(id).await?;
            errln!("parley: profile \"{}\" and its key removed", name.trim());
        }
        Action::Default { name } => {
            let id = service
                .profile_id_by_name(Some(&name))?
                .expect("a name was given");
            service.set_default_profile(id).await?;
            errln!("parley: \"{}\" is now the default profile", name.trim());
        }
    }
    Ok(0)
}
