//! The window's size and position, kept in the data folder (`window.json`) and put back on start:
//! saved a moment after the last move or resize (debounced) and at once on close; clamped on the
//! way back so a window never opens off every screen or below its minimum size.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, WebviewWindow, WebviewWindowBuilder, WindowEvent};

/// The file under the data folder.
const FILE: &str = "window.json";
/// Quiet time after the last move or resize before the geometry is written.
const DEBOUNCE: Duration = Duration::from_millis(400);
/// How much of the window must lie on a screen for its saved position to be kept.
const MIN_VISIBLE: f64 = 80.0;

/// Size and position in logical pixels (what the window builder takes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Geometry {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    #[serde(default)]
    pub maximized: bool,
}

/// A screen's area in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screen {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// The saved geometry made safe to open with: at least `min` in size, no larger than the largest
/// screen, and a position kept only when enough of the window lands on a screen (else none: the
/// window manager places it). With no screen known, only the size is checked.
pub fn clamp(saved: Geometry, screens: &[Screen], min: (f64, f64)) -> (Geometry, bool) {
    let finite = |v: f64, d: f64| if v.is_finite() { v } else { d };
    let mut g = Geometry {
        x: finite(saved.x, 0.0),
        y: finite(saved.y, 0.0),
        width: finite(saved.width, min.0).max(min.0),
        height: finite(saved.height, min.1).max(min.1),
        maximized: saved.maximized,
    };
    if let Some(big) = screens
        .iter()
        .max_by(|a, b| (a.width * a.height).total_cmp(&(b.width * b.height)))
    {
        g.width = g.width.min(big.width.max(min.0));
        g.height = g.height.min(big.height.max(min.1));
    }
    let on_screen = screens.iter().any(|s| {
        let w = (g.x + g.width).min(s.x + s.width) - g.x.max(s.x);
        let h = (g.y + g.height).min(s.y + s.height) - g.y.max(s.y);
        w >= MIN_VISIBLE.min(g.width) && h >= MIN_VISIBLE.min(g.height)
    });
    // The title bar must be reachable: never above the top of the screen it is on.
    if on_screen {
        if let Some(s) = screens
            .iter()
            .find(|s| g.x < s.x + s.width && g.x + g.width > s.x)
        {
            g.y = g.y.max(s.y);
        }
    }
    (g, on_screen || screens.is_empty())
}

fn path() -> Option<PathBuf> {
    parley_core::api::data_dir().ok().map(|d| d.join(FILE))
}

fn read(path: &Path) -> Option<Geometry> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn write(path: &Path, g: &Geometry) {
    let Ok(json) = serde_json::to_string(g) else {
        return;
    };
    let tmp = path.with_extension("json.tmp");
    if std::fs::write(&tmp, json).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

fn screens<R: Runtime>(app: &AppHandle<R>) -> Vec<Screen> {
    app.available_monitors()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            let f = m.scale_factor().max(0.1);
            Screen {
                x: m.position().x as f64 / f,
                y: m.position().y as f64 / f,
                width: m.size().width as f64 / f,
                height: m.size().height as f64 / f,
            }
        })
        .collect()
}

/// Applies the saved geometry (clamped) to the window about to be built.
pub fn restore<'a, R: Runtime>(
    app: &AppHandle<R>,
    builder: WebviewWindowBuilder<'a, R, AppHandle<R>>,
    min: (f64, f64),
) -> WebviewWindowBuilder<'a, R, AppHandle<R>> {
    let Some(saved) = path().as_deref().and_then(read) else {
        return builder;
    };
    let (g, keep_position) = clamp(saved, &screens(app), min);
    let mut builder = builder.inner_size(g.width, g.height).maximized(g.maximized);
    if keep_position {
        builder = builder.position(g.x, g.y);
    } else {
        builder = builder.center();
    }
    builder
}

fn current<R: Runtime>(w: &WebviewWindow<R>) -> Option<Geometry> {
    let f = w.scale_factor().ok()?.max(0.1);
    let pos = w.outer_position().ok()?;
    let size = w.inner_size().ok()?;
    Some(Geometry {
        x: pos.x as f64 / f,
        y: pos.y as f64 / f,
        width: size.width as f64 / f,
        height: size.height as f64 / f,
        maximized: w.is_maximized().unwrap_or(false),
    })
}

/// Keeps `window.json` up to date with the window: debounced on move and resize, at once on close.
pub fn track<R: Runtime>(window: &WebviewWindow<R>) {
    let Some(file) = path() else {
        return;
    };
    // The last unmaximized geometry: a maximized window keeps the size it comes back to.
    let last: Arc<Mutex<Option<Geometry>>> = Arc::new(Mutex::new(None));
    let generation = Arc::new(AtomicU64::new(0));
    let w = window.clone();
    window.on_window_event(move |event| {
        let snapshot = || {
            let now = current(&w)?;
            let mut last = last.lock().ok()?;
            let keep = match (now.maximized, *last) {
                (true, Some(prev)) => Geometry {
                    maximized: true,
                    ..prev
                },
                _ => now,
            };
            *last = Some(keep);
            Some(keep)
        };
        match event {
            WindowEvent::Moved(_) | WindowEvent::Resized(_) => {
                let Some(g) = snapshot() else { return };
                let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
                let (generation, file) = (generation.clone(), file.clone());
                std::thread::spawn(move || {
                    std::thread::sleep(DEBOUNCE);
                    if generation.load(Ordering::SeqCst) == mine {
                        write(&file, &g);
                    }
                });
            }
            WindowEvent::CloseRequested { .. } | WindowEvent::Destroyed => {
                generation.fetch_add(1, Ordering::SeqCst);
                let saved = snapshot().or(*last.lock().ok().as_deref().unwrap_or(&None));
                if let Some(g) = saved {
                    write(&file, &g);
                }
            }
            _ => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Screen = Screen {
        x: 0.0,
        y: 0.0,
        width: 1280.0,
        height: 800.0,
    };

    fn g(x: f64, y: f64, width: f64, height: f64) -> Geometry {
        Geometry {
            x,
            y,
            width,
            height,
            maximized: false,
        }
    }

    #[test]
    fn a_window_on_screen_comes_back_where_it_was() {
        let saved = g(100.0, 50.0, 900.0, 600.0);
        assert_eq!(clamp(saved, &[SCREEN], (640.0, 420.0)), (saved, true));
    }

    #[test]
    fn a_window_off_every_screen_loses_its_position_and_keeps_its_size() {
        let (out, keep) = clamp(g(5000.0, -3000.0, 900.0, 600.0), &[SCREEN], (640.0, 420.0));
        assert!(!keep);
        assert_eq!((out.width, out.height), (900.0, 600.0));
    }

    #[test]
    fn a_size_below_the_minimum_or_above_the_screen_is_brought_within() {
        let (small, _) = clamp(g(0.0, 0.0, 100.0, 50.0), &[SCREEN], (640.0, 420.0));
        assert_eq!((small.width, small.height), (640.0, 420.0));
        let (big, _) = clamp(g(0.0, 0.0, 9000.0, 9000.0), &[SCREEN], (640.0, 420.0));
        assert_eq!((big.width, big.height), (1280.0, 800.0));
        let (nan, _) = clamp(g(f64::NAN, 0.0, f64::NAN, 500.0), &[SCREEN], (640.0, 420.0));
        assert_eq!((nan.x, nan.width), (0.0, 640.0));
    }

    #[test]
    fn a_title_bar_above_the_screen_is_brought_down() {
        let (out, keep) = clamp(g(10.0, -200.0, 900.0, 600.0), &[SCREEN], (640.0, 420.0));
        assert!(keep);
        assert_eq!(out.y, 0.0);
    }
}
