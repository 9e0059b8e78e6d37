//! The model table: price per million tokens and context window, per model, editable by the
//! user. A model matches its own row, else the longest row name it starts with
//! (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use super::now_ms;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub model: String,
    /// US dollars per million prompt tokens.
    pub input_per_m: Option<f64>,
    /// US dollars per million completion tokens.
    pub output_per_m: Option<f64>,
    pub context_window: Option<i64>,
}

impl ModelInfo {
    fn validate(mut self) -> Result<Self> {
        self.model = self.model.trim().to_string();
        if self.model.is_empty() || self.model.len() > 200 {
            return Err(Error::invalid(
                "A model name is needed (at most 200 bytes).",
            ));
        }
        for (name, v) in [
            ("Input price", self.input_per_m),
            ("Output price", self.output_per_m),
        ] {
            if v.is_some_and(|v| !v.is_finite() || v < 0.0) {
                return Err(Error::invalid(format!("{name} must be a number ≥ 0.")));
            }
        }
        if self.context_window.is_some_and(|w| w < 1) {
            return Err(Error::invalid(
                "The context window must be at least 1 token.",
            ));
        }
        Ok(self)
    }

    /// The cost of a reply in US dollars, if both prices are known.
    pub fn cost(&self, prompt_tokens: i64, completion_tokens: i64) -> Option<f64> {
        Some(
            (prompt_tokens as f64 * self.input_per_m?
                + completion_tokens as f64 * self.output_per_m?)
                / 1_000_000.0,
        )
    }
}

pub fn list(conn: &Connection) -> Result<Vec<ModelInfo>> {
    let mut st = conn.prepare_cached(
        "SELECT model, input_per_m, output_per_m, context_window FROM models ORDER BY model",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(ModelInfo {
                model: r.get(0)?,
                input_per_m: r.get(1)?,
                output_per_m: r.get(2)?,
                context_window: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn upsert(conn: &Connection, info: ModelInfo) -> Result<ModelInfo> {
    let info = info.validate()?;
    conn.execute(
        "INSERT INTO models(model, input_per_m, output_per_m, context_window, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(model) DO UPDATE SET input_per_m = ?2, output_per_m = ?3, context_window = ?4,
             updated_at = ?5",
        params![
            info.model,
            info.input_per_m,
            info.output_per_m,
            info.context_window,
            now_ms()
        ],
    )?;
    Ok(info)
}

pub fn remove(conn: &Connection, model: &str) -> Result<()> {
    if conn.execute("DELETE FROM models WHERE model = ?1", [model])? == 0 {
        return Err(Error::not_found(format!(
            "model {model} in the price table"
        )));
    }
    Ok(())
}

/// The row for `model`: exact, else the longest prefix that ends at a `-`, `:` or `@`
/// boundary (so `gpt-4o` never prices `gpt-4o-mini` when that has its own row). The whole name
/// first (a row saved as `meta-llama/Llama-3.1-8B-Instruct`), then the part after its last `/`
/// (`openai/gpt-4o` priced as `gpt-4o`).
pub fn lookup(conn: &Connection, model: &str) -> Result<Option<ModelInfo>> {
    let rows = list(conn)?;
    let best = |name: &str| {
        (rows.iter())
            .filter(|row| {
                name == row.model
                    || name
                        .strip_prefix(row.model.as_str())
                        .is_some_and(|rest| rest.starts_with(['-', ':', '@']))
            })
            .max_by_key(|row| row.model.len())
            .cloned()
    };
    let short = model.rsplit('/').next().unwrap_or(model);
    Ok(best(model).or_else(|| best(short)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn lookup_prefers_the_most_specific_row_and_rows_are_editable() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            let mini = lookup(c, "gpt-4o-mini-2024-07-18")?.unwrap();
            assert_eq!(mini.model, "gpt-4o-mini");
            assert_eq!(lookup(c, "gpt-4o-2024-08-06")?.unwrap().model, "gpt-4o");
            assert_eq!(lookup(c, "openai/gpt-4o")?.unwrap().model, "gpt-4o");
            assert!(lookup(c, "gpt-4ox")?.is_none());
            assert!(lookup(c, "llama3")?.is_none());
            // 1M prompt tokens at $0.15 + 2M completion at $0.60.
            let cost = mini.cost(1_000_000, 2_000_000).unwrap();
            assert!((cost - 1.35).abs() < 1e-9, "{cost}");
            upsert(
                c,
                ModelInfo {
                    model: " llama3 ".into(),
                    input_per_m: Some(0.0),
                    output_per_m: None,
                    context_window: Some(8192),
                },
            )?;
            let l = lookup(c, "llama3:8b")?.unwrap();
            assert_eq!((l.model.as_str(), l.context_window), ("llama3", Some(8192)));
            assert_eq!(l.cost(10, 10), None);
            let bad = ModelInfo {
                model: "x".into(),
                input_per_m: Some(-1.0),
                output_per_m: None,
                context_window: None,
            };
            assert_eq!(upsert(c, bad).unwrap_err().kind(), "invalid");
            remove(c, "llama3")?;
            assert!(lookup(c, "llama3")?.is_none());
            // A row saved under an organisation's name matches that name (and its variants).
            let llama = ModelInfo {
                model: "meta-llama/Llama-3.1-8B-Instruct".into(),
                input_per_m: None,
                output_per_m: None,
                context_window: Some(8192),
            };
            upsert(c, llama)?;
            for name in [
                "meta-llama/Llama-3.1-8B-Instruct",
                "meta-llama/Llama-3.1-8B-Instruct:q4",
            ] {
                let row = lookup(c, name)?.expect(name);
                assert_eq!(row.context_window, Some(8192), "{name}");
            }
            Ok(())
        })
        .unwrap();
    }
}
