//! `parley import FILE`: a Parley JSON or ChatGPT export in (format detected), all or nothing.

use parley_core::error::Result;

/// `parley import FILE`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A Parley JSON export, or `conversations.json` from a ChatGPT data export.
    file: std::path::PathBuf,
}

pub fn run(args: Args) -> Result<i32> {
    let s = crate::service()?.import_conversations(&args.file, &mut |_| true)?;
    outln!(
        "Imported {} conversation(s), {} message(s) from a {} export; {} already here (not imported again); \
         {} part(s) that are not text and {} message(s) without text left out.",
        s.conversations,
        s.messages,
        if s.format == "chatgpt" { "ChatGPT" } else { "Parley" },
        s.duplicates,
        s.skipped_parts,
        s.skipped_messages
    );
    Ok(0)
}
