//! Static guards for the layers (DESIGN.md): each fails if the core reaches up into a face, if
//! `db` imports a feature module, if the window's command lists drift apart, if the headless
//! `parley` picks up tauri, or if a source file grows past the limit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

/// Every `.rs` file under `rel`, as paths relative to the repository.
fn rust_files(rel: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(rel), &mut out);
    out.sort();
    assert!(!out.is_empty(), "{rel} has Rust sources");
    out.into_iter()
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect()
}

/// The source without comments (so a doc line saying "no tauri here" is not a use of it).
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(root().join(path))
        .unwrap()
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `word` occurs in `code` as a whole identifier (not inside a longer one).
fn mentions(code: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let after = code[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The packages of Cargo.lock: name → the names of its dependencies.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for block in read("Cargo.lock").split("[[package]]").skip(1) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        let deps = match block.split_once("dependencies = [") {
            Some((_, rest)) => rest
                .split(']')
                .next()
                .unwrap()
                .split(',')
                .filter_map(|d| d.trim().trim_matches('"').split(' ').next())
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        graph.entry(name).or_insert_with(Vec::new).extend(deps);
    }
    graph
}

/// Every package `package` depends on, directly or not (all targets and versions together).
fn dependency_tree(package: &str) -> BTreeSet<String> {
    let graph = lock_graph();
    let mut seen = BTreeSet::new();
    let mut todo = vec![package.to_string()];
    while let Some(p) = todo.pop() {
        for d in graph.get(&p).into_iter().flatten() {
            if seen.insert(d.clone()) {
                todo.push(d.clone());
            }
        }
    }
    assert!(seen.contains("rusqlite"), "{package}'s tree was read");
    seen
}

fn is_gui_crate(name: &str) -> bool {
    name.starts_with("tauri")
        || name == "wry"
        || name.starts_with("gtk")
        || name.starts_with("webkit2gtk")
        || name.starts_with("javascriptcore")
        || name == "parley-desktop"
}

#[test]
fn the_core_names_no_face_and_links_no_gui() {
    for file in rust_files("src-tauri/core") {
        let code = code_of(&file);
        for face in ["tauri", "parley_desktop", "parley_cli"] {
            assert!(
                !mentions(&code, face),
                "{} mentions {face}: the core must not know its faces",
                file.display()
            );
        }
    }
    let manifest = read("src-tauri/core/Cargo.toml");
    for line in manifest.lines() {
        let key = line.split('=').next().unwrap().trim();
        assert!(
            !is_gui_crate(key) && !key.starts_with("webkit") && !key.starts_with("gtk"),
            "parley-core depends on {key}"
        );
    }
    let gui: Vec<String> = dependency_tree("parley-core")
        .into_iter()
        .filter(|d| is_gui_crate(d))
        .collect();
    assert!(gui.is_empty(), "parley-core's tree holds {gui:?}");
}

#[test]
fn the_headless_parley_imports_no_tauri() {
    for file in rust_files("src-tauri/cli") {
        let code = code_of(&file);
        for gui in ["tauri", "parley_desktop"] {
            assert!(!mentions(&code, gui), "{} mentions {gui}", file.display());
        }
    }
    let gui: Vec<String> = dependency_tree("parley-cli")
        .into_iter()
        .filter(|d| is_gui_crate(d))
        .collect();
    assert!(gui.is_empty(), "parley-cli's tree holds {gui:?}");
}

#[test]
fn storage_imports_no_feature_module() {
    for file in rust_files("src-tauri/core/src/db") {
        let code = code_of(&file);
        for feature in [
            "crate::chat",
            "crate::eval",
            "crate::prompts",
            "super::super",
        ] {
            assert!(
                !code.contains(feature),
                "{} uses {feature}: db is below chat, eval and prompts",
                file.display()
            );
        }
    }
}

#[test]
fn the_faces_reach_the_core_only_through_its_api() {
    let mut files = rust_files("src-tauri/commands");
    files.extend(rust_files("src-tauri/cli/src"));
    files.push("src-tauri/gui.rs".into());
    for file in files {
        let code = code_of(&file);
        for below in ["parley_core::db", ".db()", ".with(|"] {
            assert!(
                !code.contains(below),
                "{} uses {below}: call parley_core::api / ChatService methods instead",
                file.display()
            );
        }
    }
}

/// The names in the first `[ … ]` after `marker`, each the last `::` segment of a `,`-separated
/// entry, quotes trimmed.
fn names_after(text: &str, marker: &str) -> Vec<String> {
    let from = text.find(marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len();
    let rest = &text[from..];
    let open = rest.find('[').unwrap();
    let close = rest.find(']').unwrap();
    rest[open + 1..close]
        .split(',')
        .map(|s| s.trim().trim_matches('"'))
        .filter(|s| !s.is_empty())
        .map(|s| s.rsplit("::").next().unwrap().to_string())
        .collect()
}

fn as_set(names: &[String], source: &str) -> BTreeSet<String> {
    let set: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(set.len(), names.len(), "{source} names a command twice");
    set
}

#[test]
fn the_command_lists_agree() {
    let handler = names_after(
        &code_of(Path::new("src-tauri/commands/mod.rs")),
        "generate_handler!",
    );
    let built = names_after(
        &code_of(Path::new("src-tauri/build.rs")),
        "COMMANDS: &[&str] =",
    );
    let capability: serde_json::Value =
        serde_json::from_str(&read("src-tauri/capabilities/main.json")).unwrap();
    let granted: Vec<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_str()
                .unwrap()
                .strip_prefix("allow-")
                .unwrap_or_else(|| panic!("not an app command: {p}"))
                .replace('-', "_")
        })
        .collect();
    let handler = as_set(&handler, "commands/mod.rs");
    assert!(handler.len() > 40, "the handler list was read: {handler:?}");
    assert_eq!(
        handler,
        as_set(&built, "build.rs"),
        "commands/mod.rs vs build.rs"
    );
    assert_eq!(
        handler,
        as_set(&granted, "capabilities/main.json"),
        "commands/mod.rs vs capabilities/main.json"
    );
}

/// Longest a source file may be (lines).
const MAX_LINES: usize = 500;

/// Files allowed past the limit, and why: data, not logic to find one's way in.
const LONG_FILES: &[(&str, &str)] = &[
    (
        "tests/support/fake_openai.rs",
        "the fake server's table of test models and their canned wire answers (SSE bodies, errors, hostile Markdown), one per row",
    ),
];

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let mut long = Vec::new();
    for dir in ["src-tauri", "tests"] {
        for file in rust_files(dir) {
            let name = file.to_string_lossy().replace('\\', "/");
            let lines = read(&name).lines().count();
            if lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == name) {
                long.push(format!("{name}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines (split it, or move a big `mod tests` to a sibling tests.rs): {long:#?}"
    );
}
