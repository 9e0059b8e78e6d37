//! LLVM loaded ahead of Mesa's OpenGL driver, its own symbols bound inside it.
//!
//! WebKit's web process opens an EGL display as it starts (WebKitGTK 2.50 aborts without one), and
//! Mesa then loads its driver, which links LLVM. Most of LLVM's ~20,000 symbol relocations name
//! LLVM's own symbols, and the dynamic loader looks each one up through every library the web
//! process loaded before it (~170, WebKit's dependencies), in order, before it reaches LLVM: `perf`
//! puts a quarter of the web process's time in the loader there. Loaded here first with
//! `RTLD_DEEPBIND`, LLVM's own libraries are searched first and each lookup ends at once; the
//! driver then finds it loaded. The extension is loaded before the display is opened (checked with
//! `LD_DEBUG=files`). Measured: README "Performance", start-up levers.
//!
//! Only the LLVM that Mesa's driver names (its `DT_NEEDED` entries), and only when Mesa is the
//! only EGL vendor installed, so that a web process that would not load Mesa does not load LLVM.

use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};

use object::read::elf::Dyn;

const RTLD_NOW: i32 = 2;
const RTLD_DEEPBIND: i32 = 8;

extern "C" {
    fn dlopen(name: *const c_char, flags: i32) -> *mut c_void;
}

/// Loads the LLVM of Mesa's driver now, if there is one to load (see the module's note).
pub fn preload() {
    let Some(name) = mesa_llvm() else { return };
    let Ok(name) = CString::new(name) else { return };
    // SAFETY: a library the driver loads anyway, later in this process; the handle is kept (the
    // library stays loaded for the process's life, as it would).
    unsafe { dlopen(name.as_ptr(), RTLD_NOW | RTLD_DEEPBIND) };
}

/// The LLVM library Mesa's driver links, by the name it is linked under (`libLLVM-15.so.1`).
pub fn mesa_llvm() -> Option<String> {
    if !only_mesa(&vendor_dirs()?) {
        return None;
    }
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    let libdir = egl_dir(&maps)?;
    mesa_driver(&libdir)
        .and_then(|driver| needed(&driver))?
        .into_iter()
        .find(|lib| lib.starts_with("libLLVM"))
}

/// Where libglvnd looks for EGL vendors; None when the environment chooses them.
fn vendor_dirs() -> Option<Vec<PathBuf>> {
    let chosen = [
        "__EGL_VENDOR_LIBRARY_FILENAMES",
        "__EGL_VENDOR_LIBRARY_DIRS",
    ];
    if chosen.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    Some(vec![
        PathBuf::from("/etc/glvnd/egl_vendor.d"),
        PathBuf::from("/usr/share/glvnd/egl_vendor.d"),
    ])
}

/// True when the vendor files in `dirs` name Mesa and nothing else.
fn only_mesa(dirs: &[PathBuf]) -> bool {
    let mut mesa = false;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) if text.contains("libEGL_mesa") => mesa = true,
                _ => return false,
            }
        }
    }
    mesa
}

/// The folder of the EGL library this process has loaded (WebKit links libglvnd's `libEGL.so.1`),
/// from a `/proc/self/maps` text: where Mesa's libraries are too.
fn egl_dir(maps: &str) -> Option<PathBuf> {
    maps.lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .find(|path| {
            path.rsplit('/')
                .next()
                .is_some_and(|f| f.starts_with("libEGL.so"))
        })
        .and_then(|path| Path::new(path).parent().map(Path::to_path_buf))
}

/// Mesa's driver file in `libdir`: `libgallium-<version>.so` (Mesa 24.1 on), else the DRI
/// driver file, one file under every Gallium driver's name (Mesa before 24.1: Debian 12).
fn mesa_driver(libdir: &Path) -> Option<PathBuf> {
    let gallium: Vec<PathBuf> = std::fs::read_dir(libdir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with("libgallium") && f.ends_with(".so"))
        })
        .collect();
    match gallium.as_slice() {
        [one] => Some(one.clone()),
        [] => Some(libdir.join("dri/swrast_dri.so")).filter(|p| p.is_file()),
        _ => None, // more than one Mesa: do not guess
    }
}

/// The libraries an ELF file names as needed (its `DT_NEEDED` entries), reading only the parts
/// of the file that hold them.
fn needed(path: &Path) -> Option<Vec<String>> {
    let file = std::fs::File::open(path).ok()?;
    let data = object::ReadCache::new(file);
    let elf = object::read::elf::ElfFile64::<object::Endianness, _>::parse(&data).ok()?;
    let endian = elf.endian();
    let sections = elf.elf_section_table();
    let (dynamic, link) = sections.dynamic(endian, &data).ok()??;
    let strings = sections.strings(endian, &data, link).ok()?;
    Some(
        dynamic
            .iter()
            .filter(|d| d.tag32(endian) == Some(object::elf::DT_NEEDED))
            .filter_map(|d| strings.get(d.val32(endian)?).ok())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libraries_a_binary_needs_are_read_from_its_file() {
        let exe = std::env::current_exe().unwrap();
        let libs = needed(&exe).expect("the test binary is an ELF file");
        assert!(libs.iter().any(|l| l.starts_with("libc.so")), "{libs:?}");
        assert_eq!(needed(Path::new("/proc/self/status")), None);
    }

    #[test]
    fn the_egl_folder_is_found_in_the_maps() {
        let maps = "\
7f00-7f10 r-xp 00000000 08:01 11 /usr/lib/x86_64-linux-gnu/libglib-2.0.so.0.7400.6
7f10-7f20 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libEGL.so.1.1.0
7f20-7f30 rw-p 00000000 00:00 0 ";
        assert_eq!(
            egl_dir(maps),
            Some(PathBuf::from("/usr/lib/x86_64-linux-gnu"))
        );
        assert_eq!(egl_dir("7f20-7f30 rw-p 00000000 00:00 0 [heap]"), None);
    }

    #[test]
    fn llvm_is_preloaded_only_when_mesa_is_the_only_egl_vendor() {
        let dir = std::env::temp_dir().join(format!("parley-egl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let dirs = [dir.clone(), dir.join("missing")];
        assert!(!only_mesa(&dirs), "no vendor at all");
        let mesa = r#"{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_mesa.so.0"}}"#;
        std::fs::write(dir.join("50_mesa.json"), mesa).unwrap();
        assert!(only_mesa(&dirs));
        std::fs::write(
            dir.join("10_nvidia.json"),
            r#"{"ICD":{"library_path":"libEGL_nvidia.so.0"}}"#,
        )
        .unwrap();
        assert!(!only_mesa(&dirs), "another vendor may be the one used");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Where Mesa is installed (this project's Debian 12 test machines): its LLVM is found and
    /// loaded. Elsewhere there is nothing to load and nothing is.
    #[test]
    fn the_llvm_of_mesas_driver_is_loaded() {
        // This process links no EGL: load libglvnd's as the web process has it.
        let egl = CString::new("libEGL.so.1").unwrap();
        // SAFETY: a system library with no side effect at load.
        if unsafe { dlopen(egl.as_ptr(), RTLD_NOW) }.is_null() {
            eprintln!("no libEGL.so.1 here: nothing to check");
            return;
        }
        let Some(name) = mesa_llvm() else {
            assert!(
                !Path::new("/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so").exists(),
                "Mesa's driver is installed but its LLVM was not found"
            );
            return;
        };
        preload();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        assert!(maps.contains(&format!("/{name}")), "{name} is not loaded");
    }
}
