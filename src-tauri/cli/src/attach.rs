//! `parley ask --image FILE --file FILE` (both repeatable): images downscaled and stored once,
//! text files checked and sent as fenced blocks, all before anything else is saved.

use std::path::PathBuf;

use parley_core::api::{Detail, ImageRef, TextFile};
use parley_core::chat::ChatService;
use parley_core::error::{Error, Result};

#[derive(clap::Args, Debug, Default)]
pub struct AttachArgs {
    /// Attach an image (PNG, JPEG, WebP or GIF, up to 20 MB; downscaled to the longest edge set in
    /// the window, 2048 px by default). Repeatable.
    #[arg(long = "image", value_name = "FILE")]
    images: Vec<PathBuf>,
    /// How closely the model looks at the images: auto, low or high.
    #[arg(long, value_name = "DETAIL", default_value = "auto")]
    detail: String,
    /// Attach a text file (source code, Markdown, CSV, JSON, plain text; UTF-8, up to 512 KiB),
    /// sent as a fenced block with its name. Repeatable.
    #[arg(long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
}

fn read(path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::Io {
        message: format!("cannot read {}: {e}", path.display()),
    })
}

fn name_of(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads, checks and stores what the flags name.
pub async fn load(
    service: &ChatService,
    args: &AttachArgs,
) -> Result<(Vec<ImageRef>, Vec<TextFile>)> {
    let detail = Detail::parse(&args.detail)?;
    parley_core::attachments::check_count(args.images.len(), args.files.len())?;
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        files.push(service.attach_file(&name_of(path), &read(path)?)?);
    }
    let mut images = Vec::with_capacity(args.images.len());
    for path in &args.images {
        let mut attached = service.attach_image(&name_of(path), read(path)?).await?;
        attached.image.detail = detail;
        images.push(attached.image);
    }
    Ok((images, files))
}
