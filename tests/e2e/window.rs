//! A window that feels finished: theme switch, the shortcuts overlay, rating controls readable in
//! both themes (contrast computed from the page's own colours), screenshots at the minimum size.

use crate::fake_openai::FakeOpenAi;
use crate::first_run::{first_start, keep_screenshot, min_size};
use crate::fixture::{App, Lab};
use crate::page::{messages::in_last_reply, rating, settings, window};

/// The lowest contrast ratio of any rating control against what is behind it (WCAG formula;
/// translucent backgrounds are blended over their ancestors').
const LOWEST_CONTRAST: &str = r#"
const parse = (c) => { const m = c.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
const over = (top, under) => { const a = top[3]; return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1); };
const backdrop = (el) => {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  let acc = [255, 255, 255, 1];
  for (const l of layers.reverse()) acc = over(l, acc);
  return acc;
};
const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const els = [...document.querySelectorAll(arguments[0])];
if (!els.length) return null;
return Math.min(...els.map((el) => ratio(parse(getComputedStyle(el).color), backdrop(el))));
"#;

async fn lowest_contrast(app: &App) -> f64 {
    app.js_with(LOWEST_CONTRAST, vec![window::RATING_CONTROLS.into()])
        .await
        .as_f64()
        .expect("rating controls on screen")
}

/// The theme and language live in the webview's storage, shared by every test of a run: put back.
async fn forget_choices(app: &App) {
    app.js("localStorage.removeItem('parley.theme'); localStorage.removeItem('parley.lang'); return true")
        .await;
}

async fn set_theme(app: &App, theme: &str) {
    app.click(settings::OPEN).await;
    app.select(window::THEME, theme).await;
    app.click(settings::CLOSE).await;
    let want = if theme == "system" { "" } else { theme };
    app.wait_js(
        "the theme",
        &format!("return (document.documentElement.dataset.theme || '') === '{want}'"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rating_controls_keep_three_to_one_contrast_in_light_and_dark() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    min_size(&app).await;
    app.click(crate::page::sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("rate me").await;
    app.last_reply("done").await;
    // Some on, some off: three stars and a thumb.
    let three = in_last_reply(&rating::score(3));
    app.click(&three).await;
    crate::fixture::wait_for("the score to be saved", || async {
        app.attr_of(&three, "aria-pressed")
            .await
            .filter(|v| v == "true")
    })
    .await;
    app.click(&in_last_reply(rating::THUMB_UP)).await;
    app.wait_js(
        "the thumb to be on",
        "return !!document.querySelector('#messages .rate-thumb.on')",
    )
    .await;
    for theme in ["light", "dark"] {
        set_theme(&app, theme).await;
        let lowest = lowest_contrast(&app).await;
        assert!(lowest >= 3.0, "{theme}: lowest contrast {lowest:.2}:1");
        keep_screenshot(&app, &format!("chat-{theme}-640x420.png")).await;
    }
    // The thumbs are drawn as SVG icons, not emoji.
    let svg = app
        .js("return [...document.querySelectorAll('#messages .rate-thumb')].every((b) => b.querySelector('svg') && !b.textContent.trim())")
        .await;
    assert_eq!(svg, true);
    forget_choices(&app).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_theme_switches_and_is_kept_after_a_restart() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    set_theme(&app, "dark").await;
    let bg = app
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(bg, "rgb(22, 23, 27)");
    app.close().await;
    let app = lab.open(&server).await;
    app.wait_js(
        "the dark theme again",
        "return document.documentElement.dataset.theme === 'dark'",
    )
    .await;
    set_theme(&app, "light").await;
    let bg = app
        .js("return getComputedStyle(document.body).backgroundColor")
        .await;
    assert_eq!(bg, "rgb(248, 248, 250)");
    forget_choices(&app).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shortcuts_overlay_lists_every_shortcut_and_closes_with_escape() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    // Ctrl+/ from the composer.
    app.press(crate::page::composer::FIELD, "\u{e009}/").await;
    app.wait_js(
        "the overlay",
        "return document.getElementById('shortcuts-dialog').open",
    )
    .await;
    let keys = app.texts_of(window::SHORTCUT_KEYS).await;
    for k in ["Ctrl+N", "Enter", "Shift+Enter", "Esc", "/", "F2"] {
        assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
    }
    // A light and a dark picture of the overlay, at the minimum size.
    min_size(&app).await;
    for theme in ["light", "dark"] {
        crate::feedback::set_look(&app, "en", theme).await;
        keep_screenshot(&app, &format!("shortcuts-{theme}.png")).await;
    }
    crate::feedback::set_look(&app, "en", "light").await;
    app.press(window::SHORTCUTS, "\u{e00c}").await;
    app.wait_js(
        "the overlay to close",
        "return !document.getElementById('shortcuts-dialog').open",
    )
    .await;
    // Esc in a dialog opened while a reply streams closes the dialog, never the reply behind it
    // (it stopped the reply and the dialog stayed open).
    app.click(crate::page::sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-slow").await;
    app.send("Slow one").await;
    crate::fixture::wait_for("the first words", || async {
        let t = app
            .text_of(&in_last_reply(crate::page::messages::BODY))
            .await?;
        t.contains(" w2").then_some(())
    })
    .await;
    app.press(crate::page::composer::FIELD, "\u{e009}/").await;
    app.wait_js(
        "the overlay over the stream",
        "return document.getElementById('shortcuts-dialog').open",
    )
    .await;
    app.press(window::SHORTCUTS, "\u{e00c}").await;
    app.wait_js(
        "the overlay to close over the stream",
        "return !document.getElementById('shortcuts-dialog').open",
    )
    .await;
    let status = crate::page::messages::LAST_REPLY;
    assert_eq!(
        app.attr_of(status, "data-status").await.as_deref(),
        Some("streaming"),
        "Esc closed the dialog and left the reply streaming"
    );
    app.click(crate::page::composer::STOP).await;
    app.last_reply("cancelled").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_at_the_minimum_size_in_light_dark_english_and_chinese() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    for (lang, theme) in [
        ("en", "light"),
        ("en", "dark"),
        ("zh-CN", "light"),
        ("zh-CN", "dark"),
    ] {
        let app = first_start(&lab, &server).await;
        app.js_with(
            "localStorage.setItem('parley.theme', arguments[1]); localStorage.setItem('parley.lang', arguments[0]); return true",
            vec![lang.into(), theme.into()],
        )
        .await;
        app.close().await;
        let app = first_start(&lab, &server).await;
        min_size(&app).await;
        app.wait_js(
            "the welcome with a server found",
            "return !document.getElementById('welcome').hidden && !!document.querySelector('#welcome-local-list .welcome-server')",
        )
        .await;
        keep_screenshot(&app, &format!("welcome-{lang}-{theme}-640x420.png")).await;
        forget_choices(&app).await;
        app.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_minimum_size_the_sidebar_collapses_and_the_last_chat_comes_back() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    min_size(&app).await;
    app.click(crate::page::sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("A title long enough to need room at the smallest size")
        .await;
    app.last_reply("done").await;
    // The title keeps several words beside the totals.
    let title_width = app
        .js("return document.getElementById('chat-title').getBoundingClientRect().width")
        .await;
    assert!(title_width.as_f64().unwrap() > 80.0, "{title_width}");
    app.click(window::TOGGLE_SIDEBAR).await;
    app.wait_js(
        "the sidebar to collapse",
        "return getComputedStyle(document.querySelector('.sidebar')).display === 'none'",
    )
    .await;
    // The conversation takes the whole width.
    let main = app
        .js("return document.querySelector('.main').getBoundingClientRect().width")
        .await;
    assert!(main.as_f64().unwrap() > 600.0, "{main}");
    keep_screenshot(&app, "sidebar-collapsed-640x420.png").await;
    app.close().await;

    // Restarted: the sidebar stays collapsed and the conversation is open again.
    let app = lab.open(&server).await;
    app.wait_js(
        "the last conversation, open again",
        "return document.querySelectorAll('#messages .message').length === 2",
    )
    .await;
    assert_eq!(
        app.js("return document.querySelector('.app').classList.contains('sidebar-collapsed')")
            .await,
        true
    );
    app.click(window::TOGGLE_SIDEBAR).await;
    app.close().await;
}

/// Once the window has been left alone after start-up, its process gives back the pages of its
/// executable that starting read (src-tauri/trim.rs: ~8 MiB of the release build); what runs
/// later reads its code back from the file, so a reply still streams and renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_start_up_the_window_gives_back_its_executables_pages() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let stats = crate::fixture::wait_for("the window's release after start-up", || async {
        let stats = app.memory_stats().await;
        stats["startup"].is_object().then_some(stats)
    })
    .await;
    let kib = |k: &str| stats["startup"][k].as_u64().unwrap();
    let (before, after) = (kib("beforeKib"), kib("afterKib"));
    assert!(
        before > 1024 && after * 2 < before,
        "the executable's resident pages did not halve: {stats}"
    );
    // The release after start-up is not one of the page's memory requests.
    assert_eq!(stats["requests"], serde_json::json!(0), "{stats}");
    app.click(crate::page::sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("still here?").await;
    assert!(!app.last_reply("done").await.is_empty());
    app.close().await;
}

/// The `gl` lever (src-tauri/webkit.rs): with compositing off the window's own process loads no
/// OpenGL driver (Mesa's DRI driver and the LLVM it links: ~20 MiB); the web process still does,
/// and the web process extension unmaps the driver's code there once the page has loaded (~35 MiB
/// of LLVM's code that only its static initializers ran).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_process_loads_no_opengl_driver() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let processes = crate::procs::lab_processes(lab.data());
    let web_pid = crate::procs::only(&processes, "WebKitWebProces");
    let maps = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let window = maps(&crate::procs::only(&processes, "parley-desktop"));
    let web = maps(&web_pid);
    let driver = |m: &str| {
        m.lines()
            .any(|l| l.contains("libLLVM") || l.contains("/dri/"))
    };
    assert!(
        !driver(&window),
        "the window's process mapped an OpenGL driver"
    );
    // The same check finds the driver where it is loaded: the web process (it cannot run
    // without EGL), so the pattern matches what Mesa maps here.
    assert!(driver(&web), "the web process mapped no OpenGL driver");
    // Resident code of the driver in the web process (KiB), from its smaps.
    let driver_code_kib = || {
        let smaps = std::fs::read_to_string(format!("/proc/{web_pid}/smaps")).unwrap_or_default();
        let (mut kib, mut code) = (0_u64, false);
        for line in smaps.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.first()
                .is_some_and(|a| a.contains('-') && !a.ends_with(':'))
            {
                code = f.get(1) == Some(&"r-xp") && driver(line);
            } else if code && f.first() == Some(&"Rss:") {
                kib += f[1].parse::<u64>().unwrap_or(0);
            }
        }
        kib
    };
    let mut kib = driver_code_kib();
    for _ in 0..50 {
        if kib < 1024 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        kib = driver_code_kib();
    }
    assert!(
        kib < 1024,
        "{kib} KiB of the OpenGL driver's code still resident in the web process"
    );
    app.close().await;
}

/// The `flite` lever (src-tauri/webkit.rs, build.rs): where WebKit links flite's "time" voice
/// (31,294 relocations looked up at each process's start), the window's executable lists it among
/// its own libraries and WebKit's web and network processes get it first in `LD_PRELOAD`, so the
/// dynamic loader finds its symbols at once instead of after ~80 libraries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webkits_processes_find_the_speech_voice_early() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let processes = crate::procs::lab_processes(lab.data());
    let pid_of = |name: &str| crate::procs::only(&processes, name);
    let window = pid_of("parley-desktop");
    let maps = std::fs::read_to_string(format!("/proc/{window}/maps")).unwrap();
    let voice = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.contains("/libflite_cmu_time_awb.so"));
    let Some(voice) = voice else {
        // This system's WebKit does not link flite: nothing to place (build.rs adds nothing).
        app.close().await;
        return;
    };
    // The executable's own libraries (readelf, from binutils, which the linker comes with).
    let exe = std::fs::read_link(format!("/proc/{window}/exe")).unwrap();
    let dynamic = std::process::Command::new("readelf")
        .arg("-d")
        .arg(&exe)
        .output()
        .expect("readelf");
    let dynamic = String::from_utf8_lossy(&dynamic.stdout);
    assert!(
        dynamic
            .lines()
            .any(|l| l.contains("(NEEDED)") && l.contains("[libflite_cmu_time_awb.so")),
        "{} does not list the voice among its own libraries:\n{dynamic}",
        exe.display()
    );
    for name in ["WebKitWebProces", "WebKitNetworkPr"] {
        let environ = std::fs::read(format!("/proc/{}/environ", pid_of(name))).unwrap();
        let preload = environ
            .split(|&b| b == 0)
            .find_map(|kv| kv.strip_prefix(b"LD_PRELOAD="))
            .map(|v| String::from_utf8_lossy(v).to_string());
        assert_eq!(
            preload.as_deref().and_then(|p| p.split(':').next()),
            Some(voice),
            "{name}: LD_PRELOAD {preload:?}"
        );
    }
    app.close().await;
}

/// The `fonts` lever (src-tauri/sysfont.rs, webkit.rs): where `system-ui` resolves to nothing
/// (none of the fonts fontconfig's configuration maps it to is installed, as on the test
/// machines), the window drops it from the page's font list, so WebKitGTK does not ask fontconfig
/// about it for each font of the first view; where it resolves, the list keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_ui_is_dropped_where_it_resolves_to_nothing() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let family = app
        .client()
        .execute("return getComputedStyle(document.body).fontFamily", vec![])
        .await
        .unwrap();
    let family = family.as_str().unwrap_or_default().to_string();
    // Debian's 60-latin.conf maps system-ui to these.
    let list = std::process::Command::new("fc-list")
        .args([":", "family"])
        .output()
        .expect("fc-list");
    let list = String::from_utf8_lossy(&list.stdout).to_lowercase();
    let resolves = ["cantarell", "noto sans ui", "segoe ui"]
        .iter()
        .any(|f| list.lines().any(|l| l.split(',').any(|n| n.trim() == *f)));
    assert_eq!(family.starts_with("system-ui"), resolves, "{family}");
    assert!(family.contains("sans-serif"), "{family}");
    app.close().await;
}
