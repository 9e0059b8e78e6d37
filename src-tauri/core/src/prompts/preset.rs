//! A prompt's preset: the profile, model, parameters and endpoint a conversation started from the
//! prompt gets. Typed and checked by the parameter table (`params.rs`), not free JSON; presets
//! stored before it was typed (parameters at the top level, or nested under `settings`) still read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::params::{EndpointKind, Params};

/// The longest preset model name.
pub const MAX_MODEL_CHARS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "Stored")]
pub struct Preset {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<i64>,
    /// Flat, as a conversation's settings: `{"temperature": 0.2, "endpoint": "completions"}`.
    pub settings: PresetSettings,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresetSettings {
    #[serde(flatten)]
    pub params: Params,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointKind>,
}

/// What is read: today's shape, with parameters also accepted at the top level (older presets).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    profile_id: Option<i64>,
    #[serde(default)]
    settings: PresetSettings,
    #[serde(flatten)]
    top: Params,
}

impl From<Stored> for Preset {
    fn from(s: Stored) -> Preset {
        Preset {
            model: s.model,
            profile_id: s.profile_id,
            settings: PresetSettings {
                params: Params::merge(&s.settings.params, &s.top),
                endpoint: s.settings.endpoint,
            },
        }
    }
}

impl Preset {
    /// Checks a preset being saved or imported: the table's ranges, a short model name.
    pub fn validate(mut self) -> Result<Preset> {
        self.model = self
            .model
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty());
        if let Some(m) = &self.model {
            if m.chars().count() > MAX_MODEL_CHARS || m.chars().any(char::is_control) {
                return Err(Error::invalid(format!(
                    "A preset's model name has at most {MAX_MODEL_CHARS} characters."
                )));
            }
        }
        self.settings.params = self.settings.params.validate()?;
        Ok(self)
    }

    /// Reads a stored preset; values the table no longer accepts are dropped, so old data opens.
    pub fn from_stored(json: &str) -> Option<Preset> {
        let v: Value = serde_json::from_str(json).ok()?;
        let obj = v.as_object()?;
        let settings = obj.get("settings").and_then(Value::as_object);
        let params = Params::merge(
            &settings.map(Params::from_object).unwrap_or_default(),
            &Params::from_object(obj),
        );
        let endpoint = settings
            .and_then(|s| s.get("endpoint"))
            .and_then(Value::as_str)
            .and_then(|e| EndpointKind::parse(e).ok());
        let preset = Preset {
            model: obj.get("model").and_then(Value::as_str).map(str::to_string),
            profile_id: obj.get("profileId").and_then(Value::as_i64),
            settings: PresetSettings { params, endpoint },
        };
        Some(Preset {
            model: preset
                .model
                .filter(|m| m.chars().count() <= MAX_MODEL_CHARS),
            ..preset
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_presets_read_in_both_shapes() {
        let top = Preset::from_stored(r#"{"model": "m", "temperature": 0.2}"#).unwrap();
        assert_eq!(
            (top.model.as_deref(), top.settings.params.temperature),
            (Some("m"), Some(0.2))
        );
        let nested = Preset::from_stored(
            r#"{"profileId": 3, "settings": {"topP": 0.5, "stop": ["END"], "endpoint": "completions",
                "temperature": 7}}"#,
        )
        .unwrap();
        assert_eq!(nested.profile_id, Some(3));
        assert_eq!(nested.settings.params.top_p, Some(0.5));
        // Out of range in old data: dropped, the rest kept.
        assert_eq!(nested.settings.params.temperature, None);
        assert_eq!(nested.settings.endpoint, Some(EndpointKind::Completions));
        assert_eq!(Preset::from_stored("[1]"), None);
        // The same shapes through serde (an import file).
        let via_serde: Preset =
            serde_json::from_str(r#"{"model": "m", "temperature": 0.2}"#).unwrap();
        assert_eq!(via_serde, top);
    }

    #[test]
    fn a_preset_being_saved_is_checked_by_the_parameter_table() {
        let bad: Preset = serde_json::from_str(r#"{"settings": {"temperature": 3}}"#).unwrap();
        assert_eq!(bad.validate().unwrap_err().kind(), "invalid");
        let long = Preset {
            model: Some("m".repeat(MAX_MODEL_CHARS + 1)),
            ..Default::default()
        };
        assert_eq!(long.validate().unwrap_err().kind(), "invalid");
        let ok: Preset =
            serde_json::from_str(r#"{"model": " m ", "settings": {"n": 2, "endpoint": "chat"}}"#)
                .unwrap();
        let ok = ok.validate().unwrap();
        assert_eq!(
            serde_json::to_value(&ok).unwrap(),
            serde_json::json!({"model": "m", "settings": {"n": 2, "endpoint": "chat"}})
        );
    }
}
