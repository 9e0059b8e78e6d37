//! Parley JSON: lossless (the whole message tree with every column: parameters, usage, timings;
//! ratings and their history, arena battles, judge verdicts with their rubric; folder, tags and
//! images). Message ids become `ref` numbers local to the conversation, so export → import →
//! export gives the same file. Written and read one conversation at a time.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension};
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{json, Value};

use super::rows::{self, Object};
use super::{json_error, Sink, MAX_MESSAGES_PER_CONVERSATION};
use crate::db::organise;
use crate::error::{Error, Result};

pub const FORMAT: &str = "parley-export";
pub const VERSION: i64 = 1;

const CONV_SKIP: &[&str] = &["id", "folder_id", "profile_id", "deleted_at"];
const MSG_SKIP: &[&str] = &[
    "id",
    "conversation_id",
    "parent_id",
    "writer",
    "prompt_version_id",
];

/// Writes `{"format":"parley-export","version":1,"conversations":[…]}`, one conversation a line.
pub fn export(conn: &Connection, ids: &[i64], out: &mut dyn Write) -> Result<()> {
    write!(
        out,
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"conversations\":["
    )?;
    for (i, &id) in ids.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, &conversation(conn, id)?).map_err(|e| Error::Io {
            message: e.to_string(),
        })?;
    }
    out.write_all(b"\n]}\n")?;
    Ok(())
}

fn opt_name(conn: &Connection, sql: &str, id: i64) -> Result<Value> {
    let name: Option<String> = conn
        .query_row(sql, [id], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(name.map_or(Value::Null, Value::String))
}

/// One conversation as a JSON object.
pub fn conversation(conn: &Connection, id: i64) -> Result<Value> {
    let conv = rows::select(
        conn,
        "SELECT * FROM conversations WHERE id = ?1",
        [id],
        CONV_SKIP,
    )?
    .pop()
    .ok_or_else(|| Error::not_found(format!("conversation {id}")))?;
    let profile = opt_name(
        conn,
        "SELECT p.name FROM conversations c JOIN profiles p ON p.id = c.profile_id WHERE c.id = ?1",
        id,
    )?;
    let folder_id: Option<i64> = conn.query_row(
        "SELECT folder_id FROM conversations WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let folder = match folder_id {
        Some(f) => organise::folder_path(conn, f)?,
        None => Vec::new(),
    };
    let tags: Vec<Value> = organise::tags_of(conn, id)?
        .into_iter()
        .map(|t| json!({"name": t.name, "color": t.color}))
        .collect();

    let raw_ids: Vec<(i64, Option<i64>)> = {
        let mut st = conn.prepare_cached(
            "SELECT id, parent_id FROM messages WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let v = st
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        v
    };
    let refs: HashMap<i64, i64> = raw_ids
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i as i64 + 1))
        .collect();
    let r = |m: Option<i64>| {
        m.and_then(|m| refs.get(&m))
            .map_or(Value::Null, |n| Value::from(*n))
    };
    let mut messages = rows::select(
        conn,
        "SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY id",
        [id],
        MSG_SKIP,
    )?;
    for (m, (mid, parent)) in messages.iter_mut().zip(&raw_ids) {
        m.insert("ref".into(), r(Some(*mid)));
        m.insert("parent_ref".into(), r(*parent));
    }
    let with_ref = |sql: &str, skip: &[&str], refs_of: &[(&str, &str)]| -> Result<Vec<Object>> {
        let mut all = rows::select(conn, sql, [id], &[])?;
        for o in all.iter_mut() {
            for (col, as_ref) in refs_of {
                let m = o.get(*col).and_then(Value::as_i64);
                o.insert((*as_ref).into(), r(m));
            }
            for s in skip {
                o.remove(*s);
            }
        }
        Ok(all)
    };
    let ratings = with_ref(
        "SELECT r.* FROM ratings r JOIN messages m ON m.id = r.message_id WHERE m.conversation_id = ?1 ORDER BY m.id",
        &["message_id"],
        &[("message_id", "message_ref")],
    )?;
    let history = with_ref(
        "SELECT h.* FROM rating_history h JOIN messages m ON m.id = h.message_id WHERE m.conversation_id = ?1 ORDER BY h.id",
        &["id", "message_id"],
        &[("message_id", "message_ref")],
    )?;
    let battles = with_ref(
        "SELECT * FROM battles WHERE conversation_id = ?1 ORDER BY id",
        &["id", "conversation_id", "reply_a", "reply_b"],
        &[("reply_a", "reply_a_ref"), ("reply_b", "reply_b_ref")],
    )?;
    let mut verdicts = with_ref(
        "SELECT v.*, r.name AS rubric_name, r.version AS rubric_version, r.kind AS rubric_kind,
                r.body AS rubric_body, p.name AS judge_profile
         FROM judge_verdicts v JOIN messages m ON m.id = v.message_id
         JOIN rubrics r ON r.id = v.rubric_id LEFT JOIN profiles p ON p.id = v.judge_profile_id
         WHERE m.conversation_id = ?1 ORDER BY v.id",
        &[
            "id",
            "message_id",
            "other_message_id",
            "rubric_id",
            "judge_profile_id",
        ],
        &[
            ("message_id", "message_ref"),
            ("other_message_id", "other_ref"),
        ],
    )?;
    for v in verdicts.iter_mut() {
        let mut rubric = Object::new();
        for k in ["name", "version", "kind", "body"] {
            rubric.insert(
                k.into(),
                v.remove(&format!("rubric_{k}")).unwrap_or(Value::Null),
            );
        }
        v.insert("rubric".into(), Value::Object(rubric));
    }
    Ok(json!({
        "conversation": conv,
        "profile": profile,
        "folder": folder,
        "tags": tags,
        "messages": messages,
        "ratings": ratings,
        "rating_history": history,
        "battles": battles,
        "verdicts": verdicts,
        "images": super::images::export(conn, &refs)?,
    }))
}

/// Streams the top-level object; each element of `conversations` is imported as it is read.
pub(crate) fn import(sink: &mut Sink, reader: impl Read) -> Result<()> {
    use serde::Deserializer;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let seen_format = (&mut de).deserialize_map(Top(&mut *sink));
    match seen_format.and_then(|ok| de.end().map(|_| ok)) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::invalid(
            "This JSON file is not a Parley export (no \"format\": \"parley-export\"). Nothing was imported.",
        )),
        Err(e) => Err(json_error(sink, e)),
    }
}

struct Top<'s, 'a>(&'s mut Sink<'a>);

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Parley export object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<bool, A::Error> {
        use serde::de::Error as _;
        let mut format_ok = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => {
                    let f: String = map.next_value()?;
                    if f != FORMAT {
                        return Err(A::Error::custom(format!("unknown format {f:?}")));
                    }
                    format_ok = true;
                }
                "version" => {
                    let v: i64 = map.next_value()?;
                    if v > VERSION {
                        return Err(A::Error::custom(format!(
                            "this export is version {v}, written by a newer Parley; this one reads up to {VERSION}"
                        )));
                    }
                }
                "conversations" => map.next_value_seed(Conversations(&mut *self.0))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(format_ok)
    }
}

struct Conversations<'s, 'a>(&'s mut Sink<'a>);

impl<'de> DeserializeSeed<'de> for Conversations<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Conversations<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of conversations")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        use serde::de::Error as _;
        let mut index = 0usize;
        while let Some(doc) = seq.next_element::<Object>()? {
            index += 1;
            let result = import_one(self.0, &doc).and_then(|_| self.0.tick());
            if let Err(e) = result {
                let message = match &e {
                    Error::Cancelled => "cancelled".to_string(),
                    other => format!("conversation {index}: {other}"),
                };
                self.0.failure = Some(super::failure(e, &message));
                return Err(A::Error::custom(message));
            }
        }
        Ok(())
    }
}

fn list<'v>(doc: &'v Object, key: &str) -> Result<&'v [Value]> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(Error::invalid(format!("{key} should be a list"))),
    }
}

fn object<'v>(v: &'v Value, what: &str) -> Result<&'v Object> {
    v.as_object()
        .ok_or_else(|| Error::invalid(format!("each of {what} should be an object")))
}

fn import_one(sink: &mut Sink, doc: &Object) -> Result<()> {
    let conn = sink.conn;
    let conv = doc
        .get("conversation")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::invalid("no \"conversation\" object"))?;
    let messages = list(doc, "messages")?;
    if messages.len() > MAX_MESSAGES_PER_CONVERSATION {
        return Err(Error::invalid(format!(
            "{} messages; at most {MAX_MESSAGES_PER_CONVERSATION} per conversation",
            messages.len()
        )));
    }
    let title = conv.get("title").and_then(Value::as_str).unwrap_or("");
    let created_at = conv
        .get("created_at")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::invalid("the conversation has no created_at"))?;
    if sink
        .duplicate_of(title, created_at, messages.len())?
        .is_some()
    {
        sink.summary.duplicates += 1;
        return Ok(());
    }
    let profile_id: Option<i64> = match doc.get("profile").and_then(Value::as_str) {
        Some(name) => conn
            .query_row("SELECT id FROM profiles WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()?,
        None => None,
    };
    let folder: Vec<String> = list(doc, "folder")?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let folder_id = organise::ensure_folder_path(conn, &folder)?;
    let allowed = |table: &str, skip: &[&str]| -> Result<Vec<String>> {
        Ok(rows::columns(conn, table)?
            .into_iter()
            .filter(|c| !skip.contains(&c.as_str()))
            .collect())
    };
    let conv_id = rows::insert(
        conn,
        "conversations",
        &allowed("conversations", CONV_SKIP)?,
        conv,
        &[],
        &[
            ("profile_id", profile_id.into()),
            ("folder_id", folder_id.into()),
        ],
    )?;
    for t in list(doc, "tags")? {
        let t = object(t, "tags")?;
        let name = t.get("name").and_then(Value::as_str).unwrap_or("");
        let color = t.get("color").and_then(Value::as_str);
        let tag = organise::ensure_tag_keeping_color(conn, name, color)?;
        conn.execute(
            "INSERT OR IGNORE INTO conversation_tags(conversation_id, tag_id) VALUES (?1, ?2)",
            [conv_id, tag.id],
        )?;
    }

    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(messages.len());
    let lookup = |ids: &HashMap<i64, i64>, o: &Object, key: &str| -> Result<Option<i64>> {
        match o.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(|r| ids.get(&r).copied())
                .map(Some)
                .ok_or_else(|| Error::invalid(format!("{key} {v} names no earlier message"))),
        }
    };
    let msg_cols = allowed("messages", MSG_SKIP)?;
    for (i, m) in messages.iter().enumerate() {
        let m = object(m, "messages")?;
        let parent = lookup(&ids, m, "parent_ref")
            .map_err(|e| Error::invalid(format!("message {}: {e}", i + 1)))?;
        let new_id = rows::insert(
            conn,
            "messages",
            &msg_cols,
            m,
            &["ref", "parent_ref"],
            &[
                ("conversation_id", conv_id.into()),
                ("parent_id", parent.into()),
            ],
        )
        .map_err(|e| Error::invalid(format!("message {}: {e}", i + 1)))?;
        let r = m.get("ref").and_then(Value::as_i64).unwrap_or(i as i64 + 1);
        ids.insert(r, new_id);
    }
    sink.summary.messages += messages.len();
    super::images::import(conn, doc.get("images"), &ids)?;

    let rating_cols = allowed("ratings", &["message_id"])?;
    for o in list(doc, "ratings")? {
        let o = object(o, "ratings")?;
        let m = lookup(&ids, o, "message_ref")?;
        rows::insert(
            conn,
            "ratings",
            &rating_cols,
            o,
            &["message_ref"],
            &[("message_id", m.into())],
        )?;
    }
    let history_cols = allowed("rating_history", &["id", "message_id"])?;
    for o in list(doc, "rating_history")? {
        let o = object(o, "rating_history")?;
        let m = lookup(&ids, o, "message_ref")?;
        rows::insert(
            conn,
            "rating_history",
            &history_cols,
            o,
            &["message_ref"],
            &[("message_id", m.into())],
        )?;
    }
    let battle_cols = allowed("battles", &["id", "conversation_id", "reply_a", "reply_b"])?;
    for o in list(doc, "battles")? {
        let o = object(o, "battles")?;
        let (a, b) = (
            lookup(&ids, o, "reply_a_ref")?,
            lookup(&ids, o, "reply_b_ref")?,
        );
        rows::insert(
            conn,
            "battles",
            &battle_cols,
            o,
            &["reply_a_ref", "reply_b_ref"],
            &[
                ("conversation_id", conv_id.into()),
                ("reply_a", a.into()),
                ("reply_b", b.into()),
            ],
        )?;
    }
    let verdict_cols = allowed(
        "judge_verdicts",
        &[
            "id",
            "message_id",
            "other_message_id",
            "rubric_id",
            "judge_profile_id",
        ],
    )?;
    for o in list(doc, "verdicts")? {
        let o = object(o, "verdicts")?;
        let (m, other) = (
            lookup(&ids, o, "message_ref")?,
            lookup(&ids, o, "other_ref")?,
        );
        let rubric_id = rubric(conn, o.get("rubric"))?;
        let judge_profile: Option<i64> = match o.get("judge_profile").and_then(Value::as_str) {
            Some(name) => conn
                .query_row("SELECT id FROM profiles WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?,
            None => None,
        };
        rows::insert(
            conn,
            "judge_verdicts",
            &verdict_cols,
            o,
            &["message_ref", "other_ref", "rubric", "judge_profile"],
            &[
                ("message_id", m.into()),
                ("other_message_id", other.into()),
                ("rubric_id", SqlValue::Integer(rubric_id)),
                ("judge_profile_id", judge_profile.into()),
            ],
        )?;
    }
    sink.summary.conversations += 1;
    Ok(())
}

/// The rubric a verdict was given under: found by name and version, else added as it was.
fn rubric(conn: &Connection, v: Option<&Value>) -> Result<i64> {
    let o = v
        .and_then(Value::as_object)
        .ok_or_else(|| Error::invalid("a verdict has no rubric"))?;
    let name = o.get("name").and_then(Value::as_str).unwrap_or("imported");
    let version = o.get("version").and_then(Value::as_i64).unwrap_or(1);
    if let Some(id) = conn
        .query_row(
            "SELECT id FROM rubrics WHERE name = ?1 AND version = ?2",
            rusqlite::params![name, version],
            |r| r.get(0),
        )
        .optional()?
    {
        return Ok(id);
    }
    conn.execute(
        "INSERT INTO rubrics(name, version, kind, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![
            name,
            version,
            o.get("kind").and_then(Value::as_str).unwrap_or("single"),
            o.get("body").and_then(Value::as_str).unwrap_or(""),
            crate::db::now_ms()
        ],
    )
    .map_err(|e| Error::invalid(format!("a verdict's rubric was refused: {e}")))?;
    Ok(conn.last_insert_rowid())
}
