//! Where exported files go and how they are written: a new file each time, never over another.

use crate::error::{Error, Result};

/// Where exports go: `PARLEY_EXPORT_DIR` (tests, or a user who wants another folder), else the
/// Downloads folder, else home.
pub(crate) fn export_dir() -> Result<std::path::PathBuf> {
    std::env::var_os("PARLEY_EXPORT_DIR")
        .map(std::path::PathBuf::from)
        .or_else(dirs::download_dir)
        .or_else(dirs::home_dir)
        .ok_or_else(|| Error::not_found("a Downloads folder"))
}

/// Writes `text` to a new file `<stem>-<ms>.<ext>` in `dir` (never overwriting); returns its path.
pub(crate) fn write_new_file(
    dir: &std::path::Path,
    stem: &str,
    ext: &str,
    text: &str,
) -> Result<std::path::PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let stamp = crate::db::now_ms();
    for n in 0u32.. {
        let name = match n {
            0 => format!("{stem}-{stamp}.{ext}"),
            n => format!("{stem}-{stamp}-{n}.{ext}"),
        };
        let path = dir.join(name);
        match crate::db::private::create_new(&path) {
            Ok(mut f) => {
                f.write_all(text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("an unbounded range ends only by returning")
}
