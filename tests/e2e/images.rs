//! Images and files (issue 12): an image dropped on the composer and a text file chosen with the
//! paperclip show as chips (thumbnail made in Rust); sent, the message shows the thumbnail and the
//! local server received an `image_url` part. A hostile file name stays text. Screenshots of the
//! composer with attachments beside a message with a thumbnail, light/dark, en/zh-CN, 640x420.

use std::io::Cursor;

use base64::Engine;
use serde_json::{json, Value};

use crate::fake_openai::fake_images::{describe, VISION_MODEL};
use crate::fake_openai::FakeOpenAi;
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{composer, sidebar};

const CHIP_THUMB: &str = "#attachments .attach-chip.image img.attach-thumb";
const CHIP_NAMES: &str = "#attachments .attach-name";
const MESSAGE_THUMB: &str = "#messages .message.user img.message-thumb";
const HOSTILE: &str = "<img src=x onerror=\"window.__pwned=1\">.png";

fn png(w: u32, h: u32) -> String {
    let img =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 160]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// Drops a file on the composer, as a drag from the file manager does.
async fn drop_file(app: &App, name: &str, mime: &str, base64: &str) {
    app.js_with(
        "const bytes = Uint8Array.from(atob(arguments[2]), (c) => c.charCodeAt(0));
         const dt = new DataTransfer();
         dt.items.add(new File([bytes], arguments[0], { type: arguments[1] }));
         const zone = document.querySelector('.composer-wrap');
         zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
         zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
         return true",
        vec![json!(name), json!(mime), json!(base64)],
    )
    .await;
}

/// Chooses a file through the paperclip's file input.
async fn choose_file(app: &App, name: &str, text: &str) {
    app.js_with(
        "const dt = new DataTransfer();
         dt.items.add(new File([arguments[1]], arguments[0], { type: 'text/plain' }));
         const input = document.getElementById('attach-input');
         input.files = dt.files;
         input.dispatchEvent(new Event('change', { bubbles: true }));
         return true",
        vec![json!(name), json!(text)],
    )
    .await;
}

/// Reloads the page (`extra` runs first) and waits until the new page shows the thread's thumbnail:
/// the old page is marked, so its DOM is never taken for the new one.
async fn reload(app: &App, extra: &str, args: Vec<Value>) {
    app.js_with(
        &format!("{extra}; window.__oldPage = true; location.reload(); return true"),
        args,
    )
    .await;
    app.wait_js(
        "the reloaded page with the thread's thumbnail",
        &format!(
            "return !window.__oldPage && document.readyState === 'complete' && !!document.querySelector('{MESSAGE_THUMB}')"
        ),
    )
    .await;
}

async fn count(app: &App, css: &str) -> usize {
    app.find_all(css).await.len()
}

async fn wait_count(app: &App, what: &str, css: &str, n: usize) {
    wait_for(what, || async {
        (count(app, css).await == n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attached_image_shows_as_a_thumbnail_and_reaches_the_server_as_an_image_part() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model(VISION_MODEL).await;
    drop_file(&app, HOSTILE, "image/png", &png(64, 48)).await;
    wait_count(&app, "the image chip", CHIP_THUMB, 1).await;
    let src = app.attr_of(CHIP_THUMB, "src").await.unwrap();
    assert!(src.starts_with("data:image/png;base64,"), "{src:.40}");
    choose_file(&app, "notes.md", "# Notes\nsecond line\n").await;
    wait_count(&app, "the file chip", CHIP_NAMES, 2).await;
    // The hostile name is text: shown as typed, nothing ran, no extra element.
    let names = app.texts_of(CHIP_NAMES).await;
    assert_eq!(names, [HOSTILE, "notes.md"]);
    let pwned = app.js("return window.__pwned === undefined && !document.querySelector('#attachments img[src=\"x\"]')").await;
    assert_eq!(pwned, json!(true));
    app.send("What is this?").await;
    let reply = app.last_reply("done").await;
    assert_eq!(reply, "Saw 1 image(s): image/png 64x48 auto");
    wait_count(&app, "the thumbnail in the message", MESSAGE_THUMB, 1).await;
    assert_eq!(count(&app, CHIP_NAMES).await, 0, "the composer is cleared");
    // What the server got: the text with the file block, then the image part.
    let body: Value = server.requests().pop().unwrap().body;
    let content = &body["messages"].as_array().unwrap().last().unwrap()["content"];
    assert_eq!(
        content[0]["text"],
        "What is this?\n\n```notes.md\n# Notes\nsecond line\n```"
    );
    assert_eq!(describe(&content[1]).unwrap(), "image/png 64x48 auto");
    // After a reload the thumbnail comes from the database.
    reload(&app, "", vec![]).await;
    let alt = wait_for("the thumbnail's alt text", || async {
        app.attr_of(MESSAGE_THUMB, "alt").await
    })
    .await;
    assert_eq!(alt, HOSTILE);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_at_the_minimum_size_in_light_dark_english_and_chinese() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model(VISION_MODEL).await;
    drop_file(&app, "chart.png", "image/png", &png(120, 80)).await;
    wait_count(&app, "the image chip", CHIP_THUMB, 1).await;
    app.send("What does this chart show?").await;
    app.last_reply("done").await;
    for (lang, theme) in [
        ("en", "light"),
        ("en", "dark"),
        ("zh-CN", "light"),
        ("zh-CN", "dark"),
    ] {
        reload(
            &app,
            "localStorage.setItem('parley.theme', arguments[1]); localStorage.setItem('parley.lang', arguments[0])",
            vec![lang.into(), theme.into()],
        )
        .await;
        min_size(&app).await;
        drop_file(&app, "photo.png", "image/png", &png(90, 120)).await;
        choose_file(&app, "data.csv", "a,b\n1,2\n").await;
        wait_count(&app, "both chips", CHIP_NAMES, 2).await;
        app.find(composer::FIELD).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        keep_screenshot(&app, &format!("attachments-{lang}-{theme}-640x420.png")).await;
    }
    app.js("localStorage.removeItem('parley.theme'); localStorage.removeItem('parley.lang'); return true")
        .await;
    app.close().await;
}
