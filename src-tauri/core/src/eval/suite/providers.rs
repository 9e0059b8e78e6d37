//! Providers as promptfoo writes them: `openai:chat:MODEL`, `openai:completion:MODEL`,
//! `openai:MODEL` (chat) and Parley's `parley:PROFILE:MODEL`, with their `config`.

use serde::Deserialize;

use super::yaml::StrOrMap;
use super::{Api, Provider, Target};
use crate::params::Params;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ProviderConfig {
    #[serde(default, rename = "apiBaseUrl")]
    api_base_url: Option<String>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    max_tokens: Option<i64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    frequency_penalty: Option<f64>,
    #[serde(default)]
    presence_penalty: Option<f64>,
    #[serde(default)]
    stop: Option<Vec<String>>,
    #[serde(default)]
    seed: Option<i64>,
    #[serde(default)]
    logprobs: Option<bool>,
    #[serde(default)]
    top_logprobs: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderMap {
    id: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    config: Option<ProviderConfig>,
}

/// `openai:chat:MODEL` → (api, model, target).
fn parse_provider_id(id: &str) -> std::result::Result<(Api, String, Target), String> {
    let unsupported = || {
        format!(
            "the provider `{id}` is not supported by Parley (use openai:chat:MODEL, \
             openai:completion:MODEL or parley:PROFILE:MODEL)"
        )
    };
    let openai = Target::OpenAi { base_url: None };
    let (api, model, target) = if let Some(rest) = id.strip_prefix("openai:") {
        if let Some(m) = rest.strip_prefix("chat:") {
            (Api::Chat, m, openai)
        } else if let Some(m) = rest.strip_prefix("completion:") {
            (Api::Completion, m, openai)
        } else if rest.contains(':') {
            return Err(unsupported());
        } else {
            (Api::Chat, rest, openai)
        }
    } else if let Some(rest) = id.strip_prefix("parley:") {
        let (profile, model) = rest.split_once(':').ok_or_else(unsupported)?;
        let (api, model) = match model.strip_prefix("completion:") {
            Some(m) => (Api::Completion, m),
            None => (Api::Chat, model.strip_prefix("chat:").unwrap_or(model)),
        };
        let name = profile.to_string();
        (api, model, Target::Profile { name })
    } else {
        return Err(unsupported());
    };
    if model.trim().is_empty() {
        return Err(format!("the provider `{id}` names no model"));
    }
    Ok((api, model.to_string(), target))
}

impl StrOrMap for Provider {
    type Map = ProviderMap;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Provider::from_map(ProviderMap {
            id: s.to_string(),
            label: None,
            config: None,
        })
    }
    fn from_map(m: ProviderMap) -> std::result::Result<Self, String> {
        let (api, model, mut target) = parse_provider_id(&m.id)?;
        let c = m.config.unwrap_or_default();
        if let Some(url) = c.api_base_url {
            match &mut target {
                Target::OpenAi { base_url } => *base_url = Some(url),
                Target::Profile { .. } => {
                    return Err("`apiBaseUrl` is for openai: providers; a parley: provider \
                                uses its profile's server"
                        .into())
                }
            }
        }
        let params = Params {
            temperature: c.temperature,
            max_tokens: c.max_tokens,
            top_p: c.top_p,
            frequency_penalty: c.frequency_penalty,
            presence_penalty: c.presence_penalty,
            stop: c.stop,
            seed: c.seed,
            // Token probabilities through the one parameter table (what `perplexity` needs).
            logprobs: (c.logprobs.unwrap_or(false) || c.top_logprobs.is_some())
                .then(|| crate::params::Logprobs(c.top_logprobs.unwrap_or(0))),
            ..Default::default()
        }
        .validate()
        .map_err(|e| e.to_string())?;
        Ok(Provider {
            label: m.label.unwrap_or_else(|| m.id.clone()),
            id: m.id,
            api,
            model,
            target,
            params,
            logprobs: c.logprobs.unwrap_or(false) || c.top_logprobs.is_some(),
            top_logprobs: c.top_logprobs,
        })
    }
}
