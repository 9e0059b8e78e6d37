//! Unit tests of `params::structured`.

use super::*;
use serde_json::json;

fn strict(schema: Value) -> ResponseFormat {
    ResponseFormat::JsonSchema {
        name: "answer".into(),
        description: String::new(),
        schema,
        strict: true,
    }
}

fn person() -> Value {
    json!({"type": "object", "additionalProperties": false, "required": ["name", "age"],
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}})
}

#[test]
fn a_strict_schema_that_keeps_the_rules_passes_and_is_sent_in_the_reference_shape() {
    let f = strict(person());
    f.validate().unwrap();
    assert_eq!(
        f.to_wire(),
        json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": person(), "strict": true}})
    );
    assert_eq!(
        ResponseFormat::JsonObject.to_wire(),
        json!({"type": "json_object"})
    );
}

#[test]
fn a_schema_the_api_would_reject_is_explained_with_where() {
    let open =
        json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}});
    let err = strict(open.clone()).validate().unwrap_err().to_string();
    assert!(err.contains("additionalProperties\": false"), "{err}");
    assert!(err.contains("(at /)"), "{err}");
    // Not strict: the same schema is fine.
    let loose = ResponseFormat::JsonSchema {
        name: "a".into(),
        description: String::new(),
        schema: open,
        strict: false,
    };
    loose.validate().unwrap();
    let optional = json!({"type": "object", "additionalProperties": false, "required": ["a"],
        "properties": {"a": {"type": "string"}, "b": {"type": "object", "properties": {"c": {"type": "string", "minLength": 2}}}}});
    let err = strict(optional).validate().unwrap_err().to_string();
    assert!(err.contains("missing b"), "{err}");
    assert!(err.contains("(at /properties/b)"), "{err}");
    assert!(
        err.contains("\"minLength\" (at /properties/b/properties/c)"),
        "{err}"
    );
    let not_object = strict(json!({"type": "array", "items": {"type": "string"}}));
    assert!(not_object
        .validate()
        .unwrap_err()
        .to_string()
        .contains("top level"));
    let invalid = strict(json!({"type": "object", "properties": {"a": {"type": "nonsense"}}}));
    assert!(invalid
        .validate()
        .unwrap_err()
        .to_string()
        .contains("not a valid JSON Schema"));
    let bad_name = ResponseFormat::JsonSchema {
        name: "has space".into(),
        description: String::new(),
        schema: person(),
        strict: true,
    };
    assert_eq!(bad_name.validate().unwrap_err().kind(), "invalid");
}

#[test]
fn replies_are_checked_against_the_format_with_exact_errors() {
    let f = strict(person());
    assert_eq!(
        check_reply(&f, " {\"name\": \"Ada\", \"age\": 36}\n"),
        Some(SchemaCheck {
            valid: true,
            errors: vec![]
        })
    );
    let bad = check_reply(&f, r#"{"name": "Ada", "age": "old", "x": 1}"#).unwrap();
    assert!(!bad.valid);
    assert!(bad.errors.iter().any(|e| e.contains("/age")), "{bad:?}");
    assert!(bad.errors.iter().any(|e| e.contains("'x'")), "{bad:?}");
    let prose = check_reply(&f, "Sure! Here it is").unwrap();
    assert!(prose.errors[0].contains("not JSON"), "{prose:?}");
    assert!(
        !check_reply(&ResponseFormat::JsonObject, "[1]")
            .unwrap()
            .valid
    );
    assert!(
        check_reply(&ResponseFormat::JsonObject, "{}")
            .unwrap()
            .valid
    );
    assert_eq!(check_reply(&ResponseFormat::Text, "anything"), None);
}
