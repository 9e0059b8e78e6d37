//! Rows as JSON objects (column name → value) and back, for a lossless export that follows the
//! schema. On the way in, only columns the table really has are accepted (never an SQL name taken
//! from the file unchecked).

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, Params};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

pub type Object = Map<String, Value>;

/// Runs `sql` and returns each row as an object, leaving out the columns in `skip`.
pub fn select(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    skip: &[&str],
) -> Result<Vec<Object>> {
    let mut st = conn.prepare_cached(sql)?;
    let names: Vec<String> = st.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = st.query(params)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut obj = Map::new();
        for (i, name) in names.iter().enumerate() {
            if skip.contains(&name.as_str()) {
                continue;
            }
            let v = match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::from(n),
                ValueRef::Real(f) => {
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => Value::Null,
            };
            obj.insert(name.clone(), v);
        }
        out.push(obj);
    }
    Ok(out)
}

/// The columns of `table` (a fixed name from this crate, never from a file).
pub fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = st
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(names)
}

fn to_sql(v: &Value, column: &str) -> Result<SqlValue> {
    Ok(match v {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        _ => {
            return Err(Error::invalid(format!(
                "{column} should be a number or a text, not a list or an object"
            )))
        }
    })
}

/// Inserts `obj` into `table` plus the `fixed` columns; keys of `obj` that are not columns of the
/// table, or that are in `meta` (references handled by the caller), are refused or ignored.
/// Returns the new rowid.
pub fn insert(
    conn: &Connection,
    table: &str,
    allowed: &[String],
    obj: &Object,
    meta: &[&str],
    fixed: &[(&str, SqlValue)],
) -> Result<i64> {
    let mut names: Vec<String> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    for (k, v) in obj {
        if meta.contains(&k.as_str()) {
            continue;
        }
        if fixed.iter().any(|(f, _)| f == k) {
            continue;
        }
        if !allowed.iter().any(|c| c == k) {
            return Err(Error::invalid(format!(
                "unknown field {k:?} in a {table} entry"
            )));
        }
        names.push(format!("\"{k}\""));
        values.push(to_sql(v, k)?);
    }
    for (f, v) in fixed {
        names.push(format!("\"{f}\""));
        values.push(v.clone());
    }
    let marks = (1..=names.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("INSERT INTO {table}({}) VALUES ({marks})", names.join(", "));
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values.iter()))
        .map_err(|e| Error::invalid(format!("a {table} entry was refused: {e}")))?;
    Ok(conn.last_insert_rowid())
}
