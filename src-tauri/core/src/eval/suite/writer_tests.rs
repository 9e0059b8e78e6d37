//! The writer: what it writes reads back as the same suite; cells read back as their assertion.

use std::path::Path;

use super::*;
use crate::eval::suite::config;

const FULL: &str = r#"
description: Capitals, every feature the writer must keep
prompts:
  - 'What is the capital of {{country}}?'
  - raw: "Answer in one word.\nCountry: {{country}}"
    label: terse
  - '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "{{country}}?"}]'
providers:
  - openai:chat:gpt-4o-mini
  - id: openai:completion:davinci-002
    label: davinci
    config: {apiBaseUrl: "http://127.0.0.1:9/v1", temperature: 0.2, max_tokens: 40, stop: ["\n"], seed: 7, top_logprobs: 3}
  - parley:Local:smollm2
defaultTest:
  assert: [{type: latency, threshold: 5000}]
  vars: {style: plain}
tests:
  - description: France
    vars: {country: France, n: 3}
    assert:
      - {type: icontains, value: paris}
      - {type: not-contains, value: London, weight: 2}
      - {type: contains-any, value: [Paris, PARIS]}
      - {type: is-json, value: {type: object}}
      - {type: equals, value: {a: 1}}
      - {type: similar, value: "{{country}} capital", threshold: 0.6, metric: sim}
      - {type: llm-rubric, value: names a city}
    threshold: 0.5
    options: {provider: davinci}
  - vars: {country: "Japan: east", n: "4"}
    assert: [{type: equals, value: "contains: x"}, {type: regex, value: '^\w+$'}]
evaluateOptions: {maxConcurrency: 4}
"#;

fn read(yaml: &str) -> Suite {
    config::parse_str(yaml, Path::new(".")).unwrap().suite
}

#[test]
fn a_suite_written_and_read_again_is_the_same_suite() {
    let suite = read(FULL);
    let yaml = to_yaml(&suite).unwrap();
    let again = read(&yaml);
    assert_eq!(again, suite, "written:\n{yaml}");
    // And writing is stable: the second write is the first.
    assert_eq!(to_yaml(&again).unwrap(), yaml);
    // defaultTest was merged into every test; the file says so plainly.
    assert!(!yaml.contains("defaultTest"), "{yaml}");
    assert_eq!(suite.tests[1].assertions.len(), 3);
}

#[test]
fn a_suite_without_tests_is_written_without_tests() {
    let suite = read("prompts: [hello]\nproviders: [openai:chat:m]\n");
    let yaml = to_yaml(&suite).unwrap();
    assert_eq!(yaml, "prompts:\n- hello\nproviders:\n- openai:chat:m\n");
    assert_eq!(read(&yaml), suite);
}

#[test]
fn every_assertion_becomes_a_cell_that_reads_back_as_itself() {
    let suite = read(FULL);
    for t in &suite.tests {
        for a in &t.assertions {
            let cell = assertion_cell(a);
            assert_eq!(&parse_cell(&cell).unwrap(), a, "cell {cell:?}");
        }
    }
    let cells: Vec<String> = suite.tests[0]
        .assertions
        .iter()
        .map(assertion_cell)
        .collect();
    assert_eq!(cells[0], "latency(5000)");
    assert_eq!(cells[1], "icontains: paris");
    // A weight has no shorthand: the mapping, as one line of JSON.
    assert_eq!(
        cells[2],
        r#"{"type":"not-contains","value":"London","weight":2.0}"#
    );
    assert_eq!(cells[3], "contains-any: Paris, PARIS");
    assert_eq!(cells[7], "grade: names a city");
    // Text that would read as another type is written as `equals: …`.
    assert_eq!(
        assertion_cell(&suite.tests[1].assertions[1]),
        "equals: contains: x"
    );
}

#[test]
fn a_saved_prompt_is_written_back_as_its_reference() {
    let suite =
        read("prompts: ['parley://greet@2', 'parley://plain']\nproviders: [openai:chat:m]\n");
    let yaml = to_yaml(&suite).unwrap();
    assert!(
        yaml.contains("parley://greet@2") && yaml.contains("parley://plain"),
        "{yaml}"
    );
    // The same references (only where the config names them, for errors, moves).
    let refs = |s: &Suite| -> Vec<(String, Option<i64>)> {
        s.prompts
            .iter()
            .map(|p| match &p.body {
                PromptBody::Saved(r) => (r.name.clone(), r.version),
                other => panic!("not a saved prompt: {other:?}"),
            })
            .collect()
    };
    assert_eq!(refs(&read(&yaml)), refs(&suite));
}
