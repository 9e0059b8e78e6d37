//! Attached images: each stored once (content-addressed by the SHA-256 of the bytes sent), and
//! the images of each message, in order. A resend, a regenerate or an edit that keeps an image
//! refers to the same row; nothing is copied.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The setting holding the longest edge images are downscaled to before they are stored.
pub const MAX_EDGE_SETTING: &str = "image_max_edge";

/// One stored image: the bytes sent to the model (already downscaled) and its thumbnail.
#[derive(Clone, PartialEq)]
pub struct Blob {
    pub sha256: String,
    pub mime: String,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumb: Vec<u8>,
    pub thumb_mime: String,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Blob({} {} {}x{}, {} bytes)",
            self.sha256,
            self.mime,
            self.width,
            self.height,
            self.bytes.len()
        )
    }
}

/// How closely the model looks at an image (`detail` of an `image_url` part).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    #[default]
    Auto,
    Low,
    High,
}

impl Detail {
    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Auto => "auto",
            Detail::Low => "low",
            Detail::High => "high",
        }
    }

    pub fn parse(s: &str) -> Result<Detail> {
        match s {
            "auto" => Ok(Detail::Auto),
            "low" => Ok(Detail::Low),
            "high" => Ok(Detail::High),
            other => Err(Error::invalid(format!(
                "Image detail must be auto, low or high, not \"{other}\"."
            ))),
        }
    }
}

/// An image of a message: which stored image, under which name, at which detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRef {
    pub sha256: String,
    /// The file name the user attached (text only; shown, never interpreted).
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub detail: Detail,
}

/// An image of a message with what is known of it without its bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredImage {
    #[serde(flatten)]
    pub image: ImageRef,
    pub mime: String,
    pub width: u32,
    pub height: u32,
}

/// Stores an image unless the same bytes are already stored. Returns whether it was new.
pub fn store(conn: &Connection, blob: &Blob) -> Result<bool> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO blobs(sha256, mime, bytes, width, height, thumb, thumb_mime, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            blob.sha256,
            blob.mime,
            blob.bytes,
            blob.width,
            blob.height,
            blob.thumb,
            blob.thumb_mime,
            super::now_ms()
        ],
    )?;
    Ok(added == 1)
}

/// Whether an image with this hash is stored.
pub fn exists(conn: &Connection, sha256: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM blobs WHERE sha256 = ?1",
            [sha256],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Gives a message its images, in order. Every image must be stored already.
pub fn link(conn: &Connection, message_id: i64, images: &[ImageRef]) -> Result<()> {
    for (position, image) in images.iter().enumerate() {
        if !exists(conn, &image.sha256)? {
            return Err(Error::invalid(format!(
                "The image \"{}\" is no longer stored; attach it again.",
                image.name
            )));
        }
        conn.execute(
            "INSERT INTO message_images(message_id, position, sha256, name, detail)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                message_id,
                position as i64,
                image.sha256,
                image.name,
                image.detail.as_str()
            ],
        )?;
    }
    Ok(())
}

/// The images of a message, in order.
pub fn of_message(conn: &Connection, message_id: i64) -> Result<Vec<StoredImage>> {
    let mut stmt = conn.prepare_cached(
        "SELECT mi.sha256, mi.name, mi.detail, b.mime, b.width, b.height
         FROM message_images mi JOIN blobs b ON b.sha256 = mi.sha256
         WHERE mi.message_id = ?1 ORDER BY mi.position",
    )?;
    let rows = stmt.query_map([message_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, u32>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (sha256, name, detail, mime, width, height) = row?;
        out.push(StoredImage {
            image: ImageRef {
                sha256,
                name,
                detail: Detail::parse(&detail).unwrap_or_default(),
            },
            mime,
            width,
            height,
        });
    }
    Ok(out)
}

/// The stored bytes of an image and their type.
pub fn bytes(conn: &Connection, sha256: &str) -> Result<(String, Vec<u8>)> {
    conn.query_row(
        "SELECT mime, bytes FROM blobs WHERE sha256 = ?1",
        [sha256],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("image {sha256}")))
}

/// The thumbnail of an image and its type.
pub fn thumb(conn: &Connection, sha256: &str) -> Result<(String, Vec<u8>)> {
    conn.query_row(
        "SELECT thumb_mime, thumb FROM blobs WHERE sha256 = ?1",
        [sha256],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("image {sha256}")))
}

/// A whole stored image (for exports).
pub fn blob(conn: &Connection, sha256: &str) -> Result<Blob> {
    conn.query_row(
        "SELECT sha256, mime, bytes, width, height, thumb, thumb_mime FROM blobs WHERE sha256 = ?1",
        [sha256],
        |r| {
            Ok(Blob {
                sha256: r.get(0)?,
                mime: r.get(1)?,
                bytes: r.get(2)?,
                width: r.get(3)?,
                height: r.get(4)?,
                thumb: r.get(5)?,
                thumb_mime: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::not_found(format!("image {sha256}")))
}

/// How many distinct images are stored (tests and the About box).
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))?)
}

/// Removes images no message refers to that were stored before `older_than_ms` (attached in the
/// composer, then never sent). Returns how many went.
pub fn prune_unreferenced(conn: &Connection, older_than_ms: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM blobs WHERE created_at < ?1
           AND NOT EXISTS (SELECT 1 FROM message_images mi WHERE mi.sha256 = blobs.sha256)",
        [older_than_ms],
    )?)
}

/// The longest edge images are downscaled to, if the user set one.
pub fn max_edge(conn: &Connection) -> Result<Option<u32>> {
    Ok(super::profiles::setting(conn, MAX_EDGE_SETTING)?.and_then(|v| v.parse().ok()))
}

pub fn set_max_edge(conn: &Connection, edge: u32) -> Result<()> {
    super::profiles::set_setting(conn, MAX_EDGE_SETTING, &edge.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrations::migrate;

    fn blob(sha: &str) -> Blob {
        Blob {
            sha256: sha.into(),
            mime: "image/png".into(),
            bytes: vec![1, 2, 3],
            width: 1,
            height: 1,
            thumb: vec![4],
            thumb_mime: "image/png".into(),
        }
    }

    #[test]
    fn an_image_is_stored_once_and_only_unsent_old_ones_are_pruned() {
        let mut c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        migrate(&mut c).unwrap();
        assert!(store(&c, &blob("a")).unwrap());
        assert!(
            !store(&c, &blob("a")).unwrap(),
            "the same bytes again add nothing"
        );
        store(&c, &blob("b")).unwrap();
        let conv = crate::db::conversations::create(&c, None).unwrap();
        let m = crate::db::messages::insert_user(&mut c, conv.id, None, "hi").unwrap();
        let refs = [ImageRef {
            sha256: "a".into(),
            name: "a.png".into(),
            detail: Detail::Low,
        }];
        link(&c, m.id, &refs).unwrap();
        assert_eq!(of_message(&c, m.id).unwrap()[0].image, refs[0]);
        assert_eq!(count(&c).unwrap(), 2);
        // Fresh ones stay (they may be in the composer); old unsent ones go; sent ones stay.
        assert_eq!(prune_unreferenced(&c, 0).unwrap(), 0);
        assert_eq!(prune_unreferenced(&c, i64::MAX).unwrap(), 1);
        assert!(exists(&c, "a").unwrap() && !exists(&c, "b").unwrap());
        let ghost = ImageRef {
            sha256: "zz".into(),
            ..refs[0].clone()
        };
        assert!(link(&c, m.id, &[ghost]).is_err());
    }
}
