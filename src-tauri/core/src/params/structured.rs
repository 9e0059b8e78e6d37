//! Structured outputs: the `response_format` parameter (text, JSON object, or JSON following a
//! schema), the check of a schema before it is saved or sent (a schema the API would reject is
//! explained, with where in it the problem is), and the check of a reply against it after
//! streaming ([`check_reply`], stored with the reply as a [`SchemaCheck`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::tools::{meta_check, valid_name};
use super::{Kind, ParamType, Spec};
use crate::error::{Error, Result};

/// A schema is at most this many bytes of JSON.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// Strict mode: at most this many object properties in all, and this deep.
pub const MAX_STRICT_PROPERTIES: usize = 5000;
pub const MAX_STRICT_DEPTH: usize = 10;
/// A reply's check keeps at most this many errors.
pub const MAX_REPLY_ERRORS: usize = 20;

/// Stored (camelCase, in the conversation's parameters) as `{"type": "json_schema", "name": …,
/// "schema": {…}, "strict": true}`; sent as `ResponseFormatJsonObject` / `ResponseFormatJsonSchema`.
/// Text is the default, so choosing it clears the parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        schema: Value,
        /// The API's strict mode: the reply follows the schema exactly, and the schema must keep
        /// its rules (every object closed, every property required, a subset of keywords).
        #[serde(default)]
        strict: bool,
    },
}

impl ResponseFormat {
    /// Checks the format the way the API would; every problem of a schema is listed.
    pub fn validate(&self) -> Result<()> {
        let ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
            ..
        } = self
        else {
            return Ok(());
        };
        if !valid_name(name) {
            return Err(Error::invalid(format!(
                "The schema's name \"{name}\" is not allowed: use 1 to 64 letters, digits, _ or -."
            )));
        }
        let problems = schema_problems(schema, *strict);
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "The API would reject this schema: {}",
            problems.join("; ")
        )))
    }
}

/// Why the API would refuse `schema` (empty: it would not). Size and the meta-schema first;
/// with `strict`, the rules of strict mode at each place in the schema (JSON Pointer paths).
pub fn schema_problems(schema: &Value, strict: bool) -> Vec<String> {
    if serde_json::to_vec(schema).map_or(0, |v| v.len()) > MAX_SCHEMA_BYTES {
        return vec![format!("it is larger than {} KB", MAX_SCHEMA_BYTES / 1024)];
    }
    if !schema.is_object() {
        return vec!["a schema must be a JSON object".into()];
    }
    if let Err(e) = meta_check(schema) {
        return vec![format!("it is not a valid JSON Schema: {e}")];
    }
    let mut out = Vec::new();
    if strict {
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            out.push("in strict mode the top level must be {\"type\": \"object\"} (at /)".into());
        }
        if schema.get("anyOf").is_some() {
            out.push("in strict mode the top level cannot be anyOf (at /)".into());
        }
        let mut properties = 0;
        strict_rules(schema, "", 0, &mut properties, &mut out);
        if properties > MAX_STRICT_PROPERTIES {
            out.push(format!(
                "strict mode allows at most {MAX_STRICT_PROPERTIES} properties in all (got {properties})"
            ));
        }
    }
    out
}

/// Keywords strict mode does not accept.
const UNSUPPORTED: &[&str] = &[
    "allOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "uniqueItems",
    "minLength",
    "maxLength",
];

fn strict_rules(s: &Value, at: &str, depth: usize, props: &mut usize, out: &mut Vec<String>) {
    let Some(map) = s.as_object() else {
        return;
    };
    let here = if at.is_empty() { "/" } else { at };
    if depth > MAX_STRICT_DEPTH {
        out.push(format!(
            "strict mode allows at most {MAX_STRICT_DEPTH} levels of nesting (at {here})"
        ));
        return;
    }
    for k in UNSUPPORTED.iter().filter(|k| map.contains_key(**k)) {
        out.push(format!("strict mode does not support \"{k}\" (at {here})"));
    }
    let is_object = match map.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => map.contains_key("properties"),
    };
    if is_object {
        if map.get("additionalProperties") != Some(&Value::Bool(false)) {
            out.push(format!(
                "strict mode needs \"additionalProperties\": false on every object (at {here})"
            ));
        }
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(p) = map.get("properties").and_then(Value::as_object) {
            *props += p.len();
            let missing: Vec<&str> = p
                .keys()
                .map(String::as_str)
                .filter(|k| !required.contains(k))
                .collect();
            if !missing.is_empty() {
                out.push(format!(
                    "strict mode needs every property in \"required\" (missing {}: to make one optional, give it a null type) (at {here})",
                    missing.join(", ")
                ));
            }
        }
    }
    let esc = |k: &str| k.replace('~', "~0").replace('/', "~1");
    for (key, v) in map {
        match key.as_str() {
            "properties" | "$defs" | "definitions" => {
                for (name, sub) in v.as_object().into_iter().flatten() {
                    let path = format!("{at}/{key}/{}", esc(name));
                    strict_rules(sub, &path, depth + 1, props, out);
                }
            }
            "items" | "additionalProperties" => {
                strict_rules(v, &format!("{at}/{key}"), depth + 1, props, out)
            }
            "anyOf" | "prefixItems" => {
                for (i, sub) in v.as_array().into_iter().flatten().enumerate() {
                    strict_rules(sub, &format!("{at}/{key}/{i}"), depth + 1, props, out);
                }
            }
            _ => {}
        }
    }
}

impl ParamType for ResponseFormat {
    const KIND: Kind = Kind::ResponseFormat;
    fn check(self, _: &Spec) -> Result<Option<Self>> {
        self.validate()?;
        Ok((self != ResponseFormat::Text).then_some(self))
    }
    fn from_args(spec: &Spec, _: &[String]) -> Result<Self> {
        Err(Error::invalid(format!(
            "{}: use --json-schema FILE or --json-object.",
            spec.name
        )))
    }
    fn to_wire(&self) -> Value {
        match self {
            ResponseFormat::Text => serde_json::json!({"type": "text"}),
            ResponseFormat::JsonObject => serde_json::json!({"type": "json_object"}),
            ResponseFormat::JsonSchema {
                name,
                description,
                schema,
                strict,
            } => {
                let mut js = serde_json::json!({"name": name, "schema": schema, "strict": strict});
                if !description.trim().is_empty() {
                    js["description"] = description.clone().into();
                }
                serde_json::json!({"type": "json_schema", "json_schema": js})
            }
        }
    }
}

/// A reply checked against the conversation's response format: valid, or the exact errors (at
/// most [`MAX_REPLY_ERRORS`], each with where in the reply it is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaCheck {
    pub valid: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Checks a finished reply: JSON at all, an object for `json_object`, and valid against the
/// schema for `json_schema`. None for text (nothing to check).
pub fn check_reply(format: &ResponseFormat, reply: &str) -> Option<SchemaCheck> {
    let fail = |errors: Vec<String>| {
        Some(SchemaCheck {
            valid: false,
            errors,
        })
    };
    let value: Value = match format {
        ResponseFormat::Text => return None,
        _ => match serde_json::from_str(reply.trim()) {
            Ok(v) => v,
            Err(e) => return fail(vec![format!("the reply is not JSON: {e}")]),
        },
    };
    let errors: Vec<String> = match format {
        ResponseFormat::JsonObject if !value.is_object() => {
            vec!["the reply is JSON but not an object".into()]
        }
        ResponseFormat::JsonSchema { schema, .. } => match jsonschema::validator_for(schema) {
            Err(e) => vec![format!("the schema cannot be used: {e}")],
            Ok(v) => v
                .iter_errors(&value)
                .take(MAX_REPLY_ERRORS)
                .map(|e| {
                    let at = e.instance_path().to_string();
                    format!("{e} (at {})", if at.is_empty() { "/" } else { &at })
                })
                .collect(),
        },
        _ => Vec::new(),
    };
    Some(SchemaCheck {
        valid: errors.is_empty(),
        errors,
    })
}

#[cfg(test)]
mod tests;
