//! Memory levers for WebKitGTK, measured by tests/bench.sh (README "Performance"): accelerated
//! compositing off (WebKit then paints in software into one surface instead of keeping GPU-style
//! layers), and the "document viewer" cache model (no page or memory cache for pages we never go
//! back to: the app has one page). `PARLEY_WEBKIT_LEVERS` picks them for measuring or for a machine
//! that misbehaves: a comma list of `compositing`, `cache`, `accel`, or `none`; unset = the default.

/// What applies when `PARLEY_WEBKIT_LEVERS` is unset: compositing off (idle PSS 324 → 118 MiB)
/// and the document-viewer cache. (Compositing off once made WebKitWebDriver's screenshot wait
/// for a paint that a still page never makes; the e2e fixture keeps a paint coming instead.)
const DEFAULT: &str = "compositing,cache";

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
    if on("compositing") && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
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
