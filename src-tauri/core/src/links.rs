//! Links from replies (SECURITY.md W7): the one place that decides whether a link may leave the app,
//! and the one place that hands it to the system. No tauri here; `commands/links.rs` adapts it.
//!
//! Policy (each rule has a unit test):
//! - `https:` opens, and `mailto:` (to at least one address); everything else is refused with a clear
//!   reason: `http:`, `file:`, `smb:`, `javascript:` in any case, `data:`, `calculator:` and any
//!   other custom scheme the OS could hand to a program.
//! - A user name or password before the host (`https://google.com@evil.com`) is refused: it hides
//!   where the link really goes.
//! - International host names: a label that mixes scripts (Latin with Cyrillic or Greek, …) is
//!   refused as a look-alike. Otherwise the link is allowed but shown and opened in its ASCII
//!   (punycode, `xn--…`) form, so `аррӏе.com` (all Cyrillic) is shown as `xn--80ak6aa92e.com` and
//!   cannot pass for `apple.com`; `idn` tells the UI to say why the host looks like that.
//! - What the user confirms is exactly what opens: the URL as parsed and normalised here.

use serde::Serialize;
use unicode_script::{Script, UnicodeScript};
use url::{Host, Url};

use crate::error::{Error, Result};

/// Longest link Parley will open (a longer one is almost certainly data, not a page).
pub(crate) const MAX_LEN: usize = 8192;

/// A link that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// The full, normalised URL: what the user sees and what the system opens.
    pub url: String,
    /// `https` or `mailto`.
    pub scheme: String,
    /// The host as it will be contacted (ASCII / punycode); `None` for mailto.
    pub host: Option<String>,
    /// The host had non-ASCII labels (shown in punycode on purpose).
    pub idn: bool,
}

fn refuse(reason: impl Into<String>) -> Error {
    Error::invalid(reason)
}

/// Parses and checks `input`; returns the link to show and open, or why it is refused.
pub fn check(input: &str) -> Result<Link> {
    let input = input.trim_matches(|c: char| c == ' ' || c == '\u{a0}');
    if input.is_empty() {
        return Err(refuse("This link is empty."));
    }
    if input.len() > MAX_LEN {
        return Err(refuse(format!(
            "This link is too long to open ({} characters; at most {MAX_LEN}).",
            input.chars().count()
        )));
    }
    // The URL parser silently drops tabs and newlines ("java\tscript:"); refuse them instead.
    if let Some(c) = input.chars().find(|c| c.is_control()) {
        return Err(refuse(format!(
            "This link contains a control character (U+{:04X}) and was not opened.",
            c as u32
        )));
    }
    let url = Url::parse(input)
        .map_err(|e| refuse(format!("This is not a valid web address ({e}): {input}")))?;
    match url.scheme() {
        "https" => check_https(url),
        "mailto" => check_mailto(url),
        "http" => Err(refuse(format!(
            "Parley opens only secure (https) links; this one is plain http and was not opened: {url}"
        ))),
        other => Err(refuse(format!(
            "Parley opens only https and mailto links; a \"{other}:\" link was refused: {}",
            shorten(input)
        ))),
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

fn check_https(url: Url) -> Result<Link> {
    let host = match url.host() {
        Some(Host::Domain(d)) => d.to_string(),
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        None => return Err(refuse(format!("This link has no host: {url}"))),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(format!(
            "This link hides where it goes: the part before \"@\" is not the site. It would open {host}, not \"{}\". Not opened: {url}",
            url.username()
        )));
    }
    let mut idn = false;
    if let Some(Host::Domain(domain)) = url.host() {
        for label in domain.split('.') {
            if !label.is_ascii() {
                // The parser always gives ASCII for https hosts; anything else is a bug to refuse.
                return Err(refuse(format!("This link's host is not valid: {url}")));
            }
            if label.len() >= 4 && label[..4].eq_ignore_ascii_case("xn--") {
                idn = true;
                let (unicode, res) = idna::domain_to_unicode(label);
                if res.is_err() {
                    return Err(refuse(format!(
                        "This link's host has a malformed international name ({label}): {url}"
                    )));
                }
                if let Some(mix) = mixed_scripts(&unicode) {
                    return Err(refuse(format!(
                        "This link's host looks like another site: \"{unicode}\" mixes {mix} letters. Not opened: {url}"
                    )));
                }
            }
        }
    }
    Ok(Link {
        url: url.to_string(),
        scheme: "https".into(),
        host: Some(host),
        idn,
    })
}

/// `Some("Latin and Cyrillic")` when one label mixes scripts the way a look-alike does.
fn mixed_scripts(label: &str) -> Option<String> {
    let mut scripts: Vec<Script> = Vec::new();
    for c in label.chars() {
        let s = c.script();
        if matches!(s, Script::Common | Script::Inherited | Script::Unknown) {
            continue;
        }
        if !scripts.contains(&s) {
            scripts.push(s);
        }
    }
    // UTS #39 "highly restrictive": one script, or Latin with Han and the scripts written with it.
    const COMBOS: [&[Script]; 3] = [
        &[
            Script::Latin,
            Script::Han,
            Script::Hiragana,
            Script::Katakana,
        ],
        &[Script::Latin, Script::Han, Script::Bopomofo],
        &[Script::Latin, Script::Han, Script::Hangul],
    ];
    let ok = scripts.len() <= 1
        || COMBOS
            .iter()
            .any(|combo| scripts.iter().all(|s| combo.contains(s)));
    if ok {
        None
    } else {
        let names: Vec<String> = scripts.iter().map(|s| s.full_name().to_string()).collect();
        Some(names.join(" and "))
    }
}

/// The only fields a mail link keeps: `attach`, `from` and the like are dropped (W7).
const MAILTO_FIELDS: &[&str] = &["subject", "body", "cc", "bcc"];

fn check_mailto(mut url: Url) -> Result<Link> {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| MAILTO_FIELDS.contains(&k.to_ascii_lowercase().as_str()))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        // mailto wants %20 for spaces, not form encoding's `+`.
        let q: Vec<String> = kept
            .iter()
            .map(|(k, v)| {
                let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={}", v.replace('+', "%20"))
            })
            .collect();
        url.set_query(Some(&q.join("&")));
    }
    url.set_fragment(None);
    let to = url.path();
    let first = to.split(',').next().unwrap_or("");
    let decoded = percent_decode(first);
    if !decoded.contains('@') || decoded.starts_with('@') || decoded.ends_with('@') {
        return Err(refuse(format!(
            "This mail link has no valid address and was not opened: {url}"
        )));
    }
    Ok(Link {
        url: url.to_string(),
        scheme: "mailto".into(),
        host: None,
        idn: false,
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Environment variable naming a program that receives the URL instead of the system's opener
/// (for tests: the program gets the URL as its only argument).
pub(crate) const OPENER_ENV: &str = "PARLEY_LINK_OPENER";

/// Checks `input` again (never trust the webview's earlier check) and hands the normalised URL to
/// the system (or to `PARLEY_LINK_OPENER`). Returns what was opened.
pub fn open(input: &str) -> Result<Link> {
    let link = check(input)?;
    match std::env::var_os(OPENER_ENV).filter(|v| !v.is_empty()) {
        Some(program) => {
            let status = std::process::Command::new(&program)
                .arg(&link.url)
                .stdin(std::process::Stdio::null())
                .status()
                .map_err(|e| Error::Io {
                    message: format!("could not run {}: {e}", program.to_string_lossy()),
                })?;
            if !status.success() {
                return Err(Error::Io {
                    message: format!("{} failed ({status})", program.to_string_lossy()),
                });
            }
        }
        None => open::that_detached(&link.url).map_err(|e| Error::Io {
            message: format!("The system could not open the link: {e}"),
        })?,
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(input: &str) -> String {
        match check(input) {
            Ok(l) => panic!("{input} should be refused, got {l:?}"),
            Err(e) => {
                assert_eq!(e.kind(), "invalid");
                e.to_string()
            }
        }
    }

    #[test]
    fn https_links_open_as_normalised() {
        let l = check("https://example.com/a b?q=1#x").unwrap();
        assert_eq!(l.url, "https://example.com/a%20b?q=1#x");
        assert_eq!(l.host.as_deref(), Some("example.com"));
        assert!(!l.idn);
        assert_eq!(
            check("  HTTPS://Example.COM ").unwrap().url,
            "https://example.com/"
        );
        assert_eq!(
            check("https://127.0.0.1:8443/x").unwrap().host.as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            check("https://[::1]/").unwrap().host.as_deref(),
            Some("[::1]")
        );
    }

    #[test]
    fn mailto_with_an_address_opens() {
        let l = check("mailto:someone@example.com?subject=Hi").unwrap();
        assert_eq!(l.scheme, "mailto");
        assert_eq!(l.url, "mailto:someone@example.com?subject=Hi");
        // Only subject, body, cc and bcc are kept: no attachment, no other header.
        let l = check("mailto:a@example.com?attach=/home/user/.ssh/id_rsa&Subject=Hello there&X-Hdr=1&bcc=b@example.com#frag").unwrap();
        assert_eq!(
            l.url,
            "mailto:a@example.com?subject=Hello%20there&bcc=b%40example.com"
        );
        assert!(refused("mailto:").contains("no valid address"));
        assert!(refused("mailto:nobody").contains("no valid address"));
    }

    #[test]
    fn dangerous_schemes_are_refused_by_name() {
        for (input, scheme) in [
            ("calculator://", "calculator"),
            ("file:///etc/passwd", "file"),
            ("smb://evil.example/share", "smb"),
            ("JaVaScRiPt:alert(1)", "javascript"),
            ("javascript:alert(1)", "javascript"),
            ("data:text/html,<script>alert(1)</script>", "data"),
            ("vbscript:msgbox", "vbscript"),
            ("ftp://example.com/", "ftp"),
            ("ms-settings:", "ms-settings"),
        ] {
            let msg = refused(input);
            assert!(msg.contains(&format!("\"{scheme}:\"")), "{input}: {msg}");
        }
        assert!(refused("http://example.com/").contains("plain http"));
    }

    #[test]
    fn hidden_tricks_are_refused() {
        let msg = refused("https://google.com@evil.com/");
        assert!(
            msg.contains("evil.com") && msg.contains("google.com"),
            "{msg}"
        );
        refused("https://user:pass@example.com/");
        refused("https://:pass@example.com/");
        assert!(refused("java\tscript:alert(1)").contains("control character"));
        assert!(refused("https://exa\nmple.com/").contains("control character"));
        refused("");
        refused("   ");
        refused("not a url");
        refused("//example.com/path");
        refused(&format!("https://example.com/{}", "a".repeat(MAX_LEN)));
    }

    #[test]
    fn look_alike_hosts_are_refused_or_shown_in_punycode() {
        // Latin "pa" + Cyrillic "ур" + Latin "al": mixed scripts in one label.
        let msg = refused("https://paураl.com/");
        assert!(msg.contains("Latin") && msg.contains("Cyrillic"), "{msg}");
        // The same, arriving already in punycode.
        let puny = Url::parse("https://paураl.com/").unwrap();
        refused(puny.as_str());
        // Latin + Greek omicron.
        refused("https://gοogle.com/");
        // All-Cyrillic "аррӏе": one script, shown only as punycode so it cannot pass for apple.com.
        let l = check("https://аррӏе.com/").unwrap();
        assert!(l.idn);
        assert!(l.url.starts_with("https://xn--"), "{}", l.url);
        assert!(!l.url.contains('а'));
        // Real international names stay usable: Chinese, Japanese (Han + kana), German.
        assert!(check("https://例子.中国/").unwrap().url.contains("xn--"));
        check("https://日本語のサイト.jp/").unwrap();
        assert!(check("https://münchen.de/").unwrap().idn);
        // A malformed punycode label.
        refused("https://xn--zz-zz.com/");
    }

    #[test]
    fn opener_gets_exactly_the_checked_url_and_refusals_never_reach_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened");
        let script = dir.path().join("opener.sh");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", out.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::env::set_var(OPENER_ENV, &script);
        let link = open("https://example.com/x y").unwrap();
        assert!(open("file:///etc/passwd").is_err());
        std::env::remove_var(OPENER_ENV);
        assert_eq!(link.url, "https://example.com/x%20y");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "https://example.com/x%20y\n"
        );
    }
}
