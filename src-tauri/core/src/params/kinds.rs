//! Value types of the parameter table beyond numbers and lists: `reasoning_effort` (one of the
//! reference's values) and `logprobs` (a number of alternatives whose body fields differ by endpoint).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{in_range, EndpointKind, Kind, ParamType, Spec};
use crate::error::{Error, Result};

/// `ReasoningEffort` of the reference (`CreateChatCompletionRequest.reasoning_effort`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    None,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
    Max,
}

impl ReasoningEffort {
    pub const ALL: [ReasoningEffort; 7] = [
        ReasoningEffort::None,
        ReasoningEffort::Minimal,
        ReasoningEffort::Low,
        ReasoningEffort::Medium,
        ReasoningEffort::High,
        ReasoningEffort::Xhigh,
        ReasoningEffort::Max,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::None => "none",
            ReasoningEffort::Minimal => "minimal",
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
            ReasoningEffort::Xhigh => "xhigh",
            ReasoningEffort::Max => "max",
        }
    }
}

impl ParamType for ReasoningEffort {
    const KIND: Kind = Kind::Choice;
    const CHOICES: &'static [&'static str] =
        &["none", "minimal", "low", "medium", "high", "xhigh", "max"];
    fn check(self, _: &Spec) -> Result<Option<Self>> {
        Ok(Some(self))
    }
    fn from_args(spec: &Spec, raw: &[String]) -> Result<Self> {
        let s = raw.last().map(|s| s.trim()).unwrap_or_default();
        ReasoningEffort::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "--{}: {s:?} is not one of {}.",
                    spec.flag(),
                    Self::CHOICES.join(", ")
                ))
            })
    }
    fn to_wire(&self) -> Value {
        Value::from(self.as_str())
    }
}

/// The legacy completions endpoint lists at most 5 alternatives per token.
pub const MAX_TOP_LEGACY: i64 = 5;

/// Token probabilities asked for, with this many alternatives per token (0 = only the chosen
/// token's). Chat sends `logprobs: true` and `top_logprobs: N` (above 0); the legacy endpoint
/// `logprobs: N` (at most [`MAX_TOP_LEGACY`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Logprobs(pub i64);

impl ParamType for Logprobs {
    const KIND: Kind = Kind::Int;
    fn check(self, spec: &Spec) -> Result<Option<Self>> {
        if !in_range(spec, self.0 as f64) {
            return Err(Error::invalid(format!(
                "Alternatives per token go from {} to {} (got {}).",
                spec.min.unwrap_or(0.0),
                spec.max.unwrap_or(0.0),
                self.0
            )));
        }
        Ok(Some(self))
    }
    fn from_args(spec: &Spec, raw: &[String]) -> Result<Self> {
        i64::from_args(spec, raw).map(Logprobs)
    }
    fn to_wire(&self) -> Value {
        Value::from(self.0)
    }
    fn wire_fields(&self, _: &Spec, endpoint: EndpointKind) -> Vec<(String, Value)> {
        match endpoint {
            EndpointKind::Chat => {
                let mut out = vec![("logprobs".to_string(), Value::Bool(true))];
                if self.0 > 0 {
                    out.push(("top_logprobs".into(), Value::from(self.0)));
                }
                out
            }
            EndpointKind::Completions => {
                vec![("logprobs".into(), Value::from(self.0.min(MAX_TOP_LEGACY)))]
            }
            // Not in the table's endpoints for Responses (it would need `include`): never sent.
            EndpointKind::Responses => Vec::new(),
        }
    }
}
