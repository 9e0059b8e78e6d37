//! Unit tests of `params`.

use super::*;

#[test]
fn every_range_comes_from_the_table() {
    let ok = Params {
        temperature: Some(2.0),
        top_p: Some(0.0),
        n: Some(8),
        stop: Some(vec!["\n\n".into(), String::new(), "END".into()]),
        seed: Some(i64::MIN),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(ok.stop.as_deref(), Some(&["\n\n".into(), "END".into()][..]));
    for bad in [
        Params {
            temperature: Some(2.5),
            ..Default::default()
        },
        Params {
            presence_penalty: Some(f64::NAN),
            ..Default::default()
        },
        Params {
            max_tokens: Some(0),
            ..Default::default()
        },
        Params {
            n: Some(9),
            ..Default::default()
        },
        Params {
            stop: Some(vec!["a".into(); 5]),
            ..Default::default()
        },
        Params {
            stop: Some(vec!["x".repeat(MAX_STOP_CHARS + 1)]),
            ..Default::default()
        },
    ] {
        assert_eq!(bad.validate().unwrap_err().kind(), "invalid");
    }
    // An empty list is "not set".
    let empty = Params {
        stop: Some(vec![String::new()]),
        ..Default::default()
    };
    assert_eq!(empty.validate().unwrap(), Params::default());
}

#[test]
fn merge_keeps_the_own_values_and_fills_the_rest() {
    let own = Params {
        temperature: Some(0.0),
        ..Default::default()
    };
    let defaults = Params {
        temperature: Some(0.7),
        top_p: Some(0.9),
        stop: Some(vec!["P".into()]),
        ..Default::default()
    };
    let m = Params::merge(&own, &defaults);
    assert_eq!(
        (m.temperature, m.top_p, m.stop),
        (Some(0.0), Some(0.9), Some(vec!["P".into()]))
    );
}

#[test]
fn the_wire_form_uses_wire_names_and_leaves_out_the_output_limit() {
    let p = Params {
        top_p: Some(0.5),
        max_tokens: Some(9),
        stop: Some(vec!["END".into()]),
        ..Default::default()
    };
    assert_eq!(
        Value::Object(p.wire(EndpointKind::Completions)),
        serde_json::json!({"top_p": 0.5, "stop": ["END"]})
    );
}

#[test]
fn stored_json_round_trips_and_bad_old_values_are_dropped() {
    let p = Params {
        frequency_penalty: Some(-0.5),
        seed: Some(7),
        ..Default::default()
    };
    assert_eq!(p.to_stored(), r#"{"frequencyPenalty":-0.5,"seed":7}"#);
    assert_eq!(Params::from_stored(Some(&p.to_stored())), p);
    let old = Params::from_stored(Some(r#"{"temperature": 9, "topP": 0.5, "nope": 1}"#));
    assert_eq!((old.temperature, old.top_p), (None, Some(0.5)));
    assert_eq!(Params::from_stored(Some("not json")), Params::default());
}

#[test]
fn the_command_line_reads_each_type_and_profiles_refuse_per_conversation_ones() {
    let mut p = Params::default();
    p.set_from_args("temperature", &["0.3".into()]).unwrap();
    p.set_from_args("stop", &["a".into(), "b".into()]).unwrap();
    p.set_from_args("seed", &["-4".into()]).unwrap();
    assert_eq!(
        p.set_from_args("n", &["x".into()]).unwrap_err().kind(),
        "invalid"
    );
    assert_eq!(
        (p.temperature, p.seed, p.stop.clone()),
        (Some(0.3), Some(-4), Some(vec!["a".into(), "b".into()]))
    );
    let n = Params {
        n: Some(2),
        ..Default::default()
    };
    assert_eq!(n.clone().validate_defaults().unwrap_err().kind(), "invalid");
    assert_eq!(n.defaults_only(), Params::default());
}

#[test]
fn keys_and_flags_are_derived_from_the_name() {
    let s = SPEC.iter().find(|s| s.name == "frequency_penalty").unwrap();
    assert_eq!(
        (s.key(), s.flag()),
        ("frequencyPenalty".into(), "frequency-penalty".into())
    );
    let names: Vec<_> = SPEC.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "temperature",
            "max_tokens",
            "top_p",
            "frequency_penalty",
            "presence_penalty",
            "stop",
            "seed",
            "n",
            "reasoning_effort",
            "logprobs",
            "tools",
            "response_format"
        ]
    );
}

#[test]
fn reasoning_effort_takes_the_references_values_and_goes_to_chat_only() {
    let s = SPEC.iter().find(|s| s.name == "reasoning_effort").unwrap();
    assert_eq!(s.kind, Kind::Choice);
    assert_eq!(
        s.choices,
        ["none", "minimal", "low", "medium", "high", "xhigh", "max"]
    );
    assert!(s.profile_default);
    let mut p = Params::default();
    p.set_from_args("reasoning_effort", &["high".into()])
        .unwrap();
    assert_eq!(p.reasoning_effort, Some(ReasoningEffort::High));
    let err = p
        .set_from_args("reasoning_effort", &["extreme".into()])
        .unwrap_err();
    assert!(err.to_string().contains("none, minimal, low"), "{err}");
    assert_eq!(
        Value::Object(p.wire(EndpointKind::Chat)),
        serde_json::json!({"reasoning_effort": "high"})
    );
    assert!(p.wire(EndpointKind::Completions).is_empty());
    assert_eq!(p.to_stored(), r#"{"reasoningEffort":"high"}"#);
    assert_eq!(
        Params::from_stored(Some(r#"{"reasoningEffort":"loud"}"#)),
        Params::default()
    );
    // A profile can default it.
    assert!(p.clone().validate_defaults().is_ok());
}

#[test]
fn logprobs_and_tools_are_entries_of_the_table_with_their_own_wire_fields() {
    let p = Params {
        logprobs: Some(Logprobs(7)),
        tools: Some(vec![FunctionTool {
            name: "f".into(),
            description: String::new(),
            parameters: serde_json::json!({"type": "object", "properties": {}}),
        }]),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let chat = Value::Object(p.wire(EndpointKind::Chat));
    assert_eq!(chat["logprobs"], true);
    assert_eq!(chat["top_logprobs"], 7);
    assert_eq!(chat["tools"][0]["function"]["name"], "f");
    // The legacy endpoint: at most 5 alternatives, no tools.
    assert_eq!(
        Value::Object(p.wire(EndpointKind::Completions)),
        serde_json::json!({"logprobs": 5})
    );
    let zero = Params {
        logprobs: Some(Logprobs(0)),
        ..Default::default()
    };
    assert_eq!(
        Value::Object(zero.wire(EndpointKind::Chat)),
        serde_json::json!({"logprobs": true})
    );
    let too_many = Params {
        logprobs: Some(Logprobs(21)),
        ..Default::default()
    };
    assert_eq!(too_many.validate().unwrap_err().kind(), "invalid");
    // Neither is a profile default; both are per conversation.
    assert!(p.clone().validate_defaults().is_err());
    assert_eq!(p.defaults_only(), Params::default());
    // An empty list of tools is "no tools".
    let none = Params {
        tools: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(none.validate().unwrap(), Params::default());
}

#[test]
fn the_responses_api_takes_only_the_parameters_the_table_gives_it() {
    let p = Params {
        temperature: Some(0.3),
        max_tokens: Some(50),
        top_p: Some(0.9),
        frequency_penalty: Some(1.0),
        presence_penalty: Some(1.0),
        stop: Some(vec!["END".into()]),
        seed: Some(3),
        n: Some(2),
        ..Default::default()
    };
    let wire = p.wire(EndpointKind::Responses);
    let keys: Vec<&str> = wire.keys().map(String::as_str).collect();
    assert_eq!(keys, ["temperature", "top_p"]);
    let refused: Vec<&str> = p
        .refused_by(EndpointKind::Responses)
        .iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        refused,
        ["frequency_penalty", "presence_penalty", "stop", "seed", "n"]
    );
    let only = p.clone().for_endpoint(EndpointKind::Responses);
    assert_eq!((only.n, only.seed, only.max_tokens), (None, None, Some(50)));
    let err = p.check_endpoint(EndpointKind::Responses).unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert!(
        err.to_string().contains("--frequency-penalty")
            && err.to_string().contains("--n")
            && err.to_string().contains("Responses API"),
        "{err}"
    );
    assert!(p.check_endpoint(EndpointKind::Chat).is_ok());
    assert_eq!(
        EndpointKind::parse("responses").unwrap(),
        EndpointKind::Responses
    );
}
