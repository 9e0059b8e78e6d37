//! Rich replies (SECURITY.md W4–W7): a hostile Markdown reply renders safely (tables, code, math,
//! no script, no remote image, no inline handler), and every way out through a link asks first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, App, Lab};
use crate::page::{link_dialog, messages, panel, sidebar};
use crate::steps::ENTER;

use messages::{in_last_reply, link_in_last_reply, LAST_REPLY};

/// A program for PARLEY_LINK_OPENER that appends each URL it gets to `log`.
fn link_opener(dir: &Path, log: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The URLs the opener was handed, in order.
fn opened(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for the link dialog in `state` ("confirm" or "refused"); returns (message, url) as shown.
async fn wait_link_dialog(app: &App, state: &str) -> (String, String) {
    wait_for(&format!("the link dialog ({state})"), || async {
        let v = app
            .js_with(
                "const d = document.querySelector(arguments[0]);
                 if (!d || !d.open) return null;
                 const url = d.querySelector(arguments[2]);
                 return { state: d.dataset.state,
                          message: d.querySelector(arguments[1]).textContent,
                          url: url.hidden ? '' : url.textContent };",
                vec![
                    json!(link_dialog::DIALOG),
                    json!(link_dialog::MESSAGE),
                    json!(link_dialog::URL),
                ],
            )
            .await;
        (v["state"] == state).then(|| {
            (
                v["message"].as_str().unwrap().to_string(),
                v["url"].as_str().unwrap().to_string(),
            )
        })
    })
    .await
}

async fn close_link_dialog(app: &App) {
    app.click(link_dialog::CANCEL).await;
    wait_for("the link dialog to close", || async {
        let open = app
            .js_with(
                "const d = document.querySelector(arguments[0]); return !!(d && d.open);",
                vec![json!(link_dialog::DIALOG)],
            )
            .await;
        (open == false).then_some(())
    })
    .await;
}

/// Clicks the link to exactly `href` in the last reply.
async fn click_link(app: &App, href: &str) {
    app.click_nth(&link_in_last_reply(href), 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_markdown_reply_renders_safely_and_links_ask_first() {
    let lab = Lab::new().await;
    let key = "sk-e2e-render";
    let server = FakeOpenAi::start_with_key(key);
    let log = lab.data().join("opened.txt");
    let opener = link_opener(lab.data(), &log);
    let app = lab
        .app(&server)
        .env("OPENAI_API_KEY", key)
        .env("PARLEY_LINK_OPENER", &opener)
        .open()
        .await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-hostile-markdown").await;
    app.send("Show me everything").await;
    app.last_reply("done").await;

    let v = app
        .js_with(
            r#"const body = document.querySelector(arguments[0]);
        const onAttrs = [];
        for (const el of document.querySelectorAll('*'))
          for (const a of el.attributes) if (a.name.toLowerCase().startsWith('on')) onAttrs.push(el.tagName + ' ' + a.name);
        const katexStyled = [...body.querySelectorAll('.katex [style]')];
        return {
          th: [...body.querySelectorAll('table th')].map(e => e.textContent),
          rightAligned: body.querySelectorAll('td.align-right').length,
          keywords: body.querySelectorAll('.code-block pre code.hljs.language-python span.hljs-keyword').length,
          codeLang: body.querySelector('.code-block .code-lang')?.textContent ?? null,
          code: body.querySelector('.code-block pre code')?.textContent ?? null,
          copyButtons: body.querySelectorAll('.code-block button.code-copy').length,
          katex: body.querySelectorAll('.katex').length,
          mathLabel: body.querySelector('.math-inline')?.getAttribute('aria-label') ?? null,
          katexStyled: katexStyled.length,
          katexStylesApplied: katexStyled.filter(e => e.style.length > 0).length,
          styleOutsideKatex: [...body.querySelectorAll('[style]')].filter(e => !e.closest('.katex')).length,
          scripts: document.querySelectorAll('#messages script, #messages style, #messages iframe, #messages object').length,
          svgsOutsideKatex: [...body.querySelectorAll('svg')].filter(e => !e.closest('.katex')).length,
          katexSvgParts: [...new Set([...body.querySelectorAll('.katex svg, .katex svg *')].map(e => e.tagName.toLowerCase()))].sort(),
          onAttrs,
          imgSrcs: [...document.querySelectorAll('#messages img')].map(i => i.getAttribute('src')),
          remoteSrcInDom: body.outerHTML.includes('src="https://example.com'),
          placeholders: [...body.querySelectorAll('a.remote-image')].map(a => a.getAttribute('href')),
          scriptLinks: [...document.querySelectorAll('a[href]')].filter(a => /^\s*(javascript|vbscript|data):/i.test(a.getAttribute('href'))).length,
          links: [...body.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
          pwned: window.__pwned ?? null,
          // textContent: a streamed reply keeps its blocks as chunks that WebKit skips while off
          // screen (content-visibility), and innerText leaves out what it skipped.
          text: body.textContent,
          remoteRequests: performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('example.com')),
        };"#,
            vec![json!(in_last_reply(messages::BODY))],
        )
        .await;
    let text = v["text"].as_str().unwrap();
    assert_eq!(v["th"], json!(["Name", "Value"]), "{v}");
    assert_eq!(v["rightAligned"], 2, "column alignment survives as a class");
    assert!(v["keywords"].as_u64().unwrap() >= 2, "highlighted: {v}");
    assert_eq!(v["codeLang"], "python");
    assert_eq!(
        v["code"],
        "def greet(name):\n    return f\"hello {name}\"\n"
    );
    assert_eq!(v["copyButtons"], 1);
    assert_eq!(v["katex"], 2, "{v}");
    assert_eq!(v["mathLabel"], "E=mc^2");
    assert!(v["katexStyled"].as_u64().unwrap() > 0);
    assert_eq!(
        v["katexStyled"], v["katexStylesApplied"],
        "the CSP lets KaTeX's inline styles apply"
    );
    assert_eq!(v["styleOutsideKatex"], 0);
    assert_eq!(v["scripts"], 0);
    assert_eq!(v["svgsOutsideKatex"], 0, "no SVG from the reply");
    // KaTeX draws the radical sign as SVG: only its own plain shapes are kept.
    assert_eq!(v["katexSvgParts"], json!(["path", "svg"]), "{v}");
    assert_eq!(v["onAttrs"], json!([]), "no inline handler anywhere");
    assert_eq!(v["imgSrcs"], json!([]), "no image element at all");
    assert_eq!(v["remoteSrcInDom"], false);
    assert_eq!(
        v["placeholders"],
        json!(["https://example.com/track.png"]),
        "the remote image is a placeholder link"
    );
    assert_eq!(v["scriptLinks"], 0, "javascript: is never a link");
    assert_eq!(v["pwned"], serde_json::Value::Null, "nothing ran");
    assert_eq!(
        v["remoteRequests"],
        json!([]),
        "no request left for example.com"
    );
    // Raw HTML and the javascript: links show as text, the reader sees what the model sent.
    assert!(
        text.contains("<script>window.__pwned = 'script'</script>"),
        "{text}"
    );
    assert!(text.contains("[run me](javascript:alert(1))"), "{text}");
    assert!(text.contains("Image not loaded: tracker"), "{text}");

    // The screenshot shows the whole reply: settings panel closed, reply scrolled into view.
    app.click(panel::TOGGLE).await;
    app.js_with(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); return null;",
        vec![json!(LAST_REPLY)],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.screenshot("markdown-reply.png").await;

    // Copy puts the code on the clipboard.
    let copy = in_last_reply(messages::CODE_COPY);
    app.click(&copy).await;
    let label = wait_for("the copy result", || async {
        let t = app.text_of(&copy).await?;
        (t != "Copy").then_some(t)
    })
    .await;
    assert_eq!(label, "Copied");
    let via = app.attr_of(&copy, "data-via").await;
    eprintln!("copy went through: {via:?}");

    // An https link: the full URL is shown; Cancel opens nothing, Open hands exactly it to the opener.
    let docs = "https://example.com/docs?q=1";
    click_link(&app, docs).await;
    let (_, url) = wait_link_dialog(&app, "confirm").await;
    assert_eq!(url, docs);
    close_link_dialog(&app).await;
    assert!(opened(&log).is_empty(), "Cancel opens nothing");
    click_link(&app, docs).await;
    wait_link_dialog(&app, "confirm").await;
    app.click(link_dialog::OPEN).await;
    wait_for("the URL to reach the opener", || async {
        (opened(&log) == [docs]).then_some(())
    })
    .await;

    // file:/// and calculator:// are refused with a clear reason, and never reach the opener.
    click_link(&app, "file:///etc/passwd").await;
    let (message, _) = wait_link_dialog(&app, "refused").await;
    assert!(
        message.contains("\"file:\"") && message.contains("https"),
        "{message}"
    );
    close_link_dialog(&app).await;
    click_link(&app, "calculator://open").await;
    let (message, _) = wait_link_dialog(&app, "refused").await;
    assert!(message.contains("\"calculator:\""), "{message}");
    close_link_dialog(&app).await;

    // The image placeholder, a middle click and window.open all take the same path.
    click_link(&app, "https://example.com/track.png").await;
    let (_, url) = wait_link_dialog(&app, "confirm").await;
    assert_eq!(url, "https://example.com/track.png");
    close_link_dialog(&app).await;
    app.js_with(
        "document.querySelector(arguments[0])
           .dispatchEvent(new MouseEvent('auxclick', { button: 1, bubbles: true, cancelable: true }));
         return null;",
        vec![json!(link_in_last_reply(docs))],
    )
    .await;
    let (_, url) = wait_link_dialog(&app, "confirm").await;
    assert_eq!(url, docs);
    close_link_dialog(&app).await;
    // Keyboard: Enter on the focused link.
    app.press(&link_in_last_reply(docs), ENTER).await;
    let (_, url) = wait_link_dialog(&app, "confirm").await;
    assert_eq!(url, docs);
    close_link_dialog(&app).await;
    let popup = app
        .js("return window.open('https://google.com@evil.example/', '_blank') === null;")
        .await;
    assert_eq!(popup, true, "window.open never returns a window");
    let (message, _) = wait_link_dialog(&app, "refused").await;
    assert!(message.contains("evil.example"), "{message}");
    close_link_dialog(&app).await;
    // The raw anchor the model wrote is text, not a link; no link became anything else.
    assert_eq!(opened(&log), [docs]);
    // Navigation away from the app is refused by the webview's guard (gui.rs).
    app.js("location.href = 'https://example.com/away'; return null;")
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still_here = app.js("return location.href;").await;
    assert!(
        still_here
            .as_str()
            .unwrap()
            .starts_with("tauri://localhost"),
        "{still_here}"
    );
    app.close().await;
}
