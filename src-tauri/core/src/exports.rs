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
            // The name is taken (empty); the text goes to a `.partial` beside it, which replaces
            // it once whole: a full disk or a crash never leaves a cut file under the name.
            Ok(_) => {
                let partial = path.with_extension(format!("{ext}.partial"));
                let written = crate::db::private::create_new(&partial)
                    .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|_| f.sync_all()))
                    .and_then(|_| std::fs::rename(&partial, &path));
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&partial);
                    let _ = std::fs::remove_file(&path);
                    return Err(e.into());
                }
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_whole_or_not_there() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_new_file(dir.path(), "x", "csv", "one").unwrap();
        let b = write_new_file(dir.path(), "x", "csv", "two").unwrap();
        assert_ne!(a, b, "never over another");
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "two");
        let names = |d: &std::path::Path| {
            let mut n: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        assert!(names(dir.path()).iter().all(|n| !n.ends_with(".partial")));
        // A write that cannot finish (here: its `.partial` cannot be made) leaves nothing.
        let blocked = tempfile::tempdir().unwrap();
        let now = crate::db::now_ms();
        for stamp in now..now + 5_000 {
            let name = format!("y-{stamp}.csv.partial");
            std::fs::create_dir(blocked.path().join(name)).unwrap();
        }
        let before = names(blocked.path());
        assert!(write_new_file(blocked.path(), "y", "csv", "text").is_err());
        assert_eq!(names(blocked.path()), before, "no cut or empty file left");
    }
}
