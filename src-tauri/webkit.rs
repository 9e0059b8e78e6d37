//! Memory levers for WebKitGTK, measured by tests/bench.sh (README "Performance"): accelerated
//! compositing off (WebKit then paints in software into one surface instead of keeping GPU-style
//! layers), no OpenGL in the window's own process, and (not by default) the "document viewer"
//! cache model and the "never" hardware acceleration policy. `PARLEY_WEBKIT_LEVERS` picks them for
//! measuring or for a machine that misbehaves: a comma list of `compositing`, `cache`, `gl`,
//! `accel`, or `none`; unset = the default. Also: the web process extension's folder and the request for a full collection.

/// What applies when `PARLEY_WEBKIT_LEVERS` is unset: compositing off (idle PSS 324 → 118 MiB)
/// and no OpenGL in the window's own process (`gl`). (Compositing off once made WebKitWebDriver's
/// screenshot wait for a paint that a still page never makes; the e2e fixture keeps a paint
/// coming instead.) Not `cache`, the document-viewer cache model: it has no memory cache, so
/// every module the page's `modulepreload` links had fetched was fetched again when imported
/// (the 50 modules twice); without it the window shows its first view ~40 ms sooner (median of
/// 6 alternated starts 530 → 488 ms) at the same idle memory (198–200 → 197–199 MiB).
const DEFAULT: &str = "compositing,gl";

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
    }
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

/// On the window's webview, once created.
pub fn apply<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    #[cfg(target_os = "linux")]
    {
        let (cache, accel) = (on("cache"), on("accel"));
        if !cache && !accel {
            return;
        }
        let _ = window.with_webview(move |webview| {
            use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt};
            let view = webview.inner();
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
