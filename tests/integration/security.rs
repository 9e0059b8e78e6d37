//! Static guards for the webview's security posture (SECURITY.md W1–W4): each fails if a change
//! loosens the CSP, grants more than the app's own commands, or lets data reach HTML outside render.js.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn js_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("ui/js"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "ui/js has the app's modules");
    files
}

#[test]
fn csp_is_strict() {
    let conf: Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    let csp = &conf["app"]["security"]["csp"];
    let get = |k: &str| {
        csp[k]
            .as_str()
            .unwrap_or_else(|| panic!("CSP lacks {k}"))
            .to_string()
    };
    assert_eq!(get("default-src"), "'self'");
    assert_eq!(get("script-src"), "'self'");
    for k in ["object-src", "frame-src", "base-uri", "form-action"] {
        assert_eq!(get(k), "'none'", "{k}");
    }
    let all = csp.to_string();
    assert!(!all.contains("unsafe-eval"), "{all}");
    assert!(!get("script-src").contains("unsafe-inline"));
    let img = get("img-src");
    assert!(
        !img.contains("http") && !img.contains('*'),
        "remote images must not load: {img}"
    );
    assert!(
        !get("connect-src").contains("https:"),
        "the webview talks only to IPC"
    );
}

#[test]
fn the_window_gets_only_the_apps_own_commands() {
    let cap: Value = serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap();
    assert_eq!(cap["windows"], serde_json::json!(["main"]));
    assert!(cap.get("remote").is_none(), "no remote URL may reach IPC");
    let perms = cap["permissions"].as_array().unwrap();
    assert!(!perms.is_empty());
    for p in perms {
        let p = p.as_str().unwrap();
        assert!(
            p.starts_with("allow-") && !p.contains(':'),
            "only app commands, by name: {p}"
        );
    }
    let manifest = read("Cargo.toml");
    for plugin in ["tauri-plugin-shell", "tauri-plugin-fs", "tauri-plugin-http"] {
        assert!(
            !manifest.contains(plugin),
            "{plugin} must not be a dependency"
        );
    }
}

#[test]
fn only_api_js_talks_to_the_back_end_and_nothing_writes_html() {
    for file in js_files() {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&file).unwrap();
        if name != "api.js" {
            assert!(
                !src.contains("__TAURI"),
                "{name} reaches IPC directly; go through api.js"
            );
        }
        // render.js is the one sanitizing path into the DOM; everything else uses textContent.
        if name != "render.js" {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "createContextualFragment",
            ] {
                assert!(!src.contains(sink), "{name} uses {sink}");
            }
        }
        for bad in ["eval(", "new Function(", "setTimeout('", "setTimeout(\""] {
            assert!(!src.contains(bad), "{name} uses {bad}");
        }
    }
}

#[test]
fn index_html_has_no_inline_script_or_handlers() {
    let html = read("ui/index.html");
    let lower = html.to_lowercase();
    for (i, _) in lower.match_indices("<script") {
        let tag_end = lower[i..].find('>').unwrap() + i;
        assert!(
            lower[i..tag_end].contains("src="),
            "inline script at byte {i}"
        );
    }
    let attr = inline_handler(&lower);
    assert!(attr.is_none(), "inline event handler: {attr:?}");
}

/// Finds ` on<letters>=` inside a tag (an inline event handler attribute).
fn inline_handler(html: &str) -> Option<String> {
    let bytes = html.as_bytes();
    let mut in_tag = false;
    for i in 0..bytes.len() {
        match bytes[i] {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b' ' | b'\n' | b'\t' if in_tag && html[i + 1..].starts_with("on") => {
                let rest = &html[i + 3..];
                let name_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(0);
                if name_len > 0 && rest[name_len..].trim_start().starts_with('=') {
                    return Some(html[i..(i + 3 + name_len + 1).min(html.len())].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

#[test]
fn element_ids_in_index_html_are_unique() {
    let html = read("ui/index.html");
    let mut seen = std::collections::BTreeSet::new();
    for (i, _) in html.match_indices(" id=\"") {
        let rest = &html[i + 5..];
        let id = &rest[..rest.find('"').unwrap()];
        assert!(seen.insert(id.to_string()), "id \"{id}\" is used twice");
    }
    assert!(seen.len() > 20);
}
