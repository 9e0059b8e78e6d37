//! A request that could not reach its server, said so the user can act: which host, through
//! which proxy (a likely cause then), after how many tries.

use super::*;

/// Whether the environment names a proxy (what `Proxy::System` then uses).
fn system_proxy_set() -> bool {
    [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()))
}

impl Client {
    /// A network error or timeout said so the user can act: which host, through which proxy (a
    /// likely cause then), after how many tries ("no answer from HOST within 4 s, 3 tries").
    pub(super) fn unreachable(&self, err: Error, ep: &Endpoint, tries: u32) -> Error {
        let url = &ep.base_url;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        };
        let via = match &self.options.proxy {
            Proxy::Custom(_) if !self.proxied(url) => String::new(),
            Proxy::Custom(p) => {
                let shown = Url::parse(p)
                    .ok()
                    .and_then(|u| {
                        u.host_str()
                            .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
                    })
                    .unwrap_or_else(|| p.clone());
                format!(" through the proxy {shown}")
            }
            Proxy::System if self.proxied(url) && system_proxy_set() => {
                " through the system proxy".to_string()
            }
            _ => String::new(),
        };
        let tries = if tries == 1 {
            "1 try".to_string()
        } else {
            format!("{tries} tries")
        };
        let hint = if via.is_empty() {
            ""
        } else {
            ". The proxy may be the cause: check it in Settings, or use none for this server"
        };
        match err {
            Error::Timeout { message } if message.starts_with("no answer within") => {
                Error::Timeout {
                    message: format!(
                        "no answer from {host}{via} within {}, {tries}{hint}",
                        seconds(self.options.idle_timeout)
                    ),
                }
            }
            Error::Timeout { message } => Error::Timeout {
                message: format!("{host}{via}: {message} ({tries}){hint}"),
            },
            Error::Network { message } => Error::Network {
                message: format!("{host}{via}: {message} ({tries}){hint}"),
            },
            other => other,
        }
    }
}
