//! Where requests go: the server's wire dialect, its base URL and key, and the proxy.

use super::*;

/// Which wire dialect a server speaks: where each API path goes and how the key is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Flavor {
    /// OpenAI and every OpenAI-compatible server: `{base}/{path}`, `Authorization: Bearer KEY`.
    #[default]
    OpenAi,
    /// Azure OpenAI: `{resource}/openai/deployments/{deployment}/{path}?api-version=V`, `api-key: KEY`.
    Azure {
        deployment: String,
        api_version: String,
    },
}

/// Where to send a request and with which key.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub base_url: Url,
    pub key: Option<ApiKey>,
    pub flavor: Flavor,
}

impl Endpoint {
    /// An OpenAI(-compatible) endpoint.
    pub fn new(base_url: Url, key: Option<ApiKey>) -> Endpoint {
        Endpoint {
            base_url,
            key,
            flavor: Flavor::OpenAi,
        }
    }

    /// The URL of an API path (`"chat/completions"`, `"completions"` or `"models"`) for this server.
    pub fn url(&self, api_path: &str) -> Url {
        let mut url = self.base_url.clone();
        let base = url.path().trim_end_matches('/').to_string();
        // An Azure resource URL pasted with its `/openai` suffix.
        let base = match &self.flavor {
            Flavor::Azure { .. } => base.strip_suffix("/openai").unwrap_or(&base).to_string(),
            Flavor::OpenAi => base,
        };
        match &self.flavor {
            Flavor::OpenAi => url.set_path(&format!("{base}/{api_path}")),
            Flavor::Azure {
                deployment,
                api_version,
            } => {
                url.set_path(&base);
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.pop_if_empty().push("openai");
                    if api_path != "models" {
                        segments.push("deployments").push(deployment);
                    }
                    segments.extend(api_path.split('/'));
                }
                url.query_pairs_mut()
                    .clear()
                    .append_pair("api-version", api_version);
            }
        }
        url
    }

    /// The header that carries the key (none without a key).
    pub(crate) fn auth_header(&self) -> Result<Option<(HeaderName, HeaderValue)>> {
        let Some(key) = &self.key else {
            return Ok(None);
        };
        let (name, raw) = match self.flavor {
            Flavor::OpenAi => (AUTHORIZATION, format!("Bearer {}", key.expose())),
            Flavor::Azure { .. } => (HeaderName::from_static("api-key"), key.expose().to_string()),
        };
        let mut value = HeaderValue::from_str(&raw)
            .map_err(|_| Error::invalid("The API key contains characters that cannot be sent."))?;
        value.set_sensitive(true);
        Ok(Some((name, value)))
    }
}

/// How requests reach the internet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mode", content = "url", rename_all = "lowercase")]
pub enum Proxy {
    /// The system's proxy settings (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`…), as reqwest reads them.
    #[default]
    System,
    /// Direct connections, whatever the system says.
    None,
    /// This proxy for every request: `http://`, `https://`, `socks5://` or `socks5h://`.
    Custom(String),
}
