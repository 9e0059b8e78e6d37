//! What every end-to-end test starts from: a `Lab` (one test at a time on the shared display, a
//! throwaway data directory) and an `App`, the built window under tauri-driver with a WebDriver
//! session on it, ready once the page says `data-ready`. Dropping an `App` stops tauri-driver with
//! SIGTERM, so WebKitWebDriver and the window go with it.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};

use crate::fake_openai::FakeOpenAi;

/// How long any one wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// One app at a time: each test drives its own app, but they share the display.
static SERIAL: Mutex<()> = Mutex::const_new(());

/// What one test owns for its whole run: the display, and a data directory that outlives restarts.
pub struct Lab {
    data: tempfile::TempDir,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Lab {
    /// Waits for the display, then makes a fresh data directory.
    pub async fn new() -> Lab {
        let one_at_a_time = SERIAL.lock().await;
        Lab {
            data: tempfile::tempdir().unwrap(),
            _one_at_a_time: one_at_a_time,
        }
    }

    /// The directory the app keeps its database, backups and keyring entry under.
    pub fn data(&self) -> &Path {
        self.data.path()
    }

    /// The window on this lab's data, talking to `server`; add `.env(..)` overrides, then `.open()`.
    pub fn app(&self, server: &FakeOpenAi) -> AppBuilder {
        AppBuilder {
            data: self.data().to_path_buf(),
            base_url: server.base_url(),
            env: Vec::new(),
            log: None,
        }
    }

    /// The window on this lab's data, talking to `server`, with nothing else changed.
    pub async fn open(&self, server: &FakeOpenAi) -> App {
        self.app(server).open().await
    }
}

/// How the window is started: its data directory, its server, extra environment.
pub struct AppBuilder {
    data: PathBuf,
    base_url: String,
    env: Vec<(String, OsString)>,
    log: Option<PathBuf>,
}

impl AppBuilder {
    /// Sets `key` in the app's environment (after the defaults, so it can override them).
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> AppBuilder {
        self.env
            .push((key.to_string(), value.as_ref().to_os_string()));
        self
    }

    /// Sends the window's (and the driver's) stderr to the file `path` (with `PARLEY_TRACE`: what
    /// the window did, when).
    pub fn stderr_to(mut self, path: &Path) -> AppBuilder {
        self.log = Some(path.to_path_buf());
        self
    }

    /// Starts tauri-driver, opens a session on the window and waits until the page is ready.
    pub async fn open(self) -> App {
        let (driver, client) = Driver::session(&self).await;
        let app = App {
            client,
            _driver: driver,
        };
        // Clicks before the page has wired its handlers would go nowhere.
        app.wait_js(
            "the page to be ready",
            "return document.documentElement.dataset.ready === 'true'",
        )
        .await;
        app
    }
}

/// The running window and the WebDriver session on it. The steps a user takes are methods (steps.rs).
pub struct App {
    // The session goes before the driver it runs on.
    client: Client,
    _driver: Driver,
}

impl App {
    /// The WebDriver session, for what the steps do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Ends the session and stops the window.
    pub async fn close(self) {
        let App { client, _driver } = self;
        let _ = client.close().await;
    }

    /// Saves what the window shows now as `target/e2e-screenshots/<name>`.
    pub async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        // WebKitWebDriver takes the picture after the page's next paint. With WebKitGTK's
        // compositing mode off (the app's default) a page where nothing changes never paints
        // again, so the capture waited until the mouse moved: keep a paint coming meanwhile.
        let _ = self.client.execute(NUDGE_PAINT, vec![]).await;
        let png = self.client.screenshot().await;
        let _ = self.client.execute(STOP_NUDGE, vec![]).await;
        std::fs::write(dir.join(name), png.unwrap()).unwrap();
    }

    /// The page's HTML as it is now.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }
}

/// Repaints a 1-pixel box every 40 ms, switching between two fully transparent colours (the
/// pixels stay the same; the style change still makes WebKit paint). Stops by itself after 30 s.
const NUDGE_PAINT: &str = "if (window.__nudge) return null;
    const box = document.createElement('div');
    box.setAttribute('aria-hidden', 'true');
    box.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647';
    document.documentElement.append(box);
    let n = 0;
    const stop = () => { clearInterval(timer); box.remove(); window.__nudge = null; };
    const timer = setInterval(() => {
      box.style.backgroundColor = n % 2 ? 'rgba(0, 0, 0, 0)' : 'rgba(255, 255, 255, 0)';
      if (++n > 750) stop();
    }, 40);
    window.__nudge = stop;
    return null;";
const STOP_NUDGE: &str = "if (window.__nudge) window.__nudge(); return null;";

/// Polls `probe` until it gives a value, failing the test after [`WAIT`].
pub async fn wait_for<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where the driver's (and so the app's and WebKit's) stderr goes: nowhere, or appended to the
/// file `PARLEY_E2E_DRIVER_LOG` names (for looking into a bench run).
fn driver_log() -> Stdio {
    std::env::var_os("PARLEY_E2E_DRIVER_LOG")
        .and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        })
        .map_or_else(Stdio::null, Stdio::from)
}

/// tauri-driver for one app session; stopped with SIGTERM so WebKitWebDriver goes with it.
struct Driver {
    child: Child,
    port: u16,
    data: PathBuf,
}

impl Driver {
    fn start(app: &AppBuilder) -> Driver {
        let (port, native) = (free_port(), free_port());
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .env("PARLEY_DATA_DIR", &app.data)
            .env("OPENAI_BASE_URL", &app.base_url)
            .env_remove("OPENAI_API_KEY")
            .env("LANG", "en_US.UTF-8")
            // The webview's own storage (language, theme, layout in localStorage; caches) lives
            // with this test's data, so one test's choices never leak into the next.
            .env("XDG_DATA_HOME", app.data.join("xdg-data"))
            .env("XDG_CACHE_HOME", app.data.join("xdg-cache"))
            .env("NO_AT_BRIDGE", "1")
            // The native consent dialog (SECURITY.md W8) answers yes (a test may override it).
            .env("PARLEY_CONFIRM", "yes")
            // An entry of its own in the throwaway keyring.
            .env(
                "PARLEY_KEYRING_SERVICE",
                format!("parley-e2e-{}-{}", std::process::id(), app.data.display()),
            )
            .envs(app.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(match &app.log {
                Some(path) => std::fs::File::create(path).unwrap().into(),
                None => driver_log(),
            })
            .spawn()
            .expect("tauri-driver is not installed: run .ci/install-deps --test");
        Driver {
            child,
            port,
            data: app.data.clone(),
        }
    }

    /// A driver and a session on it. A driver whose ports were taken between [`free_port`] and its
    /// own bind (tauri-driver's, or the WebKitWebDriver it starts once) never answers again: it
    /// refuses, fails every request, or holds it without a reply (seen here: a WebKitWebDriver
    /// that could not bind exits and tauri-driver keeps the request open). Such a driver is
    /// replaced by one on fresh ports after a few seconds of errors or one request held too long.
    async fn session(app: &AppBuilder) -> (Driver, Client) {
        // PARLEY_E2E_APP: another build of the window (benches compare two builds with one driver).
        let binary = std::env::var("PARLEY_E2E_APP")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_parley-desktop").to_string());
        let caps = json!({
            "browserName": "wry",
            "tauri:options": { "application": binary }
        });
        // The WebDriver client uses rustls too; with two providers compiled in, it needs to be told.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let deadline = Instant::now() + 2 * WAIT;
        let mut drivers = 0;
        loop {
            let mut driver = Driver::start(app);
            drivers += 1;
            let replace_at = Instant::now() + Duration::from_secs(5);
            loop {
                // A healthy driver answers within the window's start (1–3 s here, more on a busy
                // machine).
                let attempt = tokio::time::timeout(
                    Duration::from_secs(15),
                    ClientBuilder::rustls()
                        .unwrap()
                        .capabilities(caps.as_object().unwrap().clone())
                        .connect(&format!("http://127.0.0.1:{}", driver.port)),
                )
                .await;
                let (e, held) = match attempt {
                    Ok(Ok(client)) => return (driver, client),
                    Ok(Err(e)) => (e.to_string(), false),
                    Err(_) => ("no answer in 15 s".to_string(), true),
                };
                assert!(
                    Instant::now() < deadline,
                    "no WebDriver session ({drivers} drivers tried): {e}"
                );
                let exited = matches!(driver.child.try_wait(), Ok(Some(_)));
                if held || exited || Instant::now() > replace_at {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // A window WebKitWebDriver started can outlive it (seen in CI: two windows of finished
        // tests still running at the end): what runs below the driver, and any window of this
        // test's data folder left without its parent, is stopped too.
        let mut below = crate::procs::descendants(self.child.id());
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        below.extend(crate::procs::orphans(&self.data));
        if !below.is_empty() {
            // Most are gone already (a closed session ends its window): kill says so, quietly.
            let _ = Command::new("kill")
                .arg("-TERM")
                .args(below.iter().map(u32::to_string))
                .stderr(Stdio::null())
                .status();
        }
    }
}
