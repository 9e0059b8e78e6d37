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
    for k in [
        "script-src-elem",
        "script-src-attr",
        "style-src-elem",
        "style-src-attr",
    ] {
        assert!(csp.get(k).is_none(), "{k} would widen script-src/style-src");
    }
    // Style sheets only from the app, no inline styles at all: KaTeX's style attributes apply because
    // render.js builds nodes in DOMPurify's inert document (no CSP there) and moves them in; an
    // attribute set on a live element is blocked. The e2e test checks KaTeX's styles still apply.
    assert!(!all.contains("unsafe-inline"), "{all}");
    assert_eq!(get("style-src"), "'self'");
    assert_eq!(get("font-src"), "'self' data:");
    assert_eq!(
        get("img-src"),
        "'self' data: blob:",
        "remote images must not load"
    );
    assert_eq!(
        get("connect-src"),
        "ipc: http://ipc.localhost",
        "the webview talks only to IPC"
    );
    let known = [
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "font-src",
        "connect-src",
        "object-src",
        "frame-src",
        "base-uri",
        "form-action",
    ];
    for (k, _) in csp.as_object().unwrap() {
        assert!(known.contains(&k.as_str()), "unexpected CSP directive {k}");
    }
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
        // No module writes HTML strings: render.js turns markup into nodes only through DOMPurify
        // returning a DOM fragment (checked below), everything else uses textContent.
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "createContextualFragment",
            "DOMParser",
            "srcdoc",
        ] {
            assert!(!src.contains(sink), "{name} uses {sink}");
        }
        if name != "render.js" {
            assert!(!src.contains("DOMPurify"), "{name} uses DOMPurify directly");
            assert!(
                !src.contains("markdownToHtml(") || name == "markdown.js",
                "{name} makes HTML from Markdown outside render.js"
            );
        }
        for bad in ["eval(", "new Function(", "setTimeout('", "setTimeout(\""] {
            assert!(!src.contains(bad), "{name} uses {bad}");
        }
    }
}

#[test]
fn render_js_has_exactly_one_sanitizing_function() {
    let src = read("ui/js/render.js");
    assert_eq!(
        src.matches(".sanitize(").count(),
        1,
        "one DOMPurify.sanitize call"
    );
    assert_eq!(
        src.matches("markdownToHtml(").count(),
        1,
        "one markdown call"
    );
    // It returns nodes, never a string someone could assign to innerHTML.
    assert!(src.contains("RETURN_DOM_FRAGMENT: true"));
    // What it keeps out: raw HTML in the Markdown, script-ish URLs, style outside KaTeX.
    let md = read("ui/js/markdown.js");
    assert!(
        md.contains("html: false"),
        "markdown-it must not pass raw HTML"
    );
    assert!(md.contains("trust: false"), "KaTeX must not trust input");
    assert!(src.contains("data.attrName === 'style' && !node.closest('.katex')"));
    assert!(src.contains("(?!(?:javascript|vbscript|data):)"));
}

#[test]
fn vendored_scripts_exist_and_are_pinned() {
    let html = read("ui/index.html");
    // The browser libraries, and the bundler that makes ui/app.bundle.js from ui/js/.
    for (dir, deps) in [
        ("ui/vendor", "dependencies"),
        ("tools/bundle", "devDependencies"),
    ] {
        let pkg: Value = serde_json::from_str(&read(&format!("{dir}/package.json"))).unwrap();
        let lock: Value = serde_json::from_str(&read(&format!("{dir}/package-lock.json"))).unwrap();
        for (name, version) in pkg[deps].as_object().unwrap() {
            let version = version.as_str().unwrap();
            assert!(
                version.chars().next().unwrap().is_ascii_digit(),
                "{dir}: {name} pinned to an exact version, not {version}"
            );
            assert_eq!(
                lock["packages"][format!("node_modules/{name}")]["version"],
                version,
                "{dir}: {name} in package-lock.json"
            );
        }
    }
    let mut scripts = 0;
    for (i, _) in html.match_indices("src=\"") {
        let rest = &html[i + 5..];
        let src = &rest[..rest.find('"').unwrap()];
        assert!(
            src == "app.bundle.js" || src.starts_with("js/") || src.starts_with("vendor/lib/"),
            "script from {src}"
        );
        assert!(root().join("ui").join(src).is_file(), "{src} is missing");
        scripts += 1;
    }
    assert!(scripts >= 1);
    // The renderer's libraries load after the first paint, from the list in markdown.js.
    let md = read("ui/js/markdown.js");
    let list = &md[md
        .find("const VENDOR = [")
        .expect("VENDOR list in markdown.js")..];
    let list = &list[..list.find(']').unwrap()];
    let names: Vec<&str> = list.split('\'').skip(1).step_by(2).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in names {
        assert!(
            root().join("ui/vendor/lib").join(name).is_file(),
            "vendor/lib/{name} is missing"
        );
    }
    assert!(
        !root().join("ui/vendor/node_modules").exists(),
        "node_modules inside ui/ would be embedded in the app"
    );
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
