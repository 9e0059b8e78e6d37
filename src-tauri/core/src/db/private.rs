//! Private files (SECURITY.md D6): the data folder and its backups folder are 0700, the database,
//! its side files, backups and exports 0600. Fixed at every start for files made before.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::error::{Error, Result};

/// Sets the mode when it differs (a read-only disk refuses even an unchanged chmod), saying which
/// file and why when it cannot.
#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path).map_err(|e| refused(path, e))?;
    if current.permissions().mode() & 0o777 == mode {
        return Ok(());
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| refused(path, e))
}

/// A clear message for a file or folder Parley may not change.
fn refused(path: &Path, e: std::io::Error) -> Error {
    use std::io::ErrorKind as K;
    let why = match e.kind() {
        K::ReadOnlyFilesystem => "is on a read-only disk",
        K::PermissionDenied => "is read-only for you (permission denied)",
        _ => "cannot be changed",
    };
    Error::Io {
        message: format!(
            "{} {why} ({e}), so Parley cannot keep its data there; nothing was changed. \
             Make the data folder writable, or set PARLEY_DATA_DIR to another folder.",
            path.display()
        ),
    }
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(()) // Windows: the per-user profile folder is private already.
}

/// Creates `dir` (and parents) if needed and makes it 0700.
pub fn dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| refused(dir, e))?;
    set_mode(dir, 0o700)
}

/// Makes an existing file 0600.
pub fn file(path: &Path) -> Result<()> {
    set_mode(path, 0o600)
}

/// Takes group and other permissions away from a file found in the data folder (0644 → 0600),
/// leaving the owner's own bits (a file the user put there keeps its execute bit).
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        set_mode(path, mode & 0o700)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

/// Creates a new file, 0600 from its first byte (never overwriting one).
pub fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// At start: the data folder and `backups/` 0700, every file directly in them 0600.
pub fn fix_data_dir(data_dir: &Path) -> Result<()> {
    dir(data_dir)?;
    let backups = super::backup::dir_of(data_dir);
    for folder in [data_dir, backups.as_path()] {
        if folder != data_dir && folder.is_dir() {
            set_mode(folder, 0o700)?;
        }
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                owner_only(&entry.path())?;
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_folder_its_database_and_backups_are_private_even_when_made_before() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("parley");
        std::fs::create_dir_all(data.join("backups")).unwrap();
        set_mode(&data, 0o755).unwrap();
        set_mode(&data.join("backups"), 0o755).unwrap();
        let old_backup = data.join("backups").join("parley-daily-1.db");
        std::fs::write(&old_backup, b"x").unwrap();
        set_mode(&old_backup, 0o644).unwrap();
        let (db, _) = crate::db::Db::open_dir(&data).unwrap();
        let made = db
            .with(|c| crate::db::backup::write(c, &data, "manual"))
            .unwrap();
        drop(db);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("backups")), 0o700);
        assert_eq!(mode(&data.join(crate::db::DB_FILE)), 0o600);
        assert_eq!(mode(&old_backup), 0o600);
        assert_eq!(mode(&made), 0o600);
        for entry in std::fs::read_dir(&data).unwrap().flatten() {
            if entry.path().is_file() {
                assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
            }
        }
        let export = data.join("export.csv");
        create_new(&export).unwrap();
        assert_eq!(mode(&export), 0o600);
    }
}
