//! Checking the URLs a user types: a server's base URL, a proxy URL, and whether plain http would
//! show the key to the network.

use url::Url;

use crate::error::{Error, Result};

/// Checks a proxy URL typed by the user: a supported scheme and a host, nothing else.
pub fn parse_proxy_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    let url = Url::parse(raw)
        .map_err(|e| Error::invalid(format!("\"{raw}\" is not a proxy URL ({e}).")))?;
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") || url.host_str().is_none()
    {
        return Err(Error::invalid(format!(
            "A proxy URL starts with http://, https://, socks5:// or socks5h:// and names a host (got \"{raw}\")."
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !matches!(url.path(), "" | "/") {
        return Err(Error::invalid("A proxy URL is only scheme://host:port."));
    }
    // A password would be saved in the database and shown in the window: not until it can live in
    // the keyring like API keys.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "Proxy credentials in the URL are not supported yet (they would not be stored in the keyring).",
        ));
    }
    Ok(url)
}

/// Parses a user-supplied base URL: http or https, with a host, no query or credentials.
pub fn parse_base_url(raw: &str) -> Result<Url> {
    let raw = raw.trim();
    let url =
        Url::parse(raw).map_err(|e| Error::invalid(format!("\"{raw}\" is not a URL ({e}).")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::invalid(format!(
            "The base URL must start with https:// or http:// (got \"{raw}\")."
        )));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(Error::invalid(
            "The base URL must not contain credentials, a query or a fragment.",
        ));
    }
    // A whole endpoint pasted from a provider's docs: keep the base it is under.
    let mut url = url;
    let path = url.path().trim_end_matches('/').to_string();
    for endpoint in ["/chat/completions", "/completions", "/models"] {
        if let Some(base) = path.strip_suffix(endpoint) {
            url.set_path(base);
            break;
        }
    }
    Ok(url)
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Plain http to a machine other than this one would show the key to anyone on the way.
pub fn insecure_warning(url: &Url) -> Option<String> {
    (url.scheme() == "http" && !is_loopback(url)).then(|| {
        format!(
            "{} uses plain http: the API key and your messages travel unencrypted. Use https unless this is a trusted network.",
            url.host_str().unwrap_or("this server")
        )
    })
}
