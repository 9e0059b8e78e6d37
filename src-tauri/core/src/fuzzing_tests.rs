//! `fuzz_regressions`: every fuzz target's check on its seeds and on every input that once
//! crashed it (kept in `fuzz/regressions/<target>/`, named after what it broke).

use std::path::PathBuf;

use super::TARGETS;

fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../fuzz/{kind}/{target}"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Vec<u8>)> = entries
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_seed_passes_its_fuzz_target() {
    let mut seen = 0;
    for (target, check) in TARGETS {
        for (path, data) in inputs("seeds", target) {
            eprintln!("{}", path.display());
            check(&data);
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} seeds found");
}

#[test]
fn every_input_that_once_crashed_a_fuzz_target_now_passes_it() {
    for (target, check) in TARGETS {
        for (path, data) in inputs("regressions", target) {
            eprintln!("{}", path.display());
            check(&data);
        }
    }
}

#[test]
fn a_suite_file_that_is_a_device_is_refused_not_read_forever() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "prompts: [x]\nproviders: openai:chat:m\ntests: file:///dev/zero\n";
    let err = crate::eval::suite::config::parse_str(yaml, dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}
