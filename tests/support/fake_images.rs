//! The fake server's image parts (issue 12): every `image_url` part is checked (a `data:` URL of
//! PNG, JPEG, WebP or GIF that decodes, a known `detail`); `test-vision` answers with what it saw,
//! and `test-text-only` refuses images the way OpenAI's text-only models do.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::{api_error, reply, split_tokens, Opts};

/// A model that looks at images and says what it saw: "Saw 2 images: image/png 64x32 auto, …".
pub const VISION_MODEL: &str = "test-vision";
/// A model that refuses any image with OpenAI's 400.
pub const TEXT_ONLY_MODEL: &str = "test-text-only";
/// OpenAI's refusal for a model without vision.
pub const REFUSAL: &str = "Invalid content type. image_url is only supported by certain models.";

/// What one image part held: its type, size and detail.
pub fn describe(part: &Value) -> Result<String, String> {
    let url = part["image_url"]["url"]
        .as_str()
        .ok_or("image_url.url is missing")?;
    let detail = part["image_url"]["detail"].as_str().unwrap_or("auto");
    if !["auto", "low", "high"].contains(&detail) {
        return Err(format!("invalid detail {detail:?}"));
    }
    let rest = url
        .strip_prefix("data:")
        .ok_or("only data: URLs are accepted here")?;
    let (mime, data) = rest
        .split_once(";base64,")
        .ok_or("the data URL is not base64")?;
    if !["image/png", "image/jpeg", "image/webp", "image/gif"].contains(&mime) {
        return Err(format!("unsupported image type {mime}"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("bad base64: {e}"))?;
    let img = image::load_from_memory(&bytes).map_err(|e| format!("undecodable image: {e}"))?;
    Ok(format!("{mime} {}x{} {detail}", img.width(), img.height()))
}

/// The image parts of every message, in order.
fn image_parts(messages: &[Value]) -> Vec<&Value> {
    messages
        .iter()
        .filter_map(|m| m["content"].as_array())
        .flatten()
        .filter(|p| p["type"] == "image_url")
        .collect()
}

/// Answers a request that carries images or names an image model; `None` lets the usual routing
/// answer it.
pub(super) fn route(o: &Opts, messages: &[Value]) -> Option<Response> {
    let parts = image_parts(messages);
    if parts.is_empty() && o.model != VISION_MODEL {
        return None;
    }
    if o.model == TEXT_ONLY_MODEL {
        return Some(api_error(
            StatusCode::BAD_REQUEST,
            REFUSAL,
            "invalid_request_error",
            Value::Null,
        ));
    }
    let mut seen = Vec::new();
    for p in &parts {
        match describe(p) {
            Ok(d) => seen.push(d),
            Err(e) => {
                return Some(api_error(
                    StatusCode::BAD_REQUEST,
                    &format!("Invalid image_url part: {e}"),
                    "invalid_request_error",
                    json!("invalid_image"),
                ))
            }
        }
    }
    if o.model != VISION_MODEL {
        return None;
    }
    let text = format!("Saw {} image(s): {}", seen.len(), seen.join(", "));
    Some(reply(o, split_tokens(&text), std::time::Duration::ZERO))
}
