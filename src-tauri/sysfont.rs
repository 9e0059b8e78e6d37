//! Whether fontconfig resolves `system-ui` to a font of its own on this machine.
//!
//! The page's font list starts with `system-ui` (ui/css/app.css). WebKitGTK asks fontconfig
//! (through Skia) for each name of the list it reaches, for each font of the page, and takes the
//! match only when the matched font is one of the families the name stands for: fontconfig's
//! configuration maps `system-ui` to Cantarell, Noto Sans UI, Segoe UI… (Debian 12's
//! 60-latin.conf). Where none of them is installed the name resolves to nothing, the text is drawn
//! in the list's next family (`sans-serif`), and the asking costs the web process ~1,000
//! `FcFontSetMatch` calls before its first view (half of all; −24 ms of start-up here, README
//! "Performance"). The window then drops the name from the page's list (`webkit::apply`): what
//! is drawn does not change.
//!
//! The check is the one Skia makes: the families the pattern holds after fontconfig's
//! substitutions, up to the last one bound strongly (the name asked for, and what the
//! configuration prefers to it), against the family of the best match.

use std::ffi::{c_char, c_int, c_void, CStr};

#[repr(C)]
struct FcValue {
    kind: c_int,
    value: *const c_void,
}

const FC_TYPE_STRING: c_int = 3;
const FC_MATCH_PATTERN: c_int = 0;
const FC_VALUE_BINDING_WEAK: c_int = 0;
const FC_RESULT_MATCH: c_int = 0;

#[link(name = "fontconfig")]
extern "C" {
    fn FcPatternCreate() -> *mut c_void;
    fn FcPatternAddString(pattern: *mut c_void, object: *const c_char, s: *const u8) -> c_int;
    fn FcConfigSubstitute(config: *mut c_void, pattern: *mut c_void, kind: c_int) -> c_int;
    fn FcDefaultSubstitute(pattern: *mut c_void);
    fn FcFontMatch(config: *mut c_void, pattern: *mut c_void, result: *mut c_int) -> *mut c_void;
    fn FcPatternGetString(
        pattern: *mut c_void,
        object: *const c_char,
        n: c_int,
        s: *mut *const u8,
    ) -> c_int;
    fn FcPatternGetWithBinding(
        pattern: *mut c_void,
        object: *const c_char,
        n: c_int,
        value: *mut FcValue,
        binding: *mut c_int,
    ) -> c_int;
    fn FcPatternDestroy(pattern: *mut c_void);
}

/// True when `family` (a CSS generic such as `system-ui`) resolves to a font that fontconfig's
/// configuration lists for it, as WebKitGTK would take it; false when it resolves to nothing.
pub fn resolves(family: &CStr) -> bool {
    // SAFETY: fontconfig's documented calls on patterns this function owns and destroys; the
    // strings read stay owned by their pattern and are copied before it is destroyed.
    unsafe {
        // Not FcNameParse: in fontconfig's name syntax `system-ui` is the family "system" at
        // size "ui".
        let pattern = FcPatternCreate();
        if pattern.is_null() {
            return true; // no answer: keep the name, as before
        }
        FcPatternAddString(
            pattern,
            c"family".as_ptr(),
            family.to_bytes_with_nul().as_ptr(),
        );
        FcConfigSubstitute(std::ptr::null_mut(), pattern, FC_MATCH_PATTERN);
        FcDefaultSubstitute(pattern);
        let mut families = vec![];
        let mut last_strong = 0;
        for n in 0.. {
            let mut value = FcValue {
                kind: 0,
                value: std::ptr::null(),
            };
            let mut binding = FC_VALUE_BINDING_WEAK;
            if FcPatternGetWithBinding(pattern, c"family".as_ptr(), n, &mut value, &mut binding)
                != FC_RESULT_MATCH
            {
                break;
            }
            if value.kind == FC_TYPE_STRING && !value.value.is_null() {
                families.push(
                    CStr::from_ptr(value.value.cast())
                        .to_string_lossy()
                        .to_lowercase(),
                );
                if binding != FC_VALUE_BINDING_WEAK {
                    last_strong = families.len();
                }
            }
        }
        families.truncate(last_strong);
        let mut result = 0;
        let font = FcFontMatch(std::ptr::null_mut(), pattern, &mut result);
        FcPatternDestroy(pattern);
        if font.is_null() {
            return false;
        }
        let mut name: *const u8 = std::ptr::null();
        let found = FcPatternGetString(font, c"family".as_ptr(), 0, &mut name) == FC_RESULT_MATCH
            && !name.is_null()
            && families.contains(&CStr::from_ptr(name.cast()).to_string_lossy().to_lowercase());
        FcPatternDestroy(font);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_installed_family_resolves_and_a_missing_one_does_not() {
        // Every machine with fontconfig has the generic families.
        assert!(resolves(c"sans-serif"));
        assert!(!resolves(c"Parley No Such Font 1234"));
    }

    /// With a configuration that maps `system-ui` to an installed font (as Cantarell on a GNOME
    /// desktop), it resolves. fontconfig reads its configuration once per process: the check runs
    /// in a child process of this test binary with `FONTCONFIG_FILE` set.
    #[test]
    fn system_ui_resolves_where_the_configuration_maps_it_to_an_installed_font() {
        if std::env::var_os("PARLEY_SYSFONT_CHILD").is_some() {
            assert!(resolves(c"system-ui"));
            assert!(
                !resolves(c"system"),
                "the name is one family, not family and size"
            );
            return;
        }
        let dir = std::env::temp_dir().join(format!("parley-sysfont-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("fonts.conf");
        std::fs::write(
            &conf,
            r#"<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias><family>system-ui</family><prefer><family>DejaVu Sans</family></prefer></alias>
</fontconfig>
"#,
        )
        .unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "sysfont::tests::system_ui_resolves_where_the_configuration_maps_it_to_an_installed_font",
                "--exact",
            ])
            .env("PARLEY_SYSFONT_CHILD", "1")
            .env("FONTCONFIG_FILE", &conf)
            .status()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(status.success());
    }

    /// Debian's configuration maps `system-ui` to these (60-latin.conf); the test machines have
    /// none of them, a GNOME desktop has Cantarell.
    #[test]
    fn system_ui_resolves_where_a_font_it_stands_for_is_installed() {
        let list = std::process::Command::new("fc-list")
            .args([":", "family"])
            .output();
        let Ok(list) = list else { return };
        let list = String::from_utf8_lossy(&list.stdout).to_lowercase();
        let installed = ["cantarell", "noto sans ui", "segoe ui"]
            .iter()
            .any(|f| list.lines().any(|l| l.split(',').any(|n| n.trim() == *f)));
        assert_eq!(resolves(c"system-ui"), installed, "{list}");
    }
}
