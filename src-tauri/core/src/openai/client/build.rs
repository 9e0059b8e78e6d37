//! Building the HTTP clients a `Client` sends through: TLS, redirects kept to one origin, the
//! proxy, and a direct client for servers on this machine when the proxy is not meant for them.

use super::{parse_proxy_url, ClientOptions, Proxy};
use crate::error::{Error, Result};

/// The client for every request, and a direct one for loopback when the proxy skips it.
pub(super) fn http_clients(
    options: &ClientOptions,
) -> Result<(reqwest::Client, Option<reqwest::Client>)> {
    // TLS through rustls with the ring provider; a second install (another client) is a no-op.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let same_origin_only = || {
        reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().map(|u| u.origin());
            if attempt.previous().len() > 5 {
                attempt.error("too many redirects")
            } else if first.as_ref() == Some(&attempt.url().origin()) {
                attempt.follow()
            } else {
                attempt.error(
                    "the server redirected to another origin; Parley does not send the key there",
                )
            }
        })
    };
    let base = || -> Result<reqwest::ClientBuilder> {
        Ok(reqwest::Client::builder()
            .tls_backend_preconfigured(crate::openai::tls::client_config()?)
            .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .redirect(same_origin_only()))
    };
    let mut builder = base()?;
    builder = match &options.proxy {
        Proxy::System => builder,
        Proxy::None => builder.no_proxy(),
        Proxy::Custom(raw) => {
            let url = parse_proxy_url(raw)?;
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|e| Error::invalid(format!("The proxy {url} cannot be used ({e}).")))?;
            builder.proxy(proxy)
        }
    };
    let built = |b: reqwest::ClientBuilder| {
        b.build().map_err(|e| Error::Network {
            message: e.to_string(),
        })
    };
    let http = built(builder)?;
    let direct = match &options.proxy {
        Proxy::None => None,
        _ if options.proxy_local => None,
        _ => Some(built(base()?.no_proxy())?),
    };
    Ok((http, direct))
}
