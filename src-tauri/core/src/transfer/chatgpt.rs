//! The ChatGPT data export (`conversations.json`): a list of conversations, each a `mapping` tree
//! of nodes (message, parent, children) with `current_node` the branch last shown. Text parts are
//! kept, with every branch; images, files, tool output and hidden context are left out and counted.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Read;

use rusqlite::params;
use serde::de::{SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::{json_error, Sink, MAX_MESSAGES_PER_CONVERSATION};
use crate::db::conversations::MAX_TITLE_CHARS;
use crate::error::{Error, Result};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Conversation {
    title: Option<String>,
    create_time: Option<f64>,
    update_time: Option<f64>,
    mapping: HashMap<String, Node>,
    current_node: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Node {
    message: Option<Message>,
    parent: Option<String>,
    children: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message {
    author: Author,
    content: Option<Content>,
    create_time: Option<f64>,
    metadata: Option<Metadata>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Author {
    role: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Content {
    content_type: String,
    parts: Option<Vec<Value>>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metadata {
    model_slug: Option<String>,
    is_visually_hidden_from_conversation: Option<bool>,
}

pub(crate) fn import(sink: &mut Sink, reader: impl Read) -> Result<()> {
    use serde::Deserializer;
    let mut de = serde_json::Deserializer::from_reader(reader);
    let result = (&mut de).deserialize_seq(List(&mut *sink));
    match result.and_then(|_| de.end()) {
        Ok(()) => Ok(()),
        Err(e) => Err(json_error(sink, e)),
    }
}

struct List<'s, 'a>(&'s mut Sink<'a>);

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of ChatGPT conversations")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        use serde::de::Error as _;
        let mut index = 0usize;
        while let Some(conv) = seq.next_element::<Conversation>()? {
            index += 1;
            if let Err(e) = import_one(self.0, conv).and_then(|_| self.0.tick()) {
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

/// Seconds since 1970 (how ChatGPT writes times) as milliseconds; None when absent or impossible.
fn ms(seconds: Option<f64>) -> Option<i64> {
    // Before 1970 or after the year 9999 is no time a conversation was had (a time near i64's
    // limit overflowed the arithmetic on it: found by fuzzing).
    seconds
        .filter(|s| (0.0..=MAX_SECONDS).contains(s))
        .map(|s| (s * 1000.0).round() as i64)
}

/// 9999-12-31T23:59:59Z.
const MAX_SECONDS: f64 = 253_402_300_799.0;

/// The text of a message, and how many parts were left out.
fn text_of(m: &Message) -> (String, usize) {
    let Some(content) = &m.content else {
        return (String::new(), 0);
    };
    match content.content_type.as_str() {
        "text" | "multimodal_text" => {
            let mut skipped = 0;
            let mut texts = Vec::new();
            for part in content.parts.iter().flatten() {
                match part {
                    Value::String(s) if !s.is_empty() => texts.push(s.as_str()),
                    Value::String(_) => {}
                    _ => skipped += 1,
                }
            }
            (texts.join("\n\n"), skipped)
        }
        "code" => match content.text.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => (format!("```\n{t}\n```"), 0),
            None => (String::new(), 0),
        },
        _ => (
            String::new(),
            content.parts.as_ref().map_or(1, |p| p.len().max(1)),
        ),
    }
}

struct Kept {
    role: &'static str,
    content: String,
    model: Option<String>,
    created_at: i64,
}

fn import_one(sink: &mut Sink, conv: Conversation) -> Result<()> {
    if conv.mapping.len() > MAX_MESSAGES_PER_CONVERSATION {
        return Err(Error::invalid(format!(
            "{} nodes; at most {MAX_MESSAGES_PER_CONVERSATION} per conversation",
            conv.mapping.len()
        )));
    }
    let created_at = ms(conv.create_time).unwrap_or(0);
    let updated_at = ms(conv.update_time).unwrap_or(created_at);
    let title: String = conv
        .title
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect();

    // Which nodes become messages.
    let mut kept: HashMap<&str, Kept> = HashMap::new();
    let (mut skipped_parts, mut skipped_messages) = (0, 0);
    for (id, node) in &conv.mapping {
        let Some(m) = &node.message else { continue };
        let role = match m.author.role.as_str() {
            "user" => "user",
            "assistant" => "assistant",
            "system" => "system",
            _ => "",
        };
        let hidden = m
            .metadata
            .as_ref()
            .and_then(|x| x.is_visually_hidden_from_conversation)
            == Some(true);
        let (text, parts) = text_of(m);
        skipped_parts += parts;
        if role.is_empty() || hidden || text.trim().is_empty() {
            if parts > 0 || (role.is_empty() && !m.author.role.is_empty()) {
                skipped_messages += 1;
            }
            continue;
        }
        kept.insert(
            id.as_str(),
            Kept {
                role,
                content: text,
                model: m
                    .metadata
                    .as_ref()
                    .and_then(|x| x.model_slug.clone())
                    .filter(|_| role == "assistant"),
                created_at: ms(m.create_time).unwrap_or(created_at),
            },
        );
    }
    if sink.duplicate_of(&title, created_at, kept.len())?.is_some() {
        sink.summary.duplicates += 1;
        return Ok(());
    }

    // The branch last shown: the current node and its ancestors.
    let mut shown: HashSet<&str> = HashSet::new();
    let mut cursor = conv.current_node.as_deref();
    while let Some(id) = cursor {
        if !shown.insert(id) {
            break;
        }
        cursor = conv.mapping.get(id).and_then(|n| n.parent.as_deref());
    }
    let chosen_at = kept
        .values()
        .map(|k| k.created_at)
        .max()
        .unwrap_or(created_at)
        .max(updated_at)
        + 1;

    let conn = sink.conn;
    conn.execute(
        "INSERT INTO conversations(title, created_at, updated_at) VALUES (?1, ?2, ?3)",
        params![title, created_at, updated_at],
    )?;
    let conv_id = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at, selected_at)
         VALUES (?1, ?2, ?3, ?4, 'done', ?5, ?6, ?7)",
    )?;
    // Depth first from the roots, parents before children; a left-out node hands its children to
    // its nearest kept ancestor.
    let mut roots: Vec<&str> = conv
        .mapping
        .iter()
        .filter(|(_, n)| {
            n.parent
                .as_deref()
                .is_none_or(|p| !conv.mapping.contains_key(p))
        })
        .map(|(id, _)| id.as_str())
        .collect();
    roots.sort_unstable();
    let mut stack: Vec<(&str, Option<i64>)> = roots.into_iter().rev().map(|r| (r, None)).collect();
    let mut visited: HashSet<&str> = HashSet::new();
    let mut count = 0;
    while let Some((id, parent)) = stack.pop() {
        if !visited.insert(id) {
            continue;
        }
        let mut here = parent;
        if let Some(k) = kept.get(id) {
            let selected = shown.contains(id).then_some(chosen_at);
            insert.execute(params![
                conv_id,
                parent,
                k.role,
                k.content,
                k.model,
                k.created_at,
                selected
            ])?;
            here = Some(conn.last_insert_rowid());
            count += 1;
        }
        if let Some(node) = conv.mapping.get(id) {
            for child in node.children.iter().rev() {
                if conv.mapping.contains_key(child.as_str()) {
                    stack.push((child.as_str(), here));
                }
            }
        }
    }
    sink.summary.conversations += 1;
    sink.summary.messages += count;
    sink.summary.skipped_parts += skipped_parts;
    sink.summary.skipped_messages += skipped_messages;
    Ok(())
}
