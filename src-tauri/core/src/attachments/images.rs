//! An attached image made ready to send: its format checked (PNG, JPEG, WebP, GIF), its camera
//! orientation applied, downscaled to the longest edge allowed, hashed, and given a thumbnail.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use super::{MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS_EDGE, THUMB_EDGE};
use crate::db::attachments::Blob;
use crate::error::{Error, Result};

/// The formats the API takes, with their MIME types.
fn mime_of(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("image/png"),
        ImageFormat::Jpeg => Some("image/jpeg"),
        ImageFormat::WebP => Some("image/webp"),
        ImageFormat::Gif => Some("image/gif"),
        _ => None,
    }
}

fn unreadable(name: &str, e: impl std::fmt::Display) -> Error {
    Error::invalid(format!("\"{name}\" could not be read as an image: {e}"))
}

/// Checks, orients, downscales (longest edge at most `max_edge`) and hashes an image, and makes
/// its thumbnail. An image that needs no change is kept byte for byte. Also says whether it was
/// made smaller.
pub fn prepare(name: &str, bytes: &[u8], max_edge: u32) -> Result<(Blob, bool)> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Error::invalid(format!(
            "\"{name}\" is {:.1} MB; images up to {} MB can be attached.",
            bytes.len() as f64 / 1_048_576.0,
            MAX_IMAGE_BYTES / 1_048_576
        )));
    }
    let format = image::guess_format(bytes).ok();
    let Some(mime) = format.and_then(mime_of) else {
        return Err(Error::invalid(format!(
            "\"{name}\" is not a PNG, JPEG, WebP or GIF image."
        )));
    };
    let format = format.expect("checked above");
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_PIXELS_EDGE);
    limits.max_image_height = Some(MAX_IMAGE_PIXELS_EDGE);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| unreadable(name, e))?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| unreadable(name, e))?;
    img.apply_orientation(orientation);

    let longest = img.width().max(img.height());
    let resized = longest > max_edge;
    if resized {
        img = img.resize(max_edge, max_edge, FilterType::Triangle);
    }
    let (sent, sent_mime) = if resized || orientation != Orientation::NoTransforms {
        encode(&img, format)?
    } else {
        (bytes.to_vec(), mime.to_string())
    };
    let (thumb, thumb_mime) = encode(&img.thumbnail(THUMB_EDGE, THUMB_EDGE), format)?;
    let blob = Blob {
        sha256: sha256_hex(&sent),
        mime: sent_mime,
        width: img.width(),
        height: img.height(),
        bytes: sent,
        thumb,
        thumb_mime,
    };
    Ok((blob, resized))
}

/// A photo stays a JPEG; anything else (and anything with transparency) becomes a PNG.
fn encode(img: &DynamicImage, source: ImageFormat) -> Result<(Vec<u8>, String)> {
    let mut out = Vec::new();
    let failed =
        |e: image::ImageError| Error::invalid(format!("The image could not be encoded: {e}"));
    if source == ImageFormat::Jpeg && !img.color().has_alpha() {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        rgb.write_with_encoder(JpegEncoder::new_with_quality(&mut out, 85))
            .map_err(failed)?;
        return Ok((out, "image/jpeg".into()));
    }
    img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .map_err(failed)?;
    Ok((out, "image/png".into()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        }));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn a_large_image_is_downscaled_to_the_longest_edge_keeping_its_shape() {
        let (b, downscaled) = prepare("wide.png", &png(400, 100), 200).unwrap();
        assert!(downscaled);
        assert_eq!((b.width, b.height), (200, 50));
        assert_eq!(b.mime, "image/png");
        assert!(b.thumb.len() < b.bytes.len() * 2);
    }

    #[test]
    fn a_small_image_is_kept_byte_for_byte() {
        let bytes = png(30, 20);
        let (b, downscaled) = prepare("small.png", &bytes, 2048).unwrap();
        assert!(!downscaled);
        assert_eq!(b.bytes, bytes);
        assert_eq!(b.sha256, sha256_hex(&bytes));
        assert_eq!(b.sha256.len(), 64);
    }

    #[test]
    fn other_files_and_broken_images_are_refused_by_name() {
        let e = prepare("notes.txt", b"hello", 2048).unwrap_err();
        assert!(e.to_string().contains("notes.txt"), "{e}");
        let mut broken = png(10, 10);
        broken.truncate(40);
        let e = prepare("cut.png", &broken, 2048).unwrap_err();
        assert_eq!(e.kind(), "invalid");
        let huge = vec![0u8; MAX_IMAGE_BYTES + 1];
        assert!(prepare("big.png", &huge, 2048)
            .unwrap_err()
            .to_string()
            .contains("MB"));
    }
}
