//! The built binaries the tests run: `parley-desktop` (the window, this package) and `parley` (the
//! headless command, package `parley-cli`). Cargo only builds the binaries of the package under
//! test, so `parley` is built here once per test run, with the profile of the test itself.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// `target/<profile>/parley`, built (or found up to date) on first use.
#[allow(dead_code)]
pub fn parley() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // A test runs as target/<profile>/deps/NAME-HASH.
            let exe = std::env::current_exe().expect("the test's own path");
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target/<profile>/deps")
                .to_path_buf();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "--quiet", "-p", "parley-cli", "--bin", "parley"]);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                cargo.arg("--release");
            }
            let status = cargo.status().expect("cargo runs");
            assert!(status.success(), "building parley-cli failed");
            profile_dir.join(format!("parley{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}
