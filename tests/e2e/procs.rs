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

/// The pid of the one process in `processes` (from [`lab_processes`]) whose name starts with
/// `name` (Linux cuts names to 15 bytes: `WebKitWebProces`); fails the test when there is not one.
pub fn only(processes: &[(String, String)], name: &str) -> String {
    let pids: Vec<&String> = processes
        .iter()
        .filter(|(_, comm)| comm.starts_with(name))
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(pids.len(), 1, "{name}: {processes:?}");
    pids[0].clone()
}

/// Every process below `pid` (children, their children, …), parents before their children.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some(ppid) = parent(child) {
            parents.push((ppid, child));
        }
    }
    let mut out = Vec::new();
    let mut queue = vec![pid];
    while let Some(p) = queue.pop() {
        for &(_, child) in parents.iter().filter(|(pp, _)| *pp == p) {
            out.push(child);
            queue.push(child);
        }
    }
    out
}

/// The processes of `data` (see [`lab_processes`]) whose parent is gone (adopted by init).
pub fn orphans(data: &Path) -> Vec<u32> {
    lab_processes(data)
        .into_iter()
        .filter_map(|(pid, _)| pid.parse::<u32>().ok())
        .filter(|pid| parent(*pid) == Some(1))
        .collect()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": the name may hold spaces and brackets, the last ')' ends it.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
