//! Start-up (issue 15): what the window's page asks for before its first paint. Checks the
//! mechanism, never a time: the page's modules come as one up-to-date bundle, the vendored
//! Markdown, math, code and chart files are not loaded before it, and the UI's font list stays
//! short.

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

/// The `./name.js` modules a file imports statically (`… from './x.js'`, `import './x.js'`).
fn static_imports(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.lines() {
        for marker in ["from './", "import './"] {
            if let Some(at) = line.find(marker) {
                let rest = &line[at + marker.len()..];
                if let Some(end) = rest.find('\'') {
                    out.push(rest[..end].to_string());
                }
            }
        }
    }
    out
}

/// Every module reachable from ui/js/app.js through static imports, app.js itself left out.
fn module_graph() -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec!["app.js".to_string()];
    while let Some(file) = todo.pop() {
        for dep in static_imports(&read(&format!("ui/js/{file}"))) {
            if seen.insert(dep.clone()) {
                todo.push(dep);
            }
        }
    }
    seen
}

/// The `src`s of index.html's `<script …>` tags.
fn scripts(html: &str) -> Vec<String> {
    let tag = "<script type=\"module\" src=\"";
    assert_eq!(
        html.matches("<script").count(),
        html.matches(tag).count(),
        "every script of index.html is a module with a src"
    );
    html.match_indices(tag)
        .filter_map(|(at, _)| {
            let rest = &html[at + tag.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// The window's first view waits for the page's modules: one bundle of them is one request and one
/// module to link instead of 53 (README "Performance": 18–43 ms sooner). index.html loads only the
/// bundle, and the bundle holds every module app.js imports (esbuild names each one in a comment
/// line before its code).
#[test]
fn index_html_loads_one_bundle_that_holds_every_module_app_js_imports() {
    let html = read("ui/index.html");
    assert_eq!(scripts(&html), ["app.bundle.js"]);
    assert!(
        !html.contains("modulepreload"),
        "the bundle is one file: nothing to preload"
    );
    let mut graph: BTreeSet<String> = module_graph()
        .iter()
        .map(|m| format!("ui/js/{m}"))
        .collect();
    assert!(
        graph.len() > 20,
        "the import graph was read ({} modules)",
        graph.len()
    );
    graph.insert("ui/js/app.js".into());
    let bundled: BTreeSet<String> = read("ui/app.bundle.js")
        .lines()
        .filter_map(|l| l.strip_prefix("// "))
        .filter(|l| l.starts_with("ui/js/") && l.ends_with(".js"))
        .map(str::to_string)
        .collect();
    assert_eq!(bundled, graph, "run tools/bundle.sh");
}

/// The committed bundle is exactly what the pinned bundler makes of ui/js/ now (a change to a
/// module without `tools/bundle.sh` would leave the window running the old code).
#[test]
fn the_bundle_is_what_ui_js_makes() {
    let out = std::process::Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/bundle.sh"))
        .arg("--check")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "tools/bundle.sh --check: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_vendored_libraries_are_not_in_index_html() {
    let html = read("ui/index.html");
    assert!(
        !html.contains("vendor/"),
        "index.html loads a vendored file before the first paint; markdown.js and ratingsview.js load them on use"
    );
}

/// The families a `font-family` list names, unquoted, in order.
fn families(list: &str) -> Vec<String> {
    list.split(',')
        .map(|f| f.trim().trim_matches('"').trim_matches('\'').to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// The value of a custom property app.css defines.
fn css_property(css: &str, name: &str) -> String {
    let key = format!("{name}:");
    let at = css
        .find(&key)
        .unwrap_or_else(|| panic!("app.css defines {name}"));
    let value = &css[at + key.len()..];
    value[..value.find(';').unwrap()].trim().to_string()
}

/// WebKitGTK asks fontconfig (through Skia) about the families of the UI's font list while it
/// builds the first view; six Latin names the platform font stands for cost ~90–150 ms of start-up
/// (README "Performance"). The list is the platform's own font, the generic family, then the
/// Chinese fonts that pick Simplified glyphs (asked for only for glyphs the first two lack):
/// nothing a later edit should grow back or put before the generic. The window drops `system-ui`
/// where it resolves to nothing by giving `--font` the value of `--font-generic`
/// (src-tauri/webkit.rs), so the rest of the list lives there.
#[test]
fn the_ui_font_list_is_the_platform_font_the_generic_then_the_chinese_ones() {
    let css = read("ui/css/app.css");
    assert_eq!(
        css_property(&css, "--font"),
        "system-ui, var(--font-generic)"
    );
    let list = families(&css_property(&css, "--font-generic"));
    // First: WebKitGTK resolves every name up to the first generic for each font of the first
    // view, whether its text needs them or not (app.css).
    assert_eq!(
        list.first().map(String::as_str),
        Some("sans-serif"),
        "{list:?}"
    );
    let latin = [
        "-apple-system",
        "Segoe UI",
        "Roboto",
        "Noto Sans",
        "Helvetica Neue",
        "Arial",
    ];
    for name in &list {
        assert!(
            !latin.contains(&name.as_str()),
            "{name} is back in the font list: {list:?}"
        );
    }
    assert!(list.len() <= 4, "{list:?}");
    assert!(list.iter().any(|f| f == "Noto Sans CJK SC"), "{list:?}");
    let webkit = read("src-tauri/webkit.rs");
    assert!(
        webkit.contains("--font: var(--font-generic)"),
        "the window's plain font list is app.css's --font-generic"
    );
}
