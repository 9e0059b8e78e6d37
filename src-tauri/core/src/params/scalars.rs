//! The table's plain kinds: numbers (checked against the entry's range and step) and lists of
//! stop strings.

use super::{Kind, ParamType, Spec, MAX_STOP_CHARS};
use crate::error::{Error, Result};
use serde_json::Value;

pub(super) fn in_range(spec: &Spec, v: f64) -> bool {
    !v.is_nan() && spec.min.is_none_or(|m| v >= m) && spec.max.is_none_or(|m| v <= m)
}

impl ParamType for f64 {
    const KIND: Kind = Kind::Float;
    fn check(self, spec: &Spec) -> Result<Option<f64>> {
        if !in_range(spec, self) {
            return Err(spec.out_of_range(self));
        }
        Ok(Some(self))
    }
    fn from_args(spec: &Spec, raw: &[String]) -> Result<f64> {
        let s = raw.last().map(|s| s.trim()).unwrap_or_default();
        s.parse()
            .map_err(|_| Error::invalid(format!("--{}: {s:?} is not a number.", spec.flag())))
    }
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
}

impl ParamType for i64 {
    const KIND: Kind = Kind::Int;
    fn check(self, spec: &Spec) -> Result<Option<i64>> {
        if !in_range(spec, self as f64) {
            return Err(spec.out_of_range(self));
        }
        Ok(Some(self))
    }
    fn from_args(spec: &Spec, raw: &[String]) -> Result<i64> {
        let s = raw.last().map(|s| s.trim()).unwrap_or_default();
        s.parse()
            .map_err(|_| Error::invalid(format!("--{}: {s:?} is not a whole number.", spec.flag())))
    }
    fn to_wire(&self) -> Value {
        Value::from(*self)
    }
}

impl ParamType for Vec<String> {
    const KIND: Kind = Kind::Strings;
    fn check(mut self, spec: &Spec) -> Result<Option<Vec<String>>> {
        // Whitespace is meaningful in a stop sequence ("\n\n"); only empty ones are dropped.
        self.retain(|s| !s.is_empty());
        if self.is_empty() {
            return Ok(None);
        }
        if !in_range(spec, self.len() as f64) {
            return Err(spec.out_of_range(self.len()));
        }
        if self
            .iter()
            .any(|s| s.chars().count() > MAX_STOP_CHARS || s.contains('\0'))
        {
            return Err(Error::invalid(format!(
                "{}: an item is longer than {MAX_STOP_CHARS} characters.",
                spec.name
            )));
        }
        Ok(Some(self))
    }
    fn from_args(_: &Spec, raw: &[String]) -> Result<Vec<String>> {
        Ok(raw.to_vec())
    }
    fn to_wire(&self) -> Value {
        Value::from(self.clone())
    }
}
