//! What the window's own process gives back when the page asks (`release_memory`, and once after
//! start-up, `release_window_memory`): SQLite's page cache, glibc's free pages, and the pages of
//! its own executable that were read once and are clean.
//!
//! The executable's pages: start-up runs code and reads data (the embedded `ui/` files, the
//! migrations) spread over the whole binary, and the kernel maps 64 KiB around every fault, so a
//! started window holds ~10 MiB of the release binary that an idle window never touches again
//! (README, "Performance"). Unmapping a private mapping of a file that was never written
//! (`MADV_DONTNEED`) loses nothing: the next use reads the same bytes back from the file (from the
//! page cache: a minor fault). Mappings holding any written page (relocated data: RELRO, `.data`)
//! are left alone: for those the file's bytes are not what the process had.

use serde::Serialize;

/// The executable's resident pages before and after a release (KiB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trimmed {
    pub before_kib: u64,
    pub after_kib: u64,
}

/// Gives back glibc's free pages and the executable's clean pages (see the module's comment).
pub fn window_process() -> Trimmed {
    trim_malloc();
    drop_clean_pages_of_executable()
}

/// glibc keeps what is freed inside its arenas (one per thread that allocated: the cache SQLite
/// just gave back is in them); `malloc_trim` returns their free pages to the system. Either half
/// alone left the window's anonymous memory as it was (README, "Performance").
fn trim_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's own function, callable from any thread at any time.
        unsafe { malloc_trim(0) };
    }
}

/// A mapping of `/proc/PID/smaps`: where, its permissions and file, and what of it is resident.
#[derive(Debug, Default, Clone, PartialEq)]
struct Mapping {
    start: usize,
    len: usize,
    perms: String,
    path: String,
    rss_kib: u64,
    /// Pages this process wrote (its own copies of the file's).
    written_kib: u64,
}

fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(first) = f.next() else { continue };
        if let Some((a, b)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
            else {
                continue;
            };
            let perms = f.next().unwrap_or_default().to_string();
            // offset, device, inode, then the path (it may hold spaces).
            let path = f.skip(3).collect::<Vec<_>>().join(" ");
            out.push(Mapping {
                start: a,
                len: b.saturating_sub(a),
                perms,
                path,
                ..Mapping::default()
            });
            continue;
        }
        let (Some(m), Some(kib)) = (out.last_mut(), f.next().and_then(|v| v.parse::<u64>().ok()))
        else {
            continue;
        };
        match first {
            "Rss:" => m.rss_kib = kib,
            // A page this process wrote is a copy of the file's: anonymous memory. (Dirty counts
            // the page cache's own state too: a file not yet written back, any file on tmpfs.)
            "Anonymous:" => m.written_kib = kib,
            _ => {}
        }
    }
    out
}

/// The mappings of `path` that can be dropped: private, not writable, nothing written.
fn clean_mappings<'a>(maps: &'a [Mapping], path: &'a str) -> impl Iterator<Item = &'a Mapping> {
    maps.iter().filter(move |m| {
        m.path == path
            && m.len > 0
            && m.perms.starts_with('r')
            && m.perms.as_bytes().get(1) == Some(&b'-')
            && m.perms.ends_with('p')
            && m.written_kib == 0
    })
}

#[cfg(target_os = "linux")]
fn drop_clean_pages_of_executable() -> Trimmed {
    let (Ok(exe), Ok(smaps)) = (
        std::fs::read_link("/proc/self/exe"),
        std::fs::read_to_string("/proc/self/smaps"),
    ) else {
        return Trimmed::default();
    };
    let exe = exe.to_string_lossy();
    let maps = parse_smaps(&smaps);
    let before = resident_kib(&maps, &exe);
    drop_clean(&maps, &exe);
    let after = std::fs::read_to_string("/proc/self/smaps")
        .map(|s| resident_kib(&parse_smaps(&s), &exe))
        .unwrap_or(before);
    Trimmed {
        before_kib: before,
        after_kib: after,
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_clean_pages_of_executable() -> Trimmed {
    Trimmed::default()
}

/// Resident KiB of every mapping of `path`.
fn resident_kib(maps: &[Mapping], path: &str) -> u64 {
    maps.iter()
        .filter(|m| m.path == path)
        .map(|m| m.rss_kib)
        .sum()
}

#[cfg(target_os = "linux")]
fn drop_clean(maps: &[Mapping], path: &str) {
    extern "C" {
        fn madvise(addr: *mut std::ffi::c_void, len: usize, advice: i32) -> i32;
    }
    const MADV_DONTNEED: i32 = 4;
    for m in clean_mappings(maps, path) {
        // SAFETY: a whole private, read-only mapping of a file in which this process wrote nothing
        // (checked just above from smaps; nothing in this process makes such a mapping writable):
        // its pages are the file's, and the next access reads them back from it.
        unsafe { madvise(m.start as *mut std::ffi::c_void, m.len, MADV_DONTNEED) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
5643bd63c000-5643be01a000 r--p 00000000 fe:00 5311743                    /opt/my app/parley-desktop
Size:              10104 kB
Rss:                2768 kB
Private_Clean:      2768 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
5643be01a000-5643beb2d000 r-xp 009dd000 fe:00 5311743                    /opt/my app/parley-desktop
Rss:                7784 kB
Shared_Dirty:          0 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
5643beb2d000-5643beb99000 r--p 014ef000 fe:00 5311743                    /opt/my app/parley-desktop
Rss:                 432 kB
Private_Dirty:       432 kB
Anonymous:           432 kB
5643beb99000-5643beba0000 rw-p 0155a000 fe:00 5311743                    /opt/my app/parley-desktop
Rss:                  28 kB
Anonymous:             0 kB
7f0000000000-7f0000001000 r-xp 00000000 fe:00 1234                       /usr/lib/libother.so
Rss:                   4 kB
Anonymous:             0 kB
7f0000002000-7f0000003000 r--s 00000000 fe:00 1235                       /opt/my app/parley-desktop
Rss:                   4 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                  12 kB
Anonymous:            12 kB
";

    #[test]
    fn only_the_executables_read_only_pages_it_never_wrote_are_dropped() {
        let maps = parse_smaps(SMAPS);
        assert_eq!(maps.len(), 7);
        let exe = "/opt/my app/parley-desktop";
        let dropped: Vec<(usize, String)> = clean_mappings(&maps, exe)
            .map(|m| (m.len, m.perms.clone()))
            .collect();
        // The read-only data and the code; not the relocated data (written), the writable data,
        // a shared mapping, another file or the stack.
        assert_eq!(
            dropped,
            vec![
                (0x5643be01a000 - 0x5643bd63c000, "r--p".to_string()),
                (0x5643beb2d000 - 0x5643be01a000, "r-xp".to_string()),
            ]
        );
        assert_eq!(resident_kib(&maps, exe), 2768 + 7784 + 432 + 28 + 4);
    }

    /// A real private mapping of a file: its clean pages go and read back the same; once a page
    /// of it is written, the mapping is left alone.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_dropped_mapping_reads_back_the_files_bytes_and_a_written_one_is_kept() {
        use std::os::fd::AsRawFd;
        extern "C" {
            fn mmap(
                a: *mut std::ffi::c_void,
                l: usize,
                p: i32,
                f: i32,
                fd: i32,
                o: i64,
            ) -> *mut std::ffi::c_void;
            fn mprotect(a: *mut std::ffi::c_void, l: usize, p: i32) -> i32;
            fn munmap(a: *mut std::ffi::c_void, l: usize) -> i32;
        }
        const PROT_READ: i32 = 1;
        const PROT_WRITE: i32 = 2;
        const MAP_PRIVATE: i32 = 2;
        let len = 64 * 4096;
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pages.bin");
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let resident = |p: &str| {
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            resident_kib(&parse_smaps(&smaps), p)
        };
        let p = path.to_string_lossy().to_string();
        // SAFETY: a fresh private mapping of our own file, unmapped at the end.
        unsafe {
            let a = mmap(
                std::ptr::null_mut(),
                len,
                PROT_READ,
                MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            );
            assert_ne!(a as isize, -1);
            let view = std::slice::from_raw_parts(a as *const u8, len);
            assert_eq!(view, &bytes[..]);
            assert_eq!(resident(&p), (len / 1024) as u64);
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            drop_clean(&parse_smaps(&smaps), &p);
            assert_eq!(resident(&p), 0, "the clean pages were given back");
            assert_eq!(view, &bytes[..], "and read back the same");

            // A written page (a copy of the file's): the mapping is not touched.
            assert_eq!(mprotect(a, len, PROT_READ | PROT_WRITE), 0);
            *(a as *mut u8) = 7;
            assert_eq!(mprotect(a, len, PROT_READ), 0);
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            drop_clean(&parse_smaps(&smaps), &p);
            assert_eq!(*(a as *const u8), 7, "a written page is kept");
            assert_eq!(resident(&p), (len / 1024) as u64);
            munmap(a, len);
        }
    }
}
