//! The images of exported conversations. Parley JSON keeps each image once per conversation
//! (`images.blobs`: SHA-256 → type and base64 bytes) and each message's list of them
//! (`images.messages`: message ref → [{sha256, name, detail}]); an import checks and stores every
//! image again (as if attached), so a file cannot smuggle in anything but a PNG, JPEG, WebP or GIF.
//! Markdown shows each image inline as a `data:` URL.

use std::collections::HashMap;
use std::io::Write;

use rusqlite::Connection;
use serde_json::{json, Map, Value};

use crate::attachments::{self, images, ImageRef, MAX_IMAGE_PIXELS_EDGE};
use crate::db::attachments as store;
use crate::error::{Error, Result};

/// `{"messages": {ref: [...]}, "blobs": {sha: {"mime", "data"}}}` for a conversation, or null
/// when it has no images. `refs` maps message ids to their refs in the file.
pub fn export(conn: &Connection, refs: &HashMap<i64, i64>) -> Result<Value> {
    let mut by_message = Map::new();
    let mut blobs = Map::new();
    let mut ids: Vec<(&i64, &i64)> = refs.iter().collect();
    ids.sort();
    for (id, r) in ids {
        let list = store::of_message(conn, *id)?;
        if list.is_empty() {
            continue;
        }
        for s in &list {
            if !blobs.contains_key(&s.image.sha256) {
                let (mime, bytes) = store::bytes(conn, &s.image.sha256)?;
                let data = attachments::to_base64(&bytes);
                blobs.insert(s.image.sha256.clone(), json!({"mime": mime, "data": data}));
            }
        }
        let refs: Vec<&ImageRef> = list.iter().map(|s| &s.image).collect();
        by_message.insert(r.to_string(), json!(refs));
    }
    if by_message.is_empty() {
        return Ok(Value::Null);
    }
    Ok(json!({"messages": by_message, "blobs": blobs}))
}

/// Stores the images of an imported conversation and links them to its new messages (`ids`:
/// ref in the file → new message id).
pub fn import(
    conn: &Connection,
    images_doc: Option<&Value>,
    ids: &HashMap<i64, i64>,
) -> Result<()> {
    let Some(doc) = images_doc.filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let bad = |what: &str| Error::invalid(format!("images: {what}"));
    let blobs = doc["blobs"].as_object().ok_or_else(|| bad("no blobs"))?;
    let messages = doc["messages"]
        .as_object()
        .ok_or_else(|| bad("no messages"))?;
    // The file's hash → the hash of the image as stored here.
    let mut stored: HashMap<String, String> = HashMap::new();
    for (r, list) in messages {
        let r: i64 = r
            .parse()
            .map_err(|_| bad("a message ref is not a number"))?;
        let id = *ids.get(&r).ok_or_else(|| bad("a ref names no message"))?;
        let list: Vec<ImageRef> =
            serde_json::from_value(list.clone()).map_err(|e| bad(&e.to_string()))?;
        attachments::check_count(list.len(), 0)?;
        let mut linked = Vec::with_capacity(list.len());
        for mut image in list {
            let sha = match stored.get(&image.sha256) {
                Some(s) => s.clone(),
                None => {
                    let blob = &blobs
                        .get(&image.sha256)
                        .ok_or_else(|| bad("an image is missing"))?;
                    let bytes = attachments::from_base64(blob["data"].as_str().unwrap_or(""))?;
                    let name = attachments::clean_name(&image.name);
                    let (b, _) = images::prepare(&name, &bytes, MAX_IMAGE_PIXELS_EDGE)?;
                    store::store(conn, &b)?;
                    stored.insert(image.sha256.clone(), b.sha256.clone());
                    b.sha256
                }
            };
            image.sha256 = sha;
            image.name = attachments::clean_name(&image.name);
            linked.push(image);
        }
        store::link(conn, id, &linked)?;
    }
    Ok(())
}

/// The images of a message as Markdown images with `data:` URLs (names as alt text, with the
/// characters that would end it escaped).
pub fn markdown(conn: &Connection, message_id: i64, out: &mut dyn Write) -> Result<()> {
    for s in store::of_message(conn, message_id)? {
        let (mime, bytes) = store::bytes(conn, &s.image.sha256)?;
        let alt: String = s
            .image
            .name
            .chars()
            .flat_map(|c| match c {
                '[' | ']' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        writeln!(out, "![{alt}]({})\n", attachments::data_url(&mime, &bytes))?;
    }
    Ok(())
}
