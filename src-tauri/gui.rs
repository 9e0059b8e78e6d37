//! The window: builds the Tauri app over the chat service. Generic over the runtime so tests can use
//! Tauri's mock runtime.

use tauri::{Builder, Runtime};

use crate::commands::state::AppState;

/// Refuses navigation away from the app's own pages (W2).
fn navigation_guard<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_, url| {
            matches!(url.scheme(), "tauri")
                || (url.scheme() == "http" && url.host_str() == Some("tauri.localhost"))
        })
        .build()
}

/// Creates the main window from its entry in tauri.conf.json (`"create": false` there), with a
/// handler that refuses every new-window request (`window.open`, `target=_blank`): links leave the
/// app only through the `open_link` command (W7).
fn open_main_window<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .ok_or(tauri::Error::WindowNotFound)?;
    let min = (
        config.min_width.unwrap_or(640.0),
        config.min_height.unwrap_or(420.0),
    );
    let builder =
        tauri::WebviewWindowBuilder::from_config(app, &config)?.on_new_window(|url, _| {
            parley_core::trace(&format!("refused a new window for {url}"));
            tauri::webview::NewWindowResponse::Deny
        });
    // With PARLEY_TRACE: each file the page loads, as it is served (start-up profiling).
    let builder = if tracing() {
        builder.on_web_resource_request(|request, _| {
            parley_core::trace(&format!("served {}", request.uri().path()));
        })
    } else {
        builder
    };
    // The web process extension (src-tauri/webext): how the page's request for a full
    // collection reaches JavaScriptCore (ui/js/memory.js).
    let builder = match crate::webkit::extension_dir() {
        Some(dir) => {
            parley_core::trace(&format!("web process extension from {}", dir.display()));
            builder.extensions_path(dir)
        }
        None => builder,
    };
    // Where and how large it was last time (window.json in the data folder), kept up to date.
    let window = crate::window_state::restore(app, builder, min).build()?;
    parley_core::trace("window built");
    crate::window_state::track(&window);
    crate::webkit::apply(&window);
    Ok(())
}

fn tracing() -> bool {
    std::env::var_os("PARLEY_TRACE").is_some()
}

pub fn build_app<R: Runtime>(builder: Builder<R>, state: AppState) -> Builder<R> {
    let handler = crate::commands::handler();
    let traced = tracing();
    builder
        .manage(state)
        .plugin(navigation_guard())
        // Save and open dialogs, called from Rust only (the page is granted none of its commands).
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(move |invoke| {
            if traced {
                parley_core::trace(&format!("ipc {}", invoke.message.command()));
            }
            handler(invoke)
        })
}

pub fn run() -> i32 {
    crate::webkit::before_start();
    // Held while the window runs: `parley restore` refuses instead of restoring under it.
    let _lock = parley_core::api::hold_window_lock().unwrap_or_else(|e| {
        eprintln!("parley: could not take the window lock: {e}");
        None
    });
    // A backup of the database once a day, off the UI's path; checked again every hour for a
    // window left open for days. Started once the database has opened.
    let state = AppState::open(|| {
        std::thread::spawn(|| loop {
            if let Err(e) = parley_core::api::daily_backup() {
                eprintln!("parley: daily backup failed: {e}");
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        });
    });
    let app = build_app(tauri::Builder::default(), state)
        .setup(|app| {
            parley_core::trace("tauri set up");
            open_main_window(app.handle())?;
            Ok(())
        })
        .on_page_load(|_, payload| match payload.event() {
            tauri::webview::PageLoadEvent::Started => parley_core::trace("page load started"),
            tauri::webview::PageLoadEvent::Finished => parley_core::trace("load finished"),
        })
        .build(tauri::generate_context!("tauri.conf.json"));
    match app {
        Ok(app) => {
            app.run(move |app, event| {
                // Closing mid-reply: stop and save what arrived, as if Stop had been pressed.
                if let tauri::RunEvent::Exit = event {
                    use tauri::Manager;
                    if let Ok(service) = app.state::<AppState>().service() {
                        service.stop_all(std::time::Duration::from_secs(2));
                    }
                }
            });
            0
        }
        Err(e) => {
            eprintln!("parley: could not open the window: {e}");
            1
        }
    }
}
