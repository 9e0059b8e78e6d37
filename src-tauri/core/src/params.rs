//! The request parameters (sampling and the rest), defined ONCE in the `params!` table below: name,
//! type, range, doc, which endpoints take it, whether a profile can default it. The table drives
//! validation, the typed [`Params`] (stored as JSON on conversations, profiles and prompt presets),
//! `merge` (a conversation over its profile), the request body ([`Params::wire`]), the CLI flags of
//! `parley ask` / `parley profiles add` and the window's forms (through [`spec`]).
//!
//! Adding a parameter: one entry in the table (plus, when its type is new, an impl of
//! [`ParamType`]) and its label in `ui/js/i18n.js` (`params.<camelName>`). Stored parameters live
//! in the JSON `params` columns, so no migration is needed unless old data must be rewritten.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Which API a request goes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// `/v1/chat/completions`
    #[default]
    Chat,
    /// The legacy text completion, `/v1/completions`.
    Completions,
    /// The Responses API, `/v1/responses` (history sent as input items, nothing kept server-side).
    Responses,
}

impl EndpointKind {
    pub const ALL: [EndpointKind; 3] = [
        EndpointKind::Chat,
        EndpointKind::Completions,
        EndpointKind::Responses,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EndpointKind::Chat => "chat",
            EndpointKind::Completions => "completions",
            EndpointKind::Responses => "responses",
        }
    }
    /// How people name it in a message ("the Responses API").
    pub fn title(self) -> &'static str {
        match self {
            EndpointKind::Chat => "the chat endpoint",
            EndpointKind::Completions => "the legacy completions endpoint",
            EndpointKind::Responses => "the Responses API",
        }
    }
    pub fn parse(s: &str) -> Result<EndpointKind> {
        match s {
            "chat" => Ok(EndpointKind::Chat),
            "completions" => Ok(EndpointKind::Completions),
            "responses" => Ok(EndpointKind::Responses),
            other => Err(Error::invalid(format!(
                "Unknown endpoint {other:?}: use chat, completions or responses."
            ))),
        }
    }
}

/// The value type of a parameter, as the window and the CLI see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Float,
    Int,
    /// A list of short strings (`stop`); `max` is the most items.
    Strings,
    /// One of `choices` (`reasoning_effort`).
    Choice,
    /// Function tools: edited in their own editor (the window's tools.js), not a flag.
    Tools,
    /// Text, JSON object or JSON schema: edited in the schema editor (the window's schema.js);
    /// `parley ask --json-schema FILE` / `--json-object`.
    ResponseFormat,
}

impl Kind {
    /// Has its own editor: not among the generic inputs and flags built from the table.
    pub fn own_editor(self) -> bool {
        matches!(self, Kind::Tools | Kind::ResponseFormat)
    }
}

/// One parameter of the table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The Rust field and the wire name (`top_p`).
    pub name: &'static str,
    pub kind: Kind,
    /// Inclusive bounds (for `Strings`: the number of items); `None`: unbounded.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The step of the window's number input.
    pub step: Option<f64>,
    /// One line for `--help` and the window's tooltip.
    pub doc: &'static str,
    pub endpoints: &'static [EndpointKind],
    /// Can a provider profile set a default for it?
    pub profile_default: bool,
    /// A one-letter CLI flag (`-t` for temperature).
    pub short: Option<char>,
    /// The allowed values of a `Choice`, as sent (empty for other kinds).
    pub choices: &'static [&'static str],
}

impl Spec {
    /// The JSON / JavaScript key (`topP`); the window's label is `params.<key>` in i18n.js.
    pub fn key(&self) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in self.name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }
    /// The long CLI flag (`top-p`).
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
    pub fn accepts(&self, endpoint: EndpointKind) -> bool {
        self.endpoints.contains(&endpoint)
    }
    fn out_of_range(&self, what: impl std::fmt::Display) -> Error {
        let name = self.name;
        Error::invalid(match (self.min, self.max, self.kind) {
            (Some(min), Some(max), Kind::Strings) => {
                format!("{name}: between {min} and {max} items (got {what}).")
            }
            (Some(min), Some(max), Kind::Int) => {
                format!("{name} must be a whole number between {min} and {max} (got {what}).")
            }
            (Some(min), Some(max), _) => {
                format!("{name} must be between {min} and {max} (got {what}).")
            }
            (Some(min), None, _) => format!("{name} must be at least {min} (got {what})."),
            (None, Some(max), _) => format!("{name} must be at most {max} (got {what})."),
            (None, None, _) => format!("{name}: {what} is not valid."),
        })
    }
}

/// The longest stop sequence, in characters.
pub const MAX_STOP_CHARS: usize = 256;

/// A value type a parameter can have: how it is checked, read from the command line and sent.
pub trait ParamType: Sized + Clone + PartialEq {
    const KIND: Kind;
    /// The allowed values of a `Choice`.
    const CHOICES: &'static [&'static str] = &[];
    /// Checks (and normalises: empty stop sequences are dropped) a value; `None` = cleared.
    fn check(self, spec: &Spec) -> Result<Option<Self>>;
    /// Reads the command line's values of the flag (repeated flags give several).
    fn from_args(spec: &Spec, raw: &[String]) -> Result<Self>;
    fn to_wire(&self) -> Value;
    /// The request body's fields for this value on `endpoint`: by default one, under the
    /// parameter's name (`logprobs` differs by endpoint).
    fn wire_fields(&self, spec: &Spec, endpoint: EndpointKind) -> Vec<(String, Value)> {
        let _ = endpoint;
        vec![(spec.name.to_string(), self.to_wire())]
    }
}

mod scalars;
use scalars::in_range;

/// Every endpoint.
const ALL: &[EndpointKind] = &EndpointKind::ALL;
/// Chat and legacy completions; the Responses API refuses these (`Unknown parameter`).
const NOT_RESPONSES: &[EndpointKind] = &[EndpointKind::Chat, EndpointKind::Completions];
/// Chat and the Responses API (which takes them in its own shape: `reasoning.effort`, flat tools).
const CHAT_AND_RESPONSES: &[EndpointKind] = &[EndpointKind::Chat, EndpointKind::Responses];
/// Chat only (the Responses API's `text.format` is not mapped yet).
const CHAT: &[EndpointKind] = &[EndpointKind::Chat];

mod kinds;
pub mod structured;
pub mod tools;
pub use kinds::{Logprobs, ReasoningEffort, MAX_TOP_LEGACY};
pub use structured::{ResponseFormat, SchemaCheck};
pub use tools::FunctionTool;

/// The table. Each entry: `doc`, `field: Type { kind-specific bounds, endpoints, profile default }`.
macro_rules! params {
    ($(
        #[doc = $doc:literal]
        $field:ident : $ty:ty {
            min: $min:expr, max: $max:expr, step: $step:expr, short: $short:expr,
            endpoints: $endpoints:expr, profile_default: $profile:expr $(,)?
        }
    )*) => {
        /// The request parameters; `None` = not set (the profile's default, else the server's).
        /// Serialised with camelCase keys, unset ones left out; unknown keys are ignored.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Params {
            $(
                #[doc = $doc]
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        /// Every parameter, in the order the forms show them.
        pub const SPEC: &[Spec] = &[$(
            Spec {
                name: stringify!($field),
                kind: <$ty as ParamType>::KIND,
                min: $min,
                max: $max,
                step: $step,
                doc: $doc,
                endpoints: $endpoints,
                profile_default: $profile,
                short: $short,
                choices: <$ty as ParamType>::CHOICES,
            },
        )*];

        impl Params {
            /// Checks every set value against its range; clears empty lists.
            pub fn validate(self) -> Result<Params> {
                let mut specs = SPEC.iter();
                Ok(Params {$(
                    $field: {
                        let spec = specs.next().expect("one spec per field");
                        match self.$field {
                            Some(v) => ParamType::check(v, spec)?,
                            None => None,
                        }
                    },
                )*})
            }

            /// `over`'s values, and `under`'s where `over` has none.
            pub fn merge(over: &Params, under: &Params) -> Params {
                Params {$( $field: over.$field.clone().or_else(|| under.$field.clone()), )*}
            }

            /// The set values as (spec, wire value), in table order.
            pub fn entries(&self) -> Vec<(&'static Spec, Value)> {
                let mut specs = SPEC.iter();
                let mut out = Vec::new();
                $(
                    let spec = specs.next().expect("one spec per field");
                    if let Some(v) = &self.$field {
                        out.push((spec, ParamType::to_wire(v)));
                    }
                )*
                out
            }

            /// The body fields of the set values that `endpoint` takes, in table order; the output
            /// limit is left out (the request builder names it by model).
            pub fn wire_fields(&self, endpoint: EndpointKind) -> Vec<(String, Value)> {
                let mut specs = SPEC.iter();
                let mut out = Vec::new();
                $(
                    let spec = specs.next().expect("one spec per field");
                    if let Some(v) = &self.$field {
                        if spec.accepts(endpoint) && spec.name != OUTPUT_LIMIT {
                            out.extend(ParamType::wire_fields(v, spec, endpoint));
                        }
                    }
                )*
                out
            }

            /// Sets one parameter by name from the command line's values of its flag.
            pub fn set_from_args(&mut self, name: &str, raw: &[String]) -> Result<()> {
                let spec = SPEC.iter().find(|s| s.name == name)
                    .ok_or_else(|| Error::invalid(format!("Unknown parameter {name:?}.")))?;
                match name {
                    $( stringify!($field) => self.$field = Some(<$ty as ParamType>::from_args(spec, raw)?), )*
                    _ => unreachable!("every spec names a field"),
                }
                Ok(())
            }

            /// Clears the parameters a profile cannot default (`n`…).
            fn clear(&mut self, name: &str) {
                match name {
                    $( stringify!($field) => self.$field = None, )*
                    _ => {}
                }
            }
        }
    };
}

params! {
    /// Sampling temperature: higher is more random.
    temperature: f64 { min: Some(0.0), max: Some(2.0), step: Some(0.1), short: Some('t'),
        endpoints: ALL, profile_default: true }
    /// Upper bound on the reply's length, in tokens.
    max_tokens: i64 { min: Some(1.0), max: Some(1_000_000.0), step: Some(1.0), short: None,
        endpoints: ALL, profile_default: true }
    /// Nucleus sampling: only the tokens of this top probability mass.
    top_p: f64 { min: Some(0.0), max: Some(1.0), step: Some(0.05), short: None,
        endpoints: ALL, profile_default: true }
    /// Penalty for tokens by how often they appeared so far.
    frequency_penalty: f64 { min: Some(-2.0), max: Some(2.0), step: Some(0.1), short: None,
        endpoints: NOT_RESPONSES, profile_default: true }
    /// Penalty for tokens that appeared at all so far.
    presence_penalty: f64 { min: Some(-2.0), max: Some(2.0), step: Some(0.1), short: None,
        endpoints: NOT_RESPONSES, profile_default: true }
    /// Sequences where the reply stops (repeat the flag; one per line in the window).
    stop: Vec<String> { min: Some(0.0), max: Some(4.0), step: None, short: None,
        endpoints: NOT_RESPONSES, profile_default: true }
    /// Seed for reproducible sampling, where the server supports it.
    seed: i64 { min: None, max: None, step: Some(1.0), short: None,
        endpoints: NOT_RESPONSES, profile_default: true }
    /// How many choices to generate for each message; they show side by side.
    n: i64 { min: Some(1.0), max: Some(8.0), step: Some(1.0), short: None,
        endpoints: NOT_RESPONSES, profile_default: false }
    /// How hard a reasoning model thinks before answering (not every model takes every value).
    reasoning_effort: ReasoningEffort { min: None, max: None, step: None, short: None,
        endpoints: CHAT_AND_RESPONSES, profile_default: true }
    /// Token probabilities with N alternatives per token (chat 0–20; the legacy endpoint sends at most 5).
    logprobs: Logprobs { min: Some(0.0), max: Some(20.0), step: Some(1.0), short: None,
        endpoints: NOT_RESPONSES, profile_default: false }
    /// Function tools the model may call (never executed by Parley).
    tools: Vec<FunctionTool> { min: None, max: None, step: None, short: None,
        endpoints: CHAT_AND_RESPONSES, profile_default: false }
    /// The reply's format: text, a JSON object, or JSON following a schema.
    response_format: ResponseFormat { min: None, max: None, step: None, short: None,
        endpoints: CHAT, profile_default: false }
}

/// The parameter sent under its own name by the request builder (`max_tokens` or
/// `max_completion_tokens`, by model), so [`Params::wire`] leaves it out.
pub const OUTPUT_LIMIT: &str = "max_tokens";

impl Params {
    /// Checks a profile's defaults: the ranges, and only parameters a profile can default.
    pub fn validate_defaults(self) -> Result<Params> {
        let p = self.validate()?;
        if let Some((spec, _)) = p.entries().into_iter().find(|(s, _)| !s.profile_default) {
            return Err(Error::invalid(format!(
                "{} is set per conversation, not as a profile default.",
                spec.name
            )));
        }
        Ok(p)
    }

    /// Only the parameters a profile can default (for presets and profiles read from old data).
    pub fn defaults_only(mut self) -> Params {
        for s in SPEC.iter().filter(|s| !s.profile_default) {
            self.clear(s.name);
        }
        self
    }

    /// Only the parameters `endpoint` takes (the others stay stored, but are not sent or used).
    pub fn for_endpoint(mut self, endpoint: EndpointKind) -> Params {
        for s in SPEC.iter().filter(|s| !s.accepts(endpoint)) {
            self.clear(s.name);
        }
        self
    }

    /// The set parameters `endpoint` does not take, in table order.
    pub fn refused_by(&self, endpoint: EndpointKind) -> Vec<&'static Spec> {
        self.entries()
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| !s.accepts(endpoint))
            .collect()
    }

    /// An error naming the set parameters `endpoint` does not take (a command line that asks for
    /// them gets this rather than having them dropped without a word).
    pub fn check_endpoint(&self, endpoint: EndpointKind) -> Result<()> {
        let refused = self.refused_by(endpoint);
        if refused.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = refused.iter().map(|s| format!("--{}", s.flag())).collect();
        Err(Error::invalid(format!(
            "{} does not take {}; leave {} out or use another endpoint.",
            endpoint.title(),
            names.join(", "),
            if names.len() == 1 { "it" } else { "them" }
        )))
    }

    /// The body fields of these parameters for `endpoint`, by wire name; unset ones, ones the
    /// endpoint does not take and the output limit are left out.
    pub fn wire(&self, endpoint: EndpointKind) -> serde_json::Map<String, Value> {
        self.wire_fields(endpoint).into_iter().collect()
    }

    /// Reads stored JSON; a value that no longer passes the table is dropped, not an error, so
    /// old data always opens.
    pub fn from_stored(json: Option<&str>) -> Params {
        let Some(json) = json else {
            return Params::default();
        };
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(json) else {
            return Params::default();
        };
        Params::from_object(&map)
    }

    /// The parameters among `map`'s camelCase keys, each kept only when it passes the table.
    pub fn from_object(map: &serde_json::Map<String, Value>) -> Params {
        let mut out = Params::default();
        for spec in SPEC {
            let Some(v) = map.get(&spec.key()) else {
                continue;
            };
            let one = serde_json::json!({ spec.key(): v });
            if let Ok(Ok(p)) = serde_json::from_value::<Params>(one).map(Params::validate) {
                out = Params::merge(&out, &p);
            }
        }
        out
    }

    /// As stored: compact JSON of the set values.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// The table as the window receives it (`param_spec` command): every parameter with its key.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecView {
    #[serde(flatten)]
    pub spec: Spec,
    pub key: String,
}

pub fn spec() -> Vec<SpecView> {
    SPEC.iter()
        .map(|s| SpecView {
            spec: *s,
            key: s.key(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
