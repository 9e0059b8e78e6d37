//! `parley export (ID… | --all | --folder ID) [--format md|json] [-o FILE]`: conversations out.

use std::io::Write;

use parley_core::api::{Format, Selection};
use parley_core::error::{Error, Result};

use crate::service;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum FormatArg {
    /// Markdown, to read (every branch marked).
    Md,
    /// Parley JSON, lossless (import it back with `parley import`).
    #[default]
    Json,
}

/// `parley export`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Conversation ids, as `parley conversations list` shows them.
    #[arg(required_unless_present_any = ["all", "folder"], conflicts_with_all = ["all", "folder"])]
    ids: Vec<i64>,
    /// Every conversation (archived ones too).
    #[arg(long, conflicts_with = "folder")]
    all: bool,
    /// A folder (by id) and every folder below it.
    #[arg(long)]
    folder: Option<i64>,
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    format: FormatArg,
    /// The file to write (created readable by you only); without it, stdout.
    #[arg(short = 'o', long)]
    output: Option<std::path::PathBuf>,
}

pub fn run(args: Args) -> Result<i32> {
    let format = match args.format {
        FormatArg::Md => Format::Markdown,
        FormatArg::Json => Format::Json,
    };
    let selection = match (args.all, args.folder) {
        (true, _) => Selection::All,
        (_, Some(f)) => Selection::Folder(f),
        _ => Selection::Ids(args.ids),
    };
    let service = service()?;
    match &args.output {
        Some(path) => {
            let n = service.export_conversations(&selection, format, path)?;
            errln!("parley: {n} conversation(s) written to {}", path.display());
        }
        None => {
            // Markdown carries model text as it is: escaped on a terminal (SECURITY.md T1).
            let mut out = crate::term::stdout_writer();
            service.export_conversations_to(&selection, format, &mut out)?;
            out.flush().map_err(|e| Error::Io {
                message: e.to_string(),
            })?;
        }
    }
    Ok(0)
}
