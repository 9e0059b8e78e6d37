//! `parley conversations list [--json]`: every conversation with its folder, tags, pin and archive.

use std::io::Write;

use clap::Subcommand;
use serde_json::json;

use parley_core::error::Result;

use crate::service;

#[derive(Subcommand, Debug)]
pub enum Action {
    /// Every conversation (pinned first, then newest; archived ones last, marked).
    List {
        /// One JSON array instead of lines.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(action: Action) -> Result<i32> {
    let Action::List { json } = action;
    let service = service()?;
    let mut rows = service.listed_conversations(false)?;
    rows.extend(service.listed_conversations(true)?);
    let folders: std::collections::HashMap<i64, String> = service
        .list_folders()?
        .into_iter()
        .map(|f| Ok((f.id, service.folder_path(f.id)?.join("/"))))
        .collect::<Result<_>>()?;
    let tags: std::collections::HashMap<i64, String> = service
        .list_tags()?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "id": r.conversation.id,
                    "title": r.conversation.title,
                    "model": r.conversation.settings.model,
                    "createdAt": parley_core::transfer::iso(r.conversation.created_at),
                    "updatedAt": parley_core::transfer::iso(r.conversation.updated_at),
                    "folder": r.folder_id.and_then(|f| folders.get(&f)),
                    "tags": r.tags.iter().filter_map(|t| tags.get(t)).collect::<Vec<_>>(),
                    "pinned": r.pinned,
                    "archived": r.archived,
                })
            })
            .collect();
        // Escaped on a terminal as every printer (JSON leaves U+009B and bidi controls raw).
        let _ = woutln!(out, "{}", serde_json::Value::Array(list));
        return Ok(0);
    }
    for r in rows {
        let mut marks = Vec::new();
        if r.pinned {
            marks.push("pinned".to_string());
        }
        if r.archived {
            marks.push("archived".to_string());
        }
        if let Some(f) = r.folder_id.and_then(|f| folders.get(&f)) {
            marks.push(format!("in {f}"));
        }
        for t in r.tags.iter().filter_map(|t| tags.get(t)) {
            marks.push(format!("#{t}"));
        }
        let title = if r.conversation.title.is_empty() {
            "(untitled)"
        } else {
            &r.conversation.title
        };
        let _ = woutln!(
            out,
            "{}\t{}\t{}\t{}",
            r.conversation.id,
            parley_core::transfer::iso(r.conversation.updated_at),
            crate::one_line(title, 80),
            marks.join(" ")
        );
    }
    Ok(0)
}
