//! HTTP status + OpenAI error body → Parley's error, and the retry policy (SECURITY.md N1).

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::types::ErrorBody;
use crate::error::Error;

pub(crate) const MAX_RETRIES: u32 = 2;

/// Maps an error response. `model` names the model for a 404.
pub(crate) fn from_status(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    model: Option<&str>,
) -> Error {
    let parsed: Option<ErrorBody> = serde_json::from_str(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|b| b.error.code_str().map(str::to_owned));
    let message = match &parsed {
        Some(b) if !b.error.message.is_empty() => b.error.message.clone(),
        _ if body.trim().is_empty() => status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string(),
        _ => body.chars().take(500).collect(),
    };
    match status.as_u16() {
        401 => Error::Unauthorized { message },
        404 | 400
            if code.as_deref() == Some("model_not_found")
                || names_missing_model(status, &message) =>
        {
            Error::ModelNotFound {
                model: model.unwrap_or("?").to_string(),
                message,
            }
        }
        404 => Error::NotFound {
            message: format!("{message} (is the base URL right?)"),
        },
        429 => Error::RateLimited {
            message,
            retry_after_secs: retry_after_secs(headers),
        },
        400 if code.as_deref() == Some("context_length_exceeded")
            || message.contains("context length") =>
        {
            Error::ContextTooLong { message }
        }
        400 | 415 | 422 | 500 if refuses_images(&message) => Error::ImagesRefused {
            model: model.unwrap_or("?").to_string(),
            message,
        },
        s if s >= 500 => Error::Server { status: s, message },
        s => Error::BadRequest { status: s, message },
    }
}

/// How compatible servers say "no such model": OpenAI and vLLM 404 "…model… does not exist", Ollama 404
/// "model … not found", DeepSeek 400 "Model Not Exist".
fn names_missing_model(status: StatusCode, message: &str) -> bool {
    let m = message.to_lowercase();
    match status.as_u16() {
        404 => m.contains("model"),
        _ => m.contains("model") && (m.contains("not exist") || m.contains("not found")),
    }
}

/// How servers say "this model takes no images": OpenAI 400 "…does not support image inputs",
/// vLLM 400 "…is not a multimodal model", llama.cpp 500 "image input is not supported… mmproj",
/// Ollama 400 "…does not support vision".
fn refuses_images(message: &str) -> bool {
    let m = message.to_lowercase();
    let about_images = ["image", "vision", "multimodal", "multi-modal", "mmproj"]
        .iter()
        .any(|w| m.contains(w));
    let refusal = [
        "not support",
        "unsupported",
        "not a multimodal",
        "not multimodal",
        "cannot",
        "can't",
        "not accept",
        "not allowed",
        "invalid content type",
        "only text",
        "not enabled",
        "mmproj",
    ]
    .iter()
    .any(|w| m.contains(w));
    about_images && refusal
}

/// A 401 when no key was sent means "a key is needed", not "the key is wrong".
pub(crate) fn explain_missing_key(err: Error, key_sent: bool) -> Error {
    match err {
        Error::Unauthorized { message } if !key_sent => Error::Unauthorized {
            message: format!("{message} (no API key was sent: add one in Settings)"),
        },
        other => other,
    }
}

/// 408, 409, 429 and 5xx are worth another try; other 4xx are not.
pub(crate) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// `retry-after-ms`, else `retry-after` in seconds or as an HTTP date (RFC 9110: `Wed, 21 Oct
/// 2026 07:28:00 GMT`, the wait until then), as the server said it (for the message).
pub(crate) fn retry_after_secs(headers: &HeaderMap) -> Option<f64> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let read = |name: &str| text(name).and_then(|s| s.parse::<f64>().ok());
    let until = || {
        let at = chrono::DateTime::parse_from_rfc2822(text("retry-after")?).ok()?;
        let ms = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds();
        Some(ms.max(0) as f64 / 1000.0)
    };
    let secs = read("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| read("retry-after"))
        .or_else(until)?;
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// The wait before a retry: the server's, when it is between 0 and 60 s.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_secs(headers)
        .filter(|s| *s <= 60.0)
        .map(Duration::from_secs_f64)
}

/// 0.5 s × 2ⁿ, at most 8 s, minus up to 25 % jitter.
pub fn backoff(attempt: u32) -> Duration {
    let base = (0.5 * 2f64.powi(attempt as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - 0.25 * fastrand::f64()))
}

pub(crate) fn network_error(e: reqwest::Error) -> Error {
    // reqwest's Display never includes headers; strip the URL's query just in case.
    let timeout = e.is_timeout();
    let e = e.without_url();
    let message = e.to_string();
    let detail = std::error::Error::source(&e)
        .map(|s| format!(": {s}"))
        .unwrap_or_default();
    if timeout {
        Error::Timeout {
            message: format!("{message}{detail}"),
        }
    } else {
        Error::Network {
            message: format!("{message}{detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_server_refusing_images_is_told_apart_and_names_the_model() {
        let h = HeaderMap::new();
        for (status, text) in [
            (
                400,
                "Invalid content type. image_url is only supported by certain models.",
            ),
            (400, "This model does not support image inputs."),
            (400, "llava is not a multimodal model"),
            (
                500,
                "image input is not supported - hint: you may need to provide the mmproj",
            ),
        ] {
            let body = format!(r#"{{"error":{{"message":"{text}"}}}}"#);
            let e = from_status(
                StatusCode::from_u16(status).unwrap(),
                &h,
                &body,
                Some("txt-1"),
            );
            assert_eq!(e.kind(), "images_refused", "{text}");
            assert!(e.to_string().contains("\"txt-1\""), "{e}");
        }
        let other = r#"{"error":{"message":"temperature must be at most 2"}}"#;
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, &h, other, Some("m")).kind(),
            "bad_request"
        );
    }

    #[test]
    fn maps_statuses_to_clear_errors() {
        let h = HeaderMap::new();
        let body = |code: &str, msg: &str| {
            format!(r#"{{"error":{{"message":"{msg}","type":"x","code":"{code}"}}}}"#)
        };
        assert_eq!(
            from_status(
                StatusCode::UNAUTHORIZED,
                &h,
                &body("invalid_api_key", "bad"),
                None
            )
            .kind(),
            "unauthorized"
        );
        let e = from_status(
            StatusCode::NOT_FOUND,
            &h,
            &body("model_not_found", "no such"),
            Some("gpt-9"),
        );
        assert_eq!(
            e,
            Error::ModelNotFound {
                model: "gpt-9".into(),
                message: "no such".into()
            }
        );
        let deepseek = r#"{"error":{"message":"Model Not Exist","type":"invalid_request_error"}}"#;
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, &h, deepseek, Some("m")).kind(),
            "model_not_found"
        );
        let ollama = r#"{"error":{"message":"model \"llama9\" not found, try pulling it first"}}"#;
        assert_eq!(
            from_status(StatusCode::NOT_FOUND, &h, ollama, Some("llama9")).kind(),
            "model_not_found"
        );
        assert_eq!(
            from_status(StatusCode::BAD_REQUEST, &h, "temperature too high", None).kind(),
            "bad_request"
        );
        assert_eq!(
            from_status(StatusCode::NOT_FOUND, &h, "<html>nope</html>", Some("m")).kind(),
            "not_found"
        );
        assert_eq!(
            from_status(
                StatusCode::BAD_REQUEST,
                &h,
                &body("context_length_exceeded", "too long"),
                None
            )
            .kind(),
            "context_too_long"
        );
        assert_eq!(
            from_status(StatusCode::BAD_GATEWAY, &h, "", None).to_string(),
            "The server failed (502): Bad Gateway"
        );
        assert_eq!(
            from_status(StatusCode::FORBIDDEN, &h, "nope", None).kind(),
            "bad_request"
        );
    }

    #[test]
    fn rate_limit_carries_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        let e = from_status(StatusCode::TOO_MANY_REQUESTS, &h, "{}", None);
        assert_eq!(
            e,
            Error::RateLimited {
                message: "{}".into(),
                retry_after_secs: Some(3.0)
            }
        );
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        h.insert("retry-after-ms", HeaderValue::from_static("600000"));
        h.remove("retry-after");
        assert_eq!(retry_after(&h), None, "absurd waits fall back to backoff");
        // An HTTP date: the wait until then (a date passed: at once).
        h.remove("retry-after-ms");
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(20)).to_rfc2822();
        let soon = soon.replace("+0000", "GMT");
        h.insert("retry-after", HeaderValue::from_str(&soon).unwrap());
        let wait = retry_after(&h).expect("a date 20 s ahead").as_secs_f64();
        assert!((17.0..=20.0).contains(&wait), "{wait}");
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn retry_policy_and_backoff_bounds() {
        for s in [408, 409, 429, 500, 502, 503] {
            assert!(retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for attempt in 0..10 {
            let d = backoff(attempt).as_secs_f64();
            let cap = (0.5 * 2f64.powi(attempt as i32)).min(8.0);
            assert!(d <= cap && d >= cap * 0.75, "attempt {attempt}: {d}");
        }
    }
}
