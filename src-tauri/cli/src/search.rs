//! `parley search QUERY`: every message of every conversation (all branches, archived ones too),
//! through the same index as the window. Exit 0 with hits, 1 with none, 2 on an error (as grep).

use std::io::Write;

use parley_core::api::{SearchFilter, SearchHit};
use parley_core::error::Result;

use crate::{one_line, service};

/// `parley search`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Words to find (all of them, anywhere in a message; any text, no query syntax). A word that
    /// starts with `-` goes after `--`: `parley search -- -v`.
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    /// At most this many hits, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=200))]
    limit: u16,
    /// Print the hits as JSON (snippet as parts, `hit: true` on what matched).
    #[arg(long)]
    json: bool,
    /// Only messages of this model (or user messages of conversations with it).
    #[arg(long)]
    model: Option<String>,
}

pub fn run(args: Args) -> Result<i32> {
    match hits(args) {
        Err(e) => {
            errln!("parley: {e}");
            Ok(2)
        }
        found => found,
    }
}

fn hits(args: Args) -> Result<i32> {
    let service = service()?;
    let filter = SearchFilter {
        model: args.model,
        ..SearchFilter::default()
    };
    let hits = service.search(&args.query.join(" "), &filter, args.limit as usize)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        // JSON escapes C0 controls only: C1 (U+009B) and bidi controls are escaped on a terminal.
        let _ = woutln!(
            out,
            "{}",
            serde_json::to_string_pretty(&hits).unwrap_or_default()
        );
    } else {
        // Titles and snippets are model and server text: escaped on a terminal (SECURITY.md T1).
        for hit in &hits {
            let _ = woutln!(out, "{}", line(hit));
        }
    }
    Ok(if hits.is_empty() { 1 } else { 0 })
}

/// `#12 Title · 2026-12-04 17:50 · model: …[match]…`, one line per hit.
fn line(hit: &SearchHit) -> String {
    let snippet: String = hit
        .snippet
        .iter()
        .map(|p| {
            if p.hit {
                format!("[{}]", p.text)
            } else {
                p.text.clone()
            }
        })
        .collect();
    let title = if hit.title.trim().is_empty() {
        "(untitled)"
    } else {
        hit.title.as_str()
    };
    let model = hit.model.as_deref().unwrap_or(hit.role.as_str());
    format!(
        "#{}\t{}\t{}\t{}\t{}",
        hit.conversation_id,
        one_line(title, 60),
        parley_core::api::local_time(hit.created_at),
        model,
        one_line(&snippet, 200)
    )
}
