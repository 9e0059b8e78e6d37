//! `parley backups`: the database backups.

use parley_core::error::Result;

pub fn run() -> Result<i32> {
    let (dir, list) = parley_core::api::backups()?;
    if list.is_empty() {
        errln!("parley: no backups yet in {}", dir.display());
    }
    let now = parley_core::api::now_ms();
    for b in list {
        let hours = (now - b.taken_at) as f64 / 3_600_000.0;
        outln!(
            "{}\t{:.1} MB\t{:.1} h ago",
            b.name,
            b.bytes as f64 / 1e6,
            hours
        );
    }
    Ok(0)
}
