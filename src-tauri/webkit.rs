//! Memory levers for WebKitGTK, measured by tests/bench.sh (README "Performance"): accelerated
//! compositing off (WebKit then paints in software into one surface instead of keeping GPU-style
//! layers), no OpenGL in the window's own process, and (not by default) the "document viewer"
//! cache model and the "never" hardware acceleration policy. `PARLEY_WEBKIT_LEVERS` picks them for
//! measuring or for a machine that misbehaves: a comma list of `compositing`, `cache`, `gl`,
//! `accel`, `flite`, `fonts`, or `none`; unset = the default. Also: the web process extension's
//! folder and the request for a full collection.

/// What applies when `PARLEY_WEBKIT_LEVERS` is unset: compositing off (idle PSS 324 → 118 MiB)
/// and no OpenGL in the window's own process (`gl`). (Compositing off once made WebKitWebDriver's
/// screenshot wait for a paint that a still page never makes; the e2e fixture keeps a paint
/// coming instead.) Not `cache`, the document-viewer cache model: it has no memory cache, so
/// every module the page's `modulepreload` links had fetched was fetched again when imported
/// (the 50 modules twice); without it the window shows its first view ~40 ms sooner (median of
/// 6 alternated starts 530 → 488 ms) at the same idle memory (198–200 → 197–199 MiB). And
/// `flite`: WebKit's child processes look flite's voice up early (`preload_flite_voice`).
/// And `fonts`: `system-ui` dropped from the page's font list where it resolves to nothing
/// (`crate::sysfont`).
const DEFAULT: &str = "compositing,gl,flite,fonts";

fn levers() -> String {
    std::env::var("PARLEY_WEBKIT_LEVERS").unwrap_or_else(|_| DEFAULT.into())
}

fn on(name: &str) -> bool {
    levers().split(',').any(|l| l.trim() == name)
}

/// Before GTK and WebKit start: what can only be set through the environment. A value the user
/// set already is kept.
pub fn before_start() {
    #[cfg(target_os = "linux")]
    {
        let compositing = on("compositing");
        let mut vars = vec![];
        if compositing {
            vars.push(("WEBKIT_DISABLE_COMPOSITING_MODE", "1"));
        }
        // `gl`, only with compositing off (then nothing of the window is drawn with OpenGL):
        // GTK opens no GLX context to pick its visuals, WebKit keeps the web view's pixels in
        // shared memory instead of DMA-BUF, and it is given the render device instead of asking
        // EGL for it. Without these three the window's process initialises EGL, and Mesa loads
        // its driver and LLVM (~20 MiB of relocated pages) into it; the web process still does
        // (WebKitGTK 2.50 aborts without an EGL display). Measured: the window's process 85–90 →
        // 61 MiB PSS, the view built ~60 ms sooner (README "Performance").
        if compositing && on("gl") {
            vars.extend([
                ("GDK_GL", "disable"),
                ("WEBKIT_DISABLE_DMABUF_RENDERER", "1"),
                ("WEBKIT_WEB_RENDER_DEVICE_FILE", "/dev/null"),
            ]);
        }
        for (name, value) in vars {
            if std::env::var_os(name).is_none() {
                std::env::set_var(name, value);
            }
        }
        if on("flite") {
            preload_flite_voice();
        }
    }
}

/// The library of flite's "time" voice, which Debian's WebKitGTK links for speech synthesis:
/// 31,294 relocations, each naming a symbol of its own, each looked up by the dynamic loader
/// through every library loaded before it (~80 in WebKit's processes) at each process's start.
/// The window's executable lists it among its own (build.rs); WebKit's web and network
/// processes, started by WebKit, get it through `LD_PRELOAD`, which places it right after their
/// executable. The path is the one this process already has mapped (/proc/self/maps): the same
/// file the dynamic loader loaded for WebKit here, and nothing when WebKit does not link it.
/// Measured (perf, three starts each): the network process's time in the dynamic loader 43–66 →
/// 34–37 ms; with the executable's order, start to first view 540 → 492 ms (median of 25
/// alternated warm starts; README "Performance", the lever rows).
#[cfg(target_os = "linux")]
fn preload_flite_voice() {
    // Mapped under the file's own name (`….so.2.2` here), the soname `….so.1` links to it.
    const VOICE: &str = "libflite_cmu_time_awb.so";
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    if let Some(voice) = mapped_library(&maps, VOICE) {
        if let Some(value) = preload_with(std::env::var_os("LD_PRELOAD"), &voice) {
            std::env::set_var("LD_PRELOAD", value);
        }
    }
}

/// The path of the first mapping in `maps` (the format of /proc/PID/maps) whose file is the
/// shared library `stem` (`libx.so`): `libx.so` itself or a version of it (`libx.so.1.2`).
#[cfg(target_os = "linux")]
fn mapped_library(maps: &str, stem: &str) -> Option<std::path::PathBuf> {
    maps.lines().find_map(|line| {
        // Address, permissions, offset, device, inode, then the path (which may hold spaces).
        let path = line.splitn(6, char::is_whitespace).nth(5)?.trim_start();
        let path = std::path::Path::new(path);
        let file = path.file_name()?.to_str()?;
        let versioned = file
            .strip_prefix(stem)
            .is_some_and(|v| v.is_empty() || v.starts_with('.'));
        (path.is_absolute() && versioned).then(|| path.to_path_buf())
    })
}

/// `LD_PRELOAD` with `lib` first, the user's own entries kept after it in their order; None (leave
/// it as it is) when `lib` is already one of them or its path holds a separator (`:`, a space).
#[cfg(target_os = "linux")]
fn preload_with(
    current: Option<std::ffi::OsString>,
    lib: &std::path::Path,
) -> Option<std::ffi::OsString> {
    let current = current.unwrap_or_default();
    let listed = current
        .to_string_lossy()
        .split([':', ' '])
        .any(|entry| std::path::Path::new(entry) == lib);
    if listed || lib.to_string_lossy().contains([':', ' ', '\t', '\n']) {
        return None;
    }
    let mut value = lib.as_os_str().to_os_string();
    if !current.is_empty() {
        value.push(":");
        value.push(&current);
    }
    Some(value)
}

/// The folder of the web process extension (`libparley_webext.so`, src-tauri/webext): beside the
/// executable as cargo builds it, or `../lib/parley` from it as the Debian package installs it;
/// `PARLEY_WEBEXT_DIR` overrides. None when it is not there: the window works without it, the
/// page's requests to release memory then do nothing.
pub fn extension_dir() -> Option<std::path::PathBuf> {
    const LIB: &str = "libparley_webext.so";
    if !cfg!(target_os = "linux") {
        return None;
    }
    if let Some(dir) = std::env::var_os("PARLEY_WEBEXT_DIR") {
        return Some(dir.into());
    }
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?;
    [bin.join("../lib/parley"), bin.to_path_buf()]
        .into_iter()
        .find(|d| d.join(LIB).is_file())
}

/// What the web process gave back when asked to release memory: its anonymous memory before and
/// after (KiB), and how long the page was blocked (ms).
#[derive(Debug, Clone, Copy, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Released {
    pub before_kib: u64,
    pub after_kib: u64,
    pub ms: u64,
}

/// Asks the web process (through the extension) for a full garbage collection; `done` gets its
/// footprint before and after, or None without the extension or on any failure.
pub fn collect<R: tauri::Runtime>(
    window: &tauri::WebviewWindow<R>,
    done: impl FnOnce(Option<Released>) + Send + 'static,
) {
    #[cfg(target_os = "linux")]
    {
        let done = std::sync::Arc::new(std::sync::Mutex::new(Some(done)));
        let finish = {
            let done = done.clone();
            move |r: Option<Released>| {
                if let Some(f) = done.lock().ok().and_then(|mut d| d.take()) {
                    f(r)
                }
            }
        };
        let finish2 = finish.clone();
        let sent = window.with_webview(move |webview| {
            use webkit2gtk::WebViewExt;
            let message = webkit2gtk::UserMessage::new("parley-collect", None);
            webview.inner().send_message_to_page(
                &message,
                None::<&webkit2gtk::gio::Cancellable>,
                move |reply| finish2(reply.ok().and_then(|m| parse_reply(&m))),
            );
        });
        if sent.is_err() {
            finish(None);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = window;
        done(None);
    }
}

#[cfg(target_os = "linux")]
fn parse_reply(message: &webkit2gtk::UserMessage) -> Option<Released> {
    use webkit2gtk::UserMessageExt;
    let text: String = message.parameters()?.get()?;
    let mut n = text.split(' ').map(|v| v.parse::<u64>().ok());
    Some(Released {
        before_kib: n.next()??,
        after_kib: n.next()??,
        ms: n.next()??,
    })
}

/// The page's font list without `system-ui` (`--font-generic` in ui/css/app.css): where that
/// name resolves to nothing, WebKitGTK draws in the generic anyway, after asking
/// (`crate::sysfont`).
const PLAIN_FONT: &str = "html:root { --font: var(--font-generic); }";

/// On the window's webview, once created.
pub fn apply<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let (cache, accel) = (on("cache"), on("accel"));
        let plain_font = on("fonts") && !crate::sysfont::resolves(c"system-ui");
        parley_core::trace(&format!("system-ui resolves: {}", !plain_font));
        if !cache && !accel && !plain_font {
            return;
        }
        let _ = window.with_webview(move |webview| {
            use webkit2gtk::{SettingsExt, UserContentManagerExt, WebContextExt, WebViewExt};
            let view = webview.inner();
            if plain_font {
                // Added before the page's first style resolution (the web process is still
                // starting); `html:root` outranks app.css's `:root` whatever the order.
                if let Some(content) = view.user_content_manager() {
                    content.add_style_sheet(&webkit2gtk::UserStyleSheet::new(
                        PLAIN_FONT,
                        webkit2gtk::UserContentInjectedFrames::TopFrame,
                        webkit2gtk::UserStyleLevel::Author,
                        &[],
                        &[],
                    ));
                }
            }
            if cache {
                if let Some(context) = view.context() {
                    context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
                }
            }
            if accel {
                if let Some(settings) = WebViewExt::settings(&view) {
                    settings.set_hardware_acceleration_policy(
                        webkit2gtk::HardwareAccelerationPolicy::Never,
                    );
                }
            }
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = window;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::path::Path;

    #[test]
    fn the_voice_is_found_by_its_file_name_in_the_maps() {
        // As Linux writes it: the path after padding, under the file's own name.
        let maps = "7f00-7f10 r--p 00000000 08:01 123      /usr/lib/x86_64-linux-gnu/libflite.so.2.2\n\
                    7f10-7f20 r--p 00000000 08:01 124      /usr/lib/libflite_cmu_time_awb_x.so.2.2\n\
                    7f20-7f30 r--p 00000000 00:00 0 \n\
                    7f30-7f40 r--p 00000000 08:01 125      [heap]\n\
                    7f40-7f50 r--p 00000000 08:01 126      /usr/lib/x86_64-linux-gnu/libflite_cmu_time_awb.so.2.2\n\
                    7f50-7f60 r-xp 00001000 08:01 126      /usr/lib/x86_64-linux-gnu/libflite_cmu_time_awb.so.2.2\n";
        assert_eq!(
            mapped_library(maps, "libflite_cmu_time_awb.so").as_deref(),
            Some(Path::new(
                "/usr/lib/x86_64-linux-gnu/libflite_cmu_time_awb.so.2.2"
            ))
        );
        assert_eq!(mapped_library(maps, "libnothing.so"), None);
        assert_eq!(mapped_library("", "libflite_cmu_time_awb.so"), None);
        // A path with a space is read whole; an unversioned name is found too.
        let spaced = "7f40-7f50 r--p 00000000 08:01 125      /opt/my libs/libx.so\n";
        assert_eq!(
            mapped_library(spaced, "libx.so").as_deref(),
            Some(Path::new("/opt/my libs/libx.so"))
        );
    }

    #[test]
    fn the_voice_goes_first_and_the_users_preloads_stay() {
        let lib = Path::new("/usr/lib/libv.so.1");
        let value = |v: &str| Some(OsString::from(v));
        assert_eq!(preload_with(None, lib), value("/usr/lib/libv.so.1"));
        assert_eq!(
            preload_with(Some("".into()), lib),
            value("/usr/lib/libv.so.1")
        );
        assert_eq!(
            preload_with(Some("/opt/a.so:/opt/b.so".into()), lib),
            value("/usr/lib/libv.so.1:/opt/a.so:/opt/b.so")
        );
        // Already listed (by colon or by space): left as the user set it.
        for current in [
            "/opt/a.so:/usr/lib/libv.so.1",
            "/usr/lib/libv.so.1 /opt/a.so",
        ] {
            assert_eq!(preload_with(Some(current.into()), lib), None);
        }
        // A path LD_PRELOAD cannot hold as one entry: nothing is set.
        for odd in ["/opt/my libs/libv.so.1", "/opt/a:b/libv.so.1"] {
            assert_eq!(preload_with(None, Path::new(odd)), None);
        }
    }
}
