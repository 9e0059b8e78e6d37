//! Unit tests of `chat::provider`.

use super::*;

fn row(base: Option<&str>) -> ProfileRow {
    ProfileRow {
        id: 1,
        name: "default".into(),
        base_url: base.map(Into::into),
        ..Default::default()
    }
}
fn key(s: &str) -> ApiKey {
    ApiKey::new(s).unwrap()
}
/// A keyring entry bound to `origin`.
fn held(s: &str, origin: &str) -> StoredKey {
    StoredKey {
        key: key(s),
        origin: Some(origin.into()),
    }
}

#[test]
fn profile_settings_win_over_environment_over_default() {
    let env = EnvFallback {
        api_key: Some(key("sk-env")),
        base_url: Some("http://127.0.0.1:9/v1".into()),
    };
    assert_eq!(
        effective_base_url(&row(None), &EnvFallback::default(), None)
            .unwrap()
            .as_str(),
        "https://api.openai.com/v1"
    );
    assert_eq!(
        effective_base_url(&row(None), &env, None).unwrap().as_str(),
        "http://127.0.0.1:9/v1"
    );
    assert_eq!(
        effective_base_url(&row(Some("https://x.test/v1")), &env, None)
            .unwrap()
            .as_str(),
        "https://x.test/v1"
    );
    let ep = endpoint(
        &row(None),
        &env,
        Ok(Some(held("sk-ring", "http://127.0.0.1:9"))),
        None,
    )
    .unwrap();
    assert_eq!(ep.key.unwrap().expose(), "sk-ring");
    // A key saved for another server is not sent here; the environment's key is.
    let ep = endpoint(
        &row(None),
        &env,
        Ok(Some(held("sk-ring", "https://api.openai.com"))),
        None,
    )
    .unwrap();
    assert_eq!(ep.key.unwrap().expose(), "sk-env");
    let ep = endpoint(&row(None), &env, Ok(None), None).unwrap();
    assert_eq!(ep.key.unwrap().expose(), "sk-env");
}

#[test]
fn openai_without_a_key_is_a_clear_error_but_local_servers_need_none() {
    let none = EnvFallback::default();
    assert_eq!(
        endpoint(&row(None), &none, Ok(None), None)
            .unwrap_err()
            .kind(),
        "no_key"
    );
    let broken = || {
        Err(Error::Keyring {
            message: "no bus".into(),
        })
    };
    assert_eq!(
        endpoint(&row(None), &none, broken(), None)
            .unwrap_err()
            .kind(),
        "keyring"
    );
    let local = endpoint(
        &row(Some("http://127.0.0.1:8080/v1")),
        &none,
        broken(),
        None,
    )
    .unwrap();
    assert!(local.key.is_none());
    let v = view(&row(None), &none, broken());
    assert_eq!((v.has_key, v.key_source), (false, KeySource::None));
    assert!(v.keyring_error.unwrap().contains("no bus"));
}

#[test]
fn the_view_never_contains_the_key() {
    let lan = row(Some("http://192.168.1.10:8000/v1"));
    let v = view(
        &lan,
        &EnvFallback::default(),
        Ok(Some(held("sk-very-secret", "http://192.168.1.10:8000"))),
    );
    let json = serde_json::to_string(&v).unwrap();
    assert!(!json.contains("sk-very-secret"));
    assert!(v.has_key && v.base_url_warning.is_some());
}

#[test]
fn a_key_goes_only_to_the_origin_it_was_saved_for() {
    let none = EnvFallback::default();
    let mut moved = row(Some("https://attacker.example/v1"));
    // What the database says plays no part: only the keyring entry's own origin does.
    moved.key_origin = Some("https://attacker.example".into());
    let stored = || Ok(Some(held("sk-openai", "https://api.openai.com")));
    // The profile's URL was changed (the window or a restored database can do that): the key
    // stays home and the user is asked.
    let err = endpoint(&moved, &none, stored(), None).unwrap_err();
    assert_eq!(err.kind(), "key_unconfirmed");
    assert!(err.to_string().contains("https://api.openai.com"), "{err}");
    let v = view(&moved, &none, stored());
    assert!(!v.has_key);
    assert_eq!(v.key_held_for.as_deref(), Some("https://api.openai.com"));
    // Same origin, other path: fine.
    let same = row(Some("https://api.openai.com/v1/"));
    assert!(endpoint(&same, &none, stored(), None)
        .unwrap()
        .key
        .is_some());
    // A URL typed for one request on the command line gets no key stored for another origin
    // (K4); the environment's key, which the user gave for this command, does go.
    let ep = endpoint(&moved, &none, stored(), Some("http://127.0.0.1:8080/v1")).unwrap();
    assert!(ep.key.is_none());
    let env = EnvFallback {
        api_key: Some(key("sk-env")),
        base_url: None,
    };
    let ep = endpoint(&moved, &env, stored(), Some("http://127.0.0.1:8080/v1")).unwrap();
    assert_eq!(ep.key.unwrap().expose(), "sk-env");
    let ep = endpoint(&moved, &none, stored(), Some("https://api.openai.com/v1")).unwrap();
    assert_eq!(ep.key.unwrap().expose(), "sk-openai");
}

#[test]
fn a_key_of_unknown_origin_is_never_sent_anywhere_not_even_to_openai() {
    let none = EnvFallback::default();
    let bare = || {
        Ok(Some(StoredKey {
            key: key("sk-by-hand"),
            origin: None,
        }))
    };
    for base in [None, Some("http://127.0.0.1:8080/v1")] {
        let err = endpoint(&row(base), &none, bare(), None).unwrap_err();
        assert_eq!(err.kind(), "key_unconfirmed");
        let v = view(&row(base), &none, bare());
        assert!(!v.has_key && v.key_unbound && v.key_held_for.is_none());
    }
}

#[test]
fn the_environment_key_goes_only_to_the_environment_url() {
    let env = EnvFallback {
        api_key: Some(key("sk-env")),
        base_url: Some("http://127.0.0.1:9/v1".into()),
    };
    assert!(endpoint(&row(None), &env, Ok(None), None)
        .unwrap()
        .key
        .is_some());
    let elsewhere = row(Some("https://attacker.example/v1"));
    assert!(endpoint(&elsewhere, &env, Ok(None), None)
        .unwrap()
        .key
        .is_none());
    // Without OPENAI_BASE_URL the environment key is OpenAI's.
    let openai_env = EnvFallback {
        api_key: Some(key("sk-env")),
        base_url: None,
    };
    assert!(endpoint(&row(None), &openai_env, Ok(None), None)
        .unwrap()
        .key
        .is_some());
    assert!(endpoint(&elsewhere, &openai_env, Ok(None), None)
        .unwrap()
        .key
        .is_none());
}

fn azure_row() -> ProfileRow {
    ProfileRow {
        name: "az".into(),
        kind: ProfileKind::Azure,
        base_url: Some("https://res.openai.azure.com".into()),
        azure_deployment: Some("gpt4o".into()),
        ..Default::default()
    }
}

#[test]
fn an_azure_profile_maps_to_its_deployment_with_the_api_key_header() {
    let none = EnvFallback::default();
    let az = "https://res.openai.azure.com";
    let ep = endpoint(&azure_row(), &none, Ok(Some(held("az-key", az))), None).unwrap();
    assert_eq!(
        ep.url("chat/completions").as_str(),
        "https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(ep.auth_header().unwrap().unwrap().0.as_str(), "api-key");
    assert_eq!(default_model(&azure_row()).as_deref(), Some("gpt4o"));
    // No key for a remote Azure resource is said up front.
    assert_eq!(
        endpoint(&azure_row(), &none, Ok(None), None)
            .unwrap_err()
            .kind(),
        "no_key"
    );
    let mut missing = azure_row();
    missing.azure_deployment = None;
    assert_eq!(
        endpoint(&missing, &none, Ok(Some(held("k", az))), None)
            .unwrap_err()
            .kind(),
        "invalid"
    );
    let mut no_url = azure_row();
    no_url.base_url = None;
    assert_eq!(
        endpoint(&no_url, &none, Ok(Some(held("k", az))), None)
            .unwrap_err()
            .kind(),
        "invalid"
    );
    let mut bad_version = azure_row();
    bad_version.api_version = Some("latest&x=1".into());
    assert_eq!(
        endpoint(&bad_version, &none, Ok(Some(held("k", az))), None)
            .unwrap_err()
            .kind(),
        "invalid"
    );
    assert!(check_deployment("a/b").is_err() && check_deployment("gpt-4o_mini.2").is_ok());
    assert!(check_api_version("2025-01-01-preview").is_ok());
}

#[test]
fn conversation_values_win_over_profile_defaults() {
    let profile = ProfileRow {
        default_model: Some("profile-model".into()),
        defaults: ProfileDefaults {
            temperature: Some(0.3),
            top_p: Some(0.8),
            max_tokens: Some(100),
            frequency_penalty: Some(0.1),
            presence_penalty: Some(0.2),
            seed: Some(5),
            stop: Some(vec!["P".into()]),
            ..Default::default()
        },
        ..Default::default()
    };
    let empty = ConversationSettings {
        system_prompt: "sys".into(),
        ..Default::default()
    };
    let merged = effective_settings(&empty, &profile);
    assert_eq!(
        merged,
        ConversationSettings {
            system_prompt: "sys".into(),
            model: Some("profile-model".into()),
            params: profile.defaults.clone(),
            ..Default::default()
        }
    );
    let own = ConversationSettings {
        system_prompt: "mine".into(),
        model: Some("conv-model".into()),
        params: Params {
            temperature: Some(1.5),
            max_tokens: Some(7),
            top_p: Some(0.1),
            frequency_penalty: Some(-1.0),
            presence_penalty: Some(-1.0),
            stop: Some(vec!["C".into()]),
            seed: Some(-3),
            n: Some(2),
            reasoning_effort: Some(crate::params::ReasoningEffort::Low),
            logprobs: None,
            tools: None,
            response_format: None,
        },
        endpoint: crate::db::conversations::EndpointKind::Completions,
    };
    assert_eq!(effective_settings(&own, &profile), own);
    // Only the missing values are filled in.
    let some = ConversationSettings {
        params: Params {
            temperature: Some(0.0),
            ..Default::default()
        },
        ..Default::default()
    };
    let merged = effective_settings(&some, &profile);
    assert_eq!(
        (merged.params.temperature, merged.params.top_p),
        (Some(0.0), Some(0.8))
    );
    assert_eq!(effective_settings(&some, &ProfileRow::default()), some);
}

#[test]
fn a_profile_proxy_wins_over_the_app_proxy() {
    let base = ClientOptions::default();
    let app = Proxy::Custom("http://127.0.0.1:3128".into());
    let plain = client_options(&ProfileRow::default(), &app, false, &base);
    assert_eq!(plain.proxy, app);
    assert_eq!(plain.connect_timeout, base.connect_timeout);
    let own = ProfileRow {
        proxy: Some(Proxy::None),
        connect_timeout_ms: Some(1500),
        idle_timeout_ms: Some(30_000),
        ..Default::default()
    };
    let o = client_options(&own, &app, false, &base);
    assert_eq!(o.proxy, Proxy::None);
    assert_eq!(o.connect_timeout, std::time::Duration::from_millis(1500));
    assert_eq!(o.idle_timeout, std::time::Duration::from_secs(30));
}
