//! The `tools` parameter: the function tools a conversation offers the model (name, description,
//! JSON-schema parameters), checked the way the API would before they are saved or sent. One entry
//! of the table in `params.rs`; its editor is the window's tools.js.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Kind, ParamType, Spec};
use crate::db::conversations::EndpointKind;
use crate::error::{Error, Result};

/// At most this many tools per conversation (OpenAI's limit is 128).
pub const MAX_TOOLS: usize = 128;
/// A tool definition (its schema included) is at most this many bytes of JSON.
pub const MAX_TOOL_BYTES: usize = 64 * 1024;
/// All of a conversation's tools together (they travel with the conversation's settings).
pub const MAX_TOOLS_TOTAL_BYTES: usize = 256 * 1024;

/// One function tool, as in `FunctionObject` of the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionTool {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// A JSON Schema object; `{"type": "object", "properties": {}}` when the function takes nothing.
    #[serde(default = "empty_parameters")]
    pub parameters: Value,
}

fn empty_parameters() -> Value {
    serde_json::json!({"type": "object", "properties": {}})
}

impl FunctionTool {
    /// The tool as the request body's `tools` wants it (`ChatCompletionTool`).
    pub fn wire(&self) -> Value {
        let mut function = serde_json::json!({ "name": self.name, "parameters": self.parameters });
        if !self.description.trim().is_empty() {
            function["description"] = self.description.clone().into();
        }
        serde_json::json!({ "type": "function", "function": function })
    }
}

/// A name the API accepts for a function or a response format: 1–64 of `a-zA-Z0-9_-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks tools the way the API would: names of 1–64 letters, digits, `_` or `-`, unique; the
/// parameters a valid JSON Schema whose top level is an object. Every problem is named.
pub fn validate(tools: &[FunctionTool]) -> Result<()> {
    if tools.len() > MAX_TOOLS {
        return Err(Error::invalid(format!(
            "At most {MAX_TOOLS} tools per conversation (got {}).",
            tools.len()
        )));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tools {
        let name = &t.name;
        if !valid_name(name) {
            return Err(Error::invalid(format!(
                "The tool name \"{name}\" is not allowed: use 1 to 64 letters, digits, _ or -."
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(Error::invalid(format!(
                "Two tools are named \"{name}\"; names must be unique."
            )));
        }
        let size = serde_json::to_vec(t).map_or(0, |v| v.len());
        if size > MAX_TOOL_BYTES {
            return Err(Error::invalid(format!(
                "The tool \"{name}\" is larger than {} KB.",
                MAX_TOOL_BYTES / 1024
            )));
        }
        total += size;
        check_schema(name, &t.parameters)?;
    }
    if total > MAX_TOOLS_TOTAL_BYTES {
        return Err(Error::invalid(format!(
            "The tools of a conversation are larger than {} KB together.",
            MAX_TOOLS_TOTAL_BYTES / 1024
        )));
    }
    Ok(())
}

/// A function's parameters: a JSON Schema (checked against the meta-schema) describing an object.
pub fn check_schema(name: &str, schema: &Value) -> Result<()> {
    if !schema.is_object() || schema.get("type").and_then(|t| t.as_str()) != Some("object") {
        return Err(Error::invalid(format!(
            "The parameters of \"{name}\" must be a JSON Schema object with \"type\": \"object\"."
        )));
    }
    meta_check(schema).map_err(|e| {
        Error::invalid(format!(
            "The parameters of \"{name}\" are not a valid JSON Schema: {e}."
        ))
    })
}

/// Checks a schema against the meta-schema of the draft the API uses (a `$schema` naming another
/// draft is not followed). The error names where in the schema the problem is.
pub(crate) fn meta_check(schema: &Value) -> std::result::Result<(), String> {
    let mut plain = schema.clone();
    if let Some(map) = plain.as_object_mut() {
        map.remove("$schema");
    }
    jsonschema::meta::validate(&plain).map_err(|e| format!("{e} (at {})", e.instance_path()))
}

impl ParamType for Vec<FunctionTool> {
    const KIND: Kind = Kind::Tools;
    fn check(self, _: &Spec) -> Result<Option<Self>> {
        validate(&self)?;
        Ok((!self.is_empty()).then_some(self))
    }
    fn from_args(spec: &Spec, _: &[String]) -> Result<Self> {
        Err(Error::invalid(format!(
            "{} is edited in its own editor, not as a flag.",
            spec.name
        )))
    }
    fn to_wire(&self) -> Value {
        Value::Array(self.iter().map(FunctionTool::wire).collect())
    }
    /// The Responses API takes each tool flat (`name` at the top, not under `function`).
    fn wire_fields(&self, spec: &Spec, endpoint: EndpointKind) -> Vec<(String, Value)> {
        let tools = match endpoint {
            EndpointKind::Responses => Value::Array(
                self.iter()
                    .map(|t| crate::openai::responses::flat_tool(&t.wire()))
                    .collect(),
            ),
            _ => self.to_wire(),
        };
        vec![(spec.name.to_string(), tools)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, parameters: Value) -> FunctionTool {
        FunctionTool {
            name: name.into(),
            description: "d".into(),
            parameters,
        }
    }

    #[test]
    fn tools_are_checked_like_the_api_would() {
        let ok = tool(
            "get_weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        );
        assert!(validate(std::slice::from_ref(&ok)).is_ok());
        assert_eq!(
            ok.wire(),
            json!({"type": "function", "function": {"name": "get_weather", "description": "d",
                "parameters": ok.parameters}})
        );
        let bad = [
            (tool("has space", json!({"type": "object"})), "not allowed"),
            (tool("", json!({"type": "object"})), "not allowed"),
            (tool("f", json!({"type": "string"})), "type"),
            (
                tool(
                    "f",
                    json!({"type": "object", "properties": {"a": {"type": "nonsense"}}}),
                ),
                "not a valid JSON Schema",
            ),
            (
                tool("f", json!({"type": "object", "required": "a"})),
                "not a valid JSON Schema",
            ),
        ];
        for (t, says) in bad {
            let err = validate(std::slice::from_ref(&t)).unwrap_err();
            assert_eq!(err.kind(), "invalid");
            assert!(err.to_string().contains(says), "{err} / {t:?}");
        }
        let twice = [ok.clone(), ok];
        assert!(validate(&twice).unwrap_err().to_string().contains("unique"));
    }
}
