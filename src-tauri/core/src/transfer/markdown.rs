//! Markdown to read: each conversation with its settings, then every message of every branch,
//! numbered; a message that is not the first answer to its parent says which branch it is.

use std::collections::HashMap;
use std::io::Write;

use rusqlite::Connection;

use super::iso;
use crate::db::messages::{self, Message, Role};
use crate::db::{conversations, organise};
use crate::error::Result;

pub fn export(conn: &Connection, ids: &[i64], out: &mut dyn Write) -> Result<()> {
    for (i, &id) in ids.iter().enumerate() {
        if i > 0 {
            out.write_all(b"\n\n---\n\n")?;
        }
        conversation(conn, id, out)?;
    }
    Ok(())
}

fn all_messages(conn: &Connection, id: i64) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    let mut st =
        conn.prepare_cached("SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY id")?;
    for mid in st.query_map([id], |r| r.get::<_, i64>(0))? {
        out.push(messages::get(conn, mid?)?);
    }
    Ok(out)
}

fn conversation(conn: &Connection, id: i64, out: &mut dyn Write) -> Result<()> {
    let c = conversations::get(conn, id)?;
    let title = if c.title.is_empty() {
        "Untitled"
    } else {
        c.title.as_str()
    };
    writeln!(out, "# {title}\n")?;
    let mut facts = vec![format!("Started {}", iso(c.created_at))];
    if let Some(m) = &c.settings.model {
        facts.push(format!("model {m}"));
    }
    let state = organise::state_of(conn, id)?;
    if let Some(f) = state.folder_id {
        facts.push(format!(
            "folder {}",
            organise::folder_path(conn, f)?.join(" / ")
        ));
    }
    let tags: Vec<String> = organise::tags_of(conn, id)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    if !tags.is_empty() {
        facts.push(format!("tags {}", tags.join(", ")));
    }
    if state.pinned {
        facts.push("pinned".into());
    }
    if state.archived {
        facts.push("archived".into());
    }
    writeln!(out, "_{}_\n", facts.join(" · "))?;
    if !c.settings.system_prompt.is_empty() {
        writeln!(out, "**System prompt:**\n")?;
        for line in c.settings.system_prompt.lines() {
            writeln!(out, "> {line}")?;
        }
        writeln!(out)?;
    }

    let all = all_messages(conn, id)?;
    let active: std::collections::HashSet<i64> = messages::active_path(conn, id)?
        .iter()
        .map(|m| m.id)
        .collect();
    let number: HashMap<i64, usize> = all.iter().enumerate().map(|(i, m)| (m.id, i + 1)).collect();
    let mut children: HashMap<Option<i64>, Vec<&Message>> = HashMap::new();
    for m in &all {
        children.entry(m.parent_id).or_default().push(m);
    }
    // Depth first, the shown branch first at every fork.
    let mut stack: Vec<&Message> = Vec::new();
    fn push_children<'m>(
        stack: &mut Vec<&'m Message>,
        children: &HashMap<Option<i64>, Vec<&'m Message>>,
        active: &std::collections::HashSet<i64>,
        parent: Option<i64>,
    ) {
        if let Some(kids) = children.get(&parent) {
            let mut kids = kids.clone();
            kids.sort_by_key(|m| (!active.contains(&m.id), m.id));
            stack.extend(kids.into_iter().rev());
        }
    }
    push_children(&mut stack, &children, &active, None);
    while let Some(m) = stack.pop() {
        let siblings = children.get(&m.parent_id).map_or(1, Vec::len);
        let n = number[&m.id];
        let who = match m.role {
            Role::User => "User".to_string(),
            Role::System => "System".to_string(),
            Role::Tool => "Tool result".to_string(),
            Role::Assistant => match &m.model {
                Some(model) => format!("Assistant ({model})"),
                None => "Assistant".to_string(),
            },
        };
        writeln!(out, "### {n}. {who}\n")?;
        if siblings > 1 {
            let mut kids: Vec<i64> = children[&m.parent_id].iter().map(|x| x.id).collect();
            kids.sort_unstable();
            let b = kids.iter().position(|x| *x == m.id).unwrap_or(0) + 1;
            let shown = if active.contains(&m.id) {
                ", shown"
            } else {
                ""
            };
            let after = m
                .parent_id
                .map(|p| format!(" after message {}", number[&p]))
                .unwrap_or_default();
            writeln!(out, "_Branch {b} of {siblings}{after}{shown}_\n")?;
        }
        let mut meta = vec![iso(m.created_at)];
        if let (Some(p), Some(c)) = (m.prompt_tokens, m.completion_tokens) {
            meta.push(format!("{p} + {c} tokens"));
        }
        if m.status != messages::Status::Done {
            meta.push(m.status.as_str().to_string());
        }
        writeln!(out, "_{}_\n", meta.join(" · "))?;
        writeln!(out, "{}\n", m.content.trim_end())?;
        super::images::markdown(conn, m.id, out)?;
        push_children(&mut stack, &children, &active, Some(m.id));
    }
    Ok(())
}
