//! Attaching images and text files: what the composer and `parley ask --image/--file` do. The
//! decoding and downscaling run on a blocking thread, without the database lock.

use crate::attachments::{self, AttachedImage, ImageRef, Limits, TextFile};
use crate::chat::ChatService;
use crate::db::attachments as store;
use crate::error::Result;

impl ChatService {
    /// The longest edge images are downscaled to (the setting, else the default).
    pub fn image_max_edge(&self) -> Result<u32> {
        Ok(self
            .db
            .with(|c| store::max_edge(c))?
            .unwrap_or(attachments::DEFAULT_MAX_EDGE))
    }

    /// Sets the longest edge of images attached from now on (checked against its range).
    pub fn set_image_max_edge(&self, edge: u32) -> Result<Limits> {
        let edge = attachments::check_max_edge(edge)?;
        self.db.with(|c| store::set_max_edge(c, edge))?;
        self.attachment_limits()
    }

    /// The limits on attachments, as the window states them.
    pub fn attachment_limits(&self) -> Result<Limits> {
        Ok(attachments::limits(self.image_max_edge()?))
    }

    /// Checks, downscales and stores an image (once: the same image attached again is the same
    /// row). Returns what the composer shows and what `send` takes.
    pub async fn attach_image(&self, name: &str, bytes: Vec<u8>) -> Result<AttachedImage> {
        let edge = self.image_max_edge()?;
        let name = attachments::clean_name(name);
        let owned = name.clone();
        let (blob, downscaled) =
            crate::api::compute(move || attachments::images::prepare(&owned, &bytes, edge))
                .await??;
        let thumb = attachments::data_url(&blob.thumb_mime, &blob.thumb);
        let (width, height, sha256) = (blob.width, blob.height, blob.sha256.clone());
        self.read_blocking(move |c| store::store(c, &blob)).await?;
        Ok(AttachedImage {
            image: ImageRef {
                sha256,
                name,
                detail: Default::default(),
            },
            width,
            height,
            thumb,
            downscaled,
        })
    }

    /// Checks a text file (size, UTF-8) for attaching as a fenced block.
    pub fn attach_file(&self, name: &str, bytes: &[u8]) -> Result<TextFile> {
        attachments::text_file(name, bytes)
    }

    /// How many distinct images are stored.
    pub fn stored_image_count(&self) -> Result<i64> {
        self.db.with(|c| store::count(c))
    }
}
