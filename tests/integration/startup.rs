//! Start-up (issue 15): what the window's page asks for before its first paint. Checks the
//! mechanism, never a time: every module app.js imports is preloaded from index.html (asked for at
//! once instead of level by level), the vendored Markdown, math, code and chart files are not, and
//! the UI's font list stays short.

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

/// The `href`s of index.html's `<link rel="…">` tags of one kind.
fn links(html: &str, rel: &str) -> BTreeSet<String> {
    let tag = format!("<link rel=\"{rel}\" href=\"");
    html.match_indices(&tag)
        .filter_map(|(at, _)| {
            let rest = &html[at + tag.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

#[test]
fn index_html_preloads_every_module_app_js_imports_and_nothing_else() {
    let graph: BTreeSet<String> = module_graph().iter().map(|m| format!("js/{m}")).collect();
    assert!(
        graph.len() > 20,
        "the import graph was read ({} modules)",
        graph.len()
    );
    let preloaded = links(&read("ui/index.html"), "modulepreload");
    let missing: Vec<_> = graph.difference(&preloaded).collect();
    let extra: Vec<_> = preloaded.difference(&graph).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "index.html's modulepreload list is out of date: missing {missing:?}, not imported {extra:?}"
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
