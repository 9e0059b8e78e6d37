//! Unit tests of `openai::client`.

use super::*;

#[test]
fn base_urls_are_checked_and_joined() {
    let ep = Endpoint::new(
        parse_base_url(" https://api.openai.com/v1/ ").unwrap(),
        None,
    );
    assert_eq!(
        ep.url("chat/completions").as_str(),
        "https://api.openai.com/v1/chat/completions"
    );
    let ep = Endpoint::new(parse_base_url("http://127.0.0.1:8080/v1").unwrap(), None);
    assert_eq!(ep.url("models").as_str(), "http://127.0.0.1:8080/v1/models");
    for pasted in [
        "https://api.openai.com/v1/chat/completions",
        "https://api.openai.com/v1/models/",
    ] {
        let ep = Endpoint::new(parse_base_url(pasted).unwrap(), None);
        assert_eq!(
            ep.url("chat/completions").as_str(),
            "https://api.openai.com/v1/chat/completions"
        );
    }
    for bad in [
        "",
        "api.openai.com",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://u:p@x.com/v1",
        "https://x.com/v1?k=1",
    ] {
        assert_eq!(parse_base_url(bad).unwrap_err().kind(), "invalid", "{bad}");
    }
}

#[test]
fn azure_urls_name_the_deployment_and_the_api_version() {
    let azure = |base: &str| Endpoint {
        base_url: parse_base_url(base).unwrap(),
        key: Some(ApiKey::new("azure-key-1").unwrap()),
        flavor: Flavor::Azure {
            deployment: "gpt 4o/mini".into(),
            api_version: "2024-10-21".into(),
        },
    };
    for base in [
        "https://res.openai.azure.com",
        "https://res.openai.azure.com/",
        "https://res.openai.azure.com/openai/",
    ] {
        let ep = azure(base);
        assert_eq!(
            ep.url("chat/completions").as_str(),
            "https://res.openai.azure.com/openai/deployments/gpt%204o%2Fmini/chat/completions?api-version=2024-10-21",
            "{base}"
        );
        assert_eq!(
            ep.url("completions").as_str(),
            "https://res.openai.azure.com/openai/deployments/gpt%204o%2Fmini/completions?api-version=2024-10-21"
        );
        assert_eq!(
            ep.url("models").as_str(),
            "https://res.openai.azure.com/openai/models?api-version=2024-10-21"
        );
    }
    // The key travels in `api-key`, never as a bearer token.
    let (name, value) = azure("https://res.openai.azure.com")
        .auth_header()
        .unwrap()
        .unwrap();
    assert_eq!(name.as_str(), "api-key");
    assert_eq!(value.to_str().unwrap(), "azure-key-1");
    assert!(value.is_sensitive());
    let openai = Endpoint::new(
        parse_base_url("https://api.openai.com/v1").unwrap(),
        Some(ApiKey::new("sk-1").unwrap()),
    );
    let (name, value) = openai.auth_header().unwrap().unwrap();
    assert_eq!(name, AUTHORIZATION);
    assert_eq!(value.to_str().unwrap(), "Bearer sk-1");
    assert!(Endpoint::new(openai.base_url.clone(), None)
        .auth_header()
        .unwrap()
        .is_none());
}

#[test]
fn proxy_urls_are_checked() {
    for good in [
        "http://127.0.0.1:3128",
        "https://proxy.corp:8443/",
        "socks5://127.0.0.1:1080",
        "socks5h://proxy:1080",
    ] {
        assert!(parse_proxy_url(good).is_ok(), "{good}");
    }
    for bad in [
        "",
        "127.0.0.1:3128",
        "ftp://x:21",
        "http://x:1/path",
        "file:///tmp/s",
        "http://user:secret@proxy:3128",
    ] {
        assert_eq!(parse_proxy_url(bad).unwrap_err().kind(), "invalid", "{bad}");
    }
    let opts = ClientOptions {
        proxy: Proxy::Custom("socks5://127.0.0.1:1080".into()),
        ..ClientOptions::default()
    };
    assert!(Client::new(opts).is_ok());
    let opts = ClientOptions {
        proxy: Proxy::Custom("nonsense".into()),
        ..ClientOptions::default()
    };
    assert_eq!(Client::new(opts).err().unwrap().kind(), "invalid");
}

#[test]
fn plain_http_warns_only_off_this_machine() {
    assert!(insecure_warning(&parse_base_url("http://10.0.0.5:8000/v1").unwrap()).is_some());
    assert!(insecure_warning(&parse_base_url("http://localhost:11434/v1").unwrap()).is_none());
    assert!(insecure_warning(&parse_base_url("http://127.0.0.1:1234/v1").unwrap()).is_none());
    assert!(insecure_warning(&parse_base_url("http://[::1]:1234/v1").unwrap()).is_none());
    assert!(insecure_warning(&parse_base_url("https://api.deepseek.com").unwrap()).is_none());
}
