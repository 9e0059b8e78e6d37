//! The processes a lab's window runs as (the app, its web and network processes: they inherit
//! `PARLEY_DATA_DIR`), for the benches' memory and CPU figures.

use std::path::Path;

/// `(pid, name)` of every process started for `data`, the driver and the test harness left out.
pub fn lab_processes(data: &Path) -> Vec<(String, String)> {
    let want = format!("PARLEY_DATA_DIR={}", data.display());
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if !env.split(|&b| b == 0).any(|kv| kv == want.as_bytes()) {
            continue;
        }
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let comm = comm.trim().to_string();
        if comm.starts_with("WebKitWebDriver") || comm.starts_with("tauri-driver") {
            continue;
        }
        out.push((pid, comm));
    }
    out
}
