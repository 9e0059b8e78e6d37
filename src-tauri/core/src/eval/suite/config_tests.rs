//! Reading suites: inline, from files, CSV with `__expected`, and unsupported keys named.

use std::fs;

use super::*;
use crate::eval::suite::{Api, Check, PromptBody, Target};

fn parse_yaml(yaml: &str) -> Result<Suite> {
    let dir = tempfile::tempdir().unwrap();
    parse_str(yaml, dir.path()).map(|l| l.suite)
}

#[test]
fn an_inline_suite_reads_prompts_providers_tests_and_default_test() {
    let s = parse_yaml(
        r#"
description: capitals
prompts:
  - "What is the capital of {{country}}?"
  - '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of {{country}}?"}]'
providers:
  - openai:chat:gpt-4o-mini
  - id: openai:completion:davinci-002
    label: old
    config:
      apiBaseUrl: http://127.0.0.1:9/v1
      temperature: 0.2
      max_tokens: 20
  - parley:local:llama3
defaultTest:
  assert:
    - type: not-contains
      value: sorry
tests:
  - vars: {country: France}
    assert:
      - type: icontains
        value: paris
        weight: 2
  - description: japan
    vars: {country: Japan, n: 3}
    threshold: 0.5
evaluateOptions:
  maxConcurrency: 8
"#,
    )
    .unwrap();
    assert_eq!(s.description, "capitals");
    assert_eq!(s.prompts.len(), 2);
    assert!(matches!(&s.prompts[1].body, PromptBody::Chat(m) if m.len() == 2));
    assert_eq!(s.providers[0].api, Api::Chat);
    assert_eq!(s.providers[0].model, "gpt-4o-mini");
    assert_eq!(s.providers[1].label, "old");
    assert_eq!(s.providers[1].api, Api::Completion);
    assert_eq!(s.providers[1].params.temperature, Some(0.2));
    assert_eq!(
        s.providers[1].target,
        Target::OpenAi {
            base_url: Some("http://127.0.0.1:9/v1".into())
        }
    );
    assert_eq!(
        s.providers[2].target,
        Target::Profile {
            name: "local".into()
        }
    );
    assert_eq!(s.tests.len(), 2);
    // The default's assertions come first.
    assert_eq!(s.tests[0].assertions[0].kind(), "not-contains");
    assert_eq!(s.tests[0].assertions[1].weight, 2.0);
    assert_eq!(s.tests[1].vars["n"], "3");
    assert_eq!(s.tests[1].threshold, Some(0.5));
    assert_eq!(s.max_concurrency, Some(8));
}

#[test]
fn file_prompts_and_csv_tests_are_read_relative_to_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("p.txt"), "Q: {{q}}\n---\nAnswer {{q}}").unwrap();
    fs::write(
        dir.path().join("chat.json"),
        r#"[{"role": "user", "content": "{{q}}"}]"#,
    )
    .unwrap();
    fs::write(
        dir.path().join("tests.csv"),
        "q,__expected\n2+2,4\ncolour?,icontains: blue\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("promptfooconfig.yaml"),
        "prompts: [file://p.txt, file://chat.json]\nproviders: openai:gpt-4o\ntests: file://tests.csv\n",
    )
    .unwrap();
    let loaded = load(&dir.path().join("promptfooconfig.yaml")).unwrap();
    let s = loaded.suite;
    assert_eq!(loaded.files.len(), 4);
    assert_eq!(s.prompts.len(), 3);
    assert_eq!(s.prompts[0].label, "p.txt #1");
    assert_eq!(s.prompts[2].label, "chat.json");
    assert_eq!(s.tests.len(), 2);
    assert_eq!(
        s.tests[1].assertions[0].check,
        Check::IContains("blue".into())
    );
}

#[test]
fn an_unsupported_key_is_named_with_its_line() {
    let e = parse_yaml("prompts: [hi]\nproviders: [openai:gpt-4o]\nsharing: true\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("unsupported key `sharing`"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
    let e = parse_yaml(
        "prompts: [hi]\nproviders:\n  - id: openai:gpt-4o\n    config:\n      apiKey: sk-x\n",
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("`apiKey`") && msg.contains("line 5"), "{msg}");
    let e = parse_yaml("prompts: [hi]\nproviders: [openai:gpt-4o]\ntests:\n  - vars: {a: 1}\n    assert:\n      - type: javascript\n        value: 'true'\n").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`javascript` is not supported") && msg.contains("line 6"),
        "{msg}"
    );
}

#[test]
fn unsupported_providers_missing_vars_and_globs_are_clear_errors() {
    let e = parse_yaml("prompts: [hi]\nproviders: [anthropic:claude]\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("`anthropic:claude` is not supported"),
        "{e}"
    );
    assert!(e.to_string().contains("line 2"), "{e}");
    let e = parse_yaml("prompts: ['{{x}}']\nproviders: [openai:m]\ntests: [{vars: {y: 1}}]\n")
        .unwrap_err();
    assert!(e.to_string().contains("has no variable `x`"), "{e}");
    let e = parse_yaml("prompts: [file://*.txt]\nproviders: [openai:m]\n").unwrap_err();
    assert!(e.to_string().contains("glob"), "{e}");
    let e = parse_yaml("prompts: [hi]\nproviders: [openai:m]\ntests: [{vars: {a: [1, 2]}}]\n")
        .unwrap_err();
    assert!(e.to_string().contains("not supported"), "{e}");
}

#[test]
fn a_suite_without_tests_runs_each_prompt_once() {
    let s = parse_yaml("prompts: hello\nproviders: openai:m\n").unwrap();
    assert_eq!(s.tests.len(), 1);
    assert!(s.tests[0].assertions.is_empty());
}

/// The promptfoo format as issue 13 lists it, in one suite: every part read, nothing skipped.
#[test]
fn every_part_of_promptfoos_format_the_issue_lists_is_read() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("p.txt"), "Say {{q}}").unwrap();
    fs::write(
        dir.path().join("chat.json"),
        r#"[{"role": "system", "content": "Be {{tone}}."}, {"role": "user", "content": "{{q}}"}]"#,
    )
    .unwrap();
    fs::write(
        dir.path().join("tests.csv"),
        "q,__expected,__expected1,__expected2\nhi,contains: hi,not-icontains: bye,grade: polite\n",
    )
    .unwrap();
    let yaml = r#"
description: coverage
prompts:
  - "Inline {{q}}"
  - file://p.txt
  - file://chat.json
providers:
  - id: openai:chat:gpt-4o-mini
    config:
      apiBaseUrl: http://127.0.0.1:8000/v1
      temperature: 0
      max_tokens: 64
      top_p: 0.9
      stop: ["\n\n"]
      seed: 7
      logprobs: true
  - openai:completion:davinci-002
  - parley:work:gpt-4o
defaultTest:
  vars: {tone: calm}
  threshold: 0.5
  options: {provider: openai:chat:gpt-4o-mini}
  assert: [{type: not-contains, value: "as an AI"}]
tests:
  - file://tests.csv
  - description: inline
    vars: {q: two}
    assert:
      - {type: equals, value: two}
      - {type: contains, value: t}
      - {type: icontains, value: T}
      - {type: contains-any, value: [a, t]}
      - {type: contains-all, value: [t, w]}
      - {type: not-contains, value: x, weight: 0}
      - {type: starts-with, value: tw}
      - {type: regex, value: '^t\w+$'}
      - {type: is-json, value: {type: object, required: [a]}}
      - {type: levenshtein, value: tow, threshold: 2}
      - {type: similar, value: two, threshold: 0.8}
      - {type: latency, threshold: 500}
      - {type: cost, threshold: 0.01}
      - {type: perplexity, threshold: 20}
      - {type: llm-rubric, value: fluent and natural, weight: 2, metric: fluency}
"#;
    let s = parse_str(yaml, dir.path()).unwrap().suite;
    assert_eq!(s.description, "coverage");
    assert_eq!(s.prompts.len(), 3);
    assert!(matches!(&s.prompts[2].body, PromptBody::Chat(m) if m[0].0 == "system"));
    let p = &s.providers[0];
    assert_eq!(
        (p.params.max_tokens, p.params.top_p, p.params.seed),
        (Some(64), Some(0.9), Some(7))
    );
    assert_eq!(p.params.temperature, Some(0.0));
    assert!(p.logprobs);
    assert_eq!(s.providers[1].api, Api::Completion);
    assert_eq!(
        s.providers[2].target,
        Target::Profile {
            name: "work".into()
        }
    );
    assert_eq!(s.tests.len(), 2);
    let csv = &s.tests[0];
    let kinds: Vec<String> = csv.assertions.iter().map(|a| a.kind()).collect();
    assert_eq!(
        kinds,
        ["not-contains", "contains", "not-icontains", "llm-rubric"]
    );
    assert_eq!(
        (csv.vars["tone"].as_str(), csv.threshold),
        ("calm", Some(0.5))
    );
    assert_eq!(csv.grader.as_deref(), Some("openai:chat:gpt-4o-mini"));
    let inline: Vec<String> = s.tests[1].assertions.iter().map(|a| a.kind()).collect();
    let mut want: Vec<&str> = vec!["not-contains"];
    want.extend([
        "equals",
        "contains",
        "icontains",
        "contains-any",
        "contains-all",
        "not-contains",
        "starts-with",
        "regex",
        "is-json",
        "levenshtein",
        "similar",
        "latency",
        "cost",
        "perplexity",
        "llm-rubric",
    ]);
    assert_eq!(inline, want);
    let a = &s.tests[1].assertions;
    assert_eq!((a[6].weight, a[15].weight), (0.0, 2.0));
    assert!(matches!(&a[9].check, Check::IsJson(Some(_))));
    assert_eq!(a[15].metric.as_deref(), Some("fluency"));
}
