//! Server text that echoes a key is redacted before it is stored or printed (SECURITY.md K5): the
//! key in use, anything after `Bearer `, and `sk-…` shaped secrets.

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// The shortest run after `sk-` that counts as a key (OpenAI's masked `sk-abc***wxyz` is shorter
/// than a real key but is masked already; longer runs are treated as keys).
const SK_MIN: usize = 16;

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// Redacts `key` (the key in use, when there is one) and key-shaped secrets from `text`.
pub fn redact(text: &str, key: Option<&str>) -> String {
    let mut out = match key.map(str::trim).filter(|k| k.len() >= 4) {
        Some(k) => text.replace(k, REDACTED),
        None => text.to_string(),
    };
    out = redact_after(&out, "bearer ", 8);
    redact_after(&out, "sk-", SK_MIN)
}

/// Replaces the token that follows `marker` (ASCII, matched case-insensitively) when it is at
/// least `min` characters long.
fn redact_after(text: &str, marker: &str, min: usize) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(marker) {
        let start = from + found + marker.len();
        let len: usize = text[start..]
            .chars()
            .take_while(|c| token_char(*c))
            .map(char::len_utf8)
            .sum();
        let masked = text[start..start + len].starts_with(REDACTED);
        if len >= min && !masked {
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = start + len;
        }
        from = start + len;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_in_use_bearer_tokens_and_sk_keys_are_redacted() {
        let key = "sk-proj-AbCdEf0123456789xyzXYZ";
        let echoed = format!(
            "Invalid API key provided: Bearer {key}. <pre>Authorization: Bearer {key}</pre>"
        );
        let r = redact(&echoed, Some(key));
        assert!(!r.contains("AbCdEf0123456789"), "{r}");
        assert_eq!(r.matches(REDACTED).count(), 2, "{r}");
        // Without knowing the key, its shape is enough.
        let r = redact(&echoed, None);
        assert!(!r.contains("AbCdEf0123456789"), "{r}");
        // A key of another shape is found because it is the key in use.
        let r = redact("your key 9f8e7d6c5b4a was refused", Some("9f8e7d6c5b4a"));
        assert_eq!(r, "your key [redacted] was refused");
        // Ordinary text and OpenAI's own masked form pass unchanged.
        for s in [
            "Incorrect API key provided: sk-abc*****wxyz.",
            "ask-me anything",
            "bearer of news",
        ] {
            assert_eq!(redact(s, None), s);
        }
    }

    #[test]
    fn redaction_handles_any_text() {
        for s in ["", "Bearer", "sk-", "Bearer 你好", "…sk-𝄞𝄞", "BEARER x sk-"] {
            let _ = redact(s, Some("key"));
        }
    }
}
