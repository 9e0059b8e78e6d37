//! What can be attached to a message, and its limits: images (sent as `image_url` parts, stored
//! once in the database) and text-like files (sent as fenced blocks with their name, inside the
//! message text). One definition for the window and the headless `parley`.

pub mod images;

use base64::Engine;
use serde::{Deserialize, Serialize};

pub use crate::db::attachments::{Detail, ImageRef, StoredImage};
use crate::error::{Error, Result};

/// Largest image accepted before it is downscaled.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// Largest width or height decoded at all (a bomb of a header is refused before decoding).
pub const MAX_IMAGE_PIXELS_EDGE: u32 = 16_384;
/// Largest text file attached.
pub const MAX_FILE_BYTES: usize = 512 * 1024;
/// Images and files together, per message.
pub const MAX_ATTACHMENTS: usize = 10;
/// Longest edge of a sent image unless the user sets another (the API's own high-detail limit).
pub const DEFAULT_MAX_EDGE: u32 = 2048;
/// The range the longest edge can be set to.
pub const MIN_MAX_EDGE: u32 = 256;
pub const MAX_MAX_EDGE: u32 = 8192;
/// Longest edge of a thumbnail.
pub const THUMB_EDGE: u32 = 192;
/// Longest file name kept (longer ones are cut).
const MAX_NAME_CHARS: usize = 200;

/// A text file attached to a message: checked UTF-8 under the size limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextFile {
    pub name: String,
    pub text: String,
}

/// An image just attached, as the composer shows it before sending.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedImage {
    #[serde(flatten)]
    pub image: ImageRef,
    pub width: u32,
    pub height: u32,
    /// A `data:` URL of the thumbnail (the CSP allows `data:` images).
    pub thumb: String,
    /// Whether the image was made smaller than it came.
    pub downscaled: bool,
}

/// The limits, as the window and `--help` state them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub max_image_bytes: usize,
    pub max_file_bytes: usize,
    pub max_attachments: usize,
    pub max_edge: u32,
    pub min_max_edge: u32,
    pub max_max_edge: u32,
}

pub fn limits(max_edge: u32) -> Limits {
    Limits {
        max_image_bytes: MAX_IMAGE_BYTES,
        max_file_bytes: MAX_FILE_BYTES,
        max_attachments: MAX_ATTACHMENTS,
        max_edge,
        min_max_edge: MIN_MAX_EDGE,
        max_max_edge: MAX_MAX_EDGE,
    }
}

/// A file name as text: one line, no control characters, at most `MAX_NAME_CHARS` characters.
/// Only the last path component is kept.
pub fn clean_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().to_string();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// A file name sent percent-encoded (`encodeURIComponent`), decoded; bad escapes stay as typed,
/// invalid UTF-8 becomes U+FFFD. Cleaned as [`clean_name`] says.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap() * 16 + hex(l).unwrap()) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    clean_name(&String::from_utf8_lossy(&out))
}

/// Checks a text file: under the size limit, valid UTF-8, no NUL bytes (a binary file).
pub fn text_file(name: &str, bytes: &[u8]) -> Result<TextFile> {
    let name = clean_name(name);
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::invalid(format!(
            "\"{name}\" is {} KiB; text files up to {} KiB can be attached.",
            bytes.len().div_ceil(1024),
            MAX_FILE_BYTES / 1024
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid(format!(
            "\"{name}\" is not UTF-8 text (byte {}); only text files can be attached as text.",
            e.valid_up_to()
        ))
    })?;
    if text.contains('\0') {
        return Err(Error::invalid(format!(
            "\"{name}\" looks like a binary file; only text files can be attached as text."
        )));
    }
    Ok(TextFile {
        name,
        text: text.to_string(),
    })
}

/// A file as a fenced block headed by its name. The fence is longer than any run of backticks in
/// the text, so the file cannot close it early.
pub fn fenced(file: &TextFile) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in file.text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    // The name is the info string: one line, no backticks (CommonMark forbids them there).
    let name: String = clean_name(&file.name).replace('`', "'");
    let body = file.text.strip_suffix('\n').unwrap_or(&file.text);
    format!("{fence}{name}\n{body}\n{fence}")
}

/// The message text with each file appended as a fenced block (without files, exactly as typed).
pub fn compose(content: &str, files: &[TextFile]) -> String {
    if files.is_empty() {
        return content.to_string();
    }
    let mut out = content.trim_end().to_string();
    for f in files {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&fenced(f));
    }
    out
}

/// Checks how many attachments a message has.
pub fn check_count(images: usize, files: usize) -> Result<()> {
    if images + files > MAX_ATTACHMENTS {
        return Err(Error::invalid(format!(
            "A message can carry {MAX_ATTACHMENTS} attachments; this one has {}. Nothing was sent.",
            images + files
        )));
    }
    Ok(())
}

/// Checks a longest-edge setting.
pub fn check_max_edge(edge: u32) -> Result<u32> {
    if !(MIN_MAX_EDGE..=MAX_MAX_EDGE).contains(&edge) {
        return Err(Error::invalid(format!(
            "The longest image edge must be between {MIN_MAX_EDGE} and {MAX_MAX_EDGE} pixels."
        )));
    }
    Ok(edge)
}

/// `data:<mime>;base64,<bytes>`.
pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Bytes of a base64 text (exports).
pub fn from_base64(text: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| Error::invalid(format!("An image in the file is not valid base64: {e}")))
}

pub fn to_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_becomes_a_fenced_block_its_backticks_cannot_close() {
        let f = TextFile {
            name: "a.md".into(),
            text: "before\n```\nnot the end\n".into(),
        };
        assert_eq!(fenced(&f), "````a.md\nbefore\n```\nnot the end\n````");
        let msg = compose("Look:\n", std::slice::from_ref(&f));
        assert!(msg.starts_with("Look:\n\n````a.md\n"), "{msg}");
        assert_eq!(compose("as typed \n", &[]), "as typed \n");
    }

    #[test]
    fn names_sent_percent_encoded_come_back_as_typed() {
        assert_eq!(percent_decoded("%E5%9B%BE%20a.png"), "图 a.png");
        assert_eq!(percent_decoded("100%25%zz"), "100%%zz");
        assert_eq!(percent_decoded("a%0Ab%2Fc"), "c");
    }

    #[test]
    fn hostile_names_stay_one_line_of_text() {
        assert_eq!(clean_name("../../etc/pa\nss`wd"), "pass`wd");
        let f = TextFile {
            name: "x`` y\r\n<img src=x onerror=alert(1)>".into(),
            text: "t".into(),
        };
        let block = fenced(&f);
        assert_eq!(block.lines().count(), 3, "{block}");
        assert!(!block.lines().next().unwrap()[3..].contains('`'));
        assert_eq!(clean_name("  \n "), "file");
    }

    #[test]
    fn text_files_are_checked_for_size_utf8_and_binary() {
        assert_eq!(
            text_file("a.csv", b"a,b\n1,2\n").unwrap().text,
            "a,b\n1,2\n"
        );
        let e = text_file("x.bin", &[0xff, 0xfe, 0x00]).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        assert!(text_file("nul.txt", b"a\0b").is_err());
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(text_file("big.txt", &big)
            .unwrap_err()
            .to_string()
            .contains("512 KiB"));
        assert!(check_count(MAX_ATTACHMENTS, 0).is_ok());
        assert!(check_count(MAX_ATTACHMENTS, 1).is_err());
        assert!(check_max_edge(100).is_err());
        assert_eq!(check_max_edge(1024).unwrap(), 1024);
    }
}
