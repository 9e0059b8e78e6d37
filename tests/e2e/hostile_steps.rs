//! The hostile-text test's later ways in (issue 14): the Responses API's streamed output (echoed
//! text, and a stream whose model name, reasoning summary, text and failure are payloads),
//! attachment names (images and text files attached live in the composer, sent, and stored ones
//! seeded), and suite outputs in the suite runs view. Each step ends with `check`.

use serde_json::json;

use crate::fake_hostile::RESPONSES_MODEL;
use crate::fixture::{wait_for, App};
use crate::hostile::{check, send_text, shows, unfold};
use crate::page::{composer, sidebar};

/// The Responses API: the corpus echoed as streamed text, then a stream made of payloads.
pub async fn responses(app: &App, all: &str, start: &str) {
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.set_panel_field("#endpoint", "responses").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    send_text(app, all).await;
    app.last_reply("done").await;
    check(app, "Responses API streamed text", start).await;
    app.set_conversation_model(RESPONSES_MODEL).await;
    send_text(app, "hostile responses").await;
    app.last_reply("error").await;
    unfold(app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    check(app, "Responses API reasoning, text and failure", start).await;
    assert!(
        app.find("#messages .message.assistant:last-child .thinking-body")
            .await
            .is_some()
            || app.find("#messages .thinking-body").await.is_some(),
        "the Responses reasoning summary is shown"
    );
    assert!(
        shows(app, "top.__pwned=1").await,
        "the failed stream's text and message are shown as text"
    );
    app.set_panel_field("#endpoint", "chat").await;
}

/// A tiny PNG, base64.
fn png() -> String {
    use base64::Engine;
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(6, 4, image::Rgb([9, 90, 200])))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// Attachment names: every payload names an image or a text file dropped on the composer (ten
/// at a time, the most a message takes), the chips are checked and removed; the last ten are sent
/// to a vision model, so their names reach the message (thumbnails, fence info strings).
pub async fn attachments(app: &App, payloads: &[String], start: &str) {
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-vision").await;
    let png = png();
    let groups: Vec<&[String]> = payloads.chunks(10).collect();
    for (g, group) in groups.iter().enumerate() {
        app.js_with(
            "const bytes = Uint8Array.from(atob(arguments[1]), (c) => c.charCodeAt(0));
             const dt = new DataTransfer();
             arguments[0].forEach((name, i) => dt.items.add(i % 2 === 0
               ? new File([bytes], name, { type: 'image/png' })
               : new File(['text'], name, { type: 'text/plain' })));
             const zone = document.querySelector('.composer-wrap');
             zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
             zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
             return true",
            vec![json!(group), json!(png)],
        )
        .await;
        let n = group.len();
        wait_for("the attachments to be read", || async {
            let chips = app.find_all("#attachments .attach-chip").await.len();
            let busy = app.find("#attachments .attach-busy").await.is_some();
            (chips > 0 && !busy).then_some(())
        })
        .await;
        let chips = app.find_all("#attachments .attach-chip").await.len();
        let error = app
            .js("const e = document.getElementById('composer-error'); return e.hidden ? '' : e.textContent;")
            .await;
        assert_eq!(chips, n, "group {g}: {error}");
        check(app, &format!("attachment names, group {g}"), start).await;
        if g + 1 < groups.len() {
            app.js(
                "for (const b of [...document.querySelectorAll('#attachments .attach-remove')].reverse()) b.click();
                 return null;",
            )
            .await;
        }
    }
    app.click(composer::SEND).await;
    app.last_reply("done").await;
    unfold(app).await;
    check(app, "sent attachment names", start).await;
    assert!(
        app.find("#messages .message.user img.message-thumb")
            .await
            .is_some(),
        "the sent message shows its images"
    );
    // The stored ones (hostile_seed.rs): the conversation "Hostile files" was opened with the
    // others; open it again and look at its thumbnails.
    app.open_conversation("Hostile files").await;
    let shown = wait_for("the stored images", || async {
        let n = app.find_all("#messages img.message-thumb").await.len();
        (n > 0).then_some(n)
    })
    .await;
    unfold(app).await;
    check(app, "stored attachment names", start).await;
    let alts = app
        .js("return [...document.querySelectorAll('#messages img.message-thumb')].map(i => i.alt).join('\\n')")
        .await;
    assert!(
        alts.as_str().unwrap_or("").contains("__pwned"),
        "{shown} stored images shown, named with payloads: {alts}"
    );
}

// ----- HOOK: suite outputs (the suite runs view is built on another branch) -----
// The lead wires this at merge: the selectors below are those of `ui/js/suiteruns.js` on the
// `suitegrid` branch when this was written; adjust them if the view changed.
/// Opens the suite runs view.
const SUITE_RUNS_OPEN: &str = "#open-suite-runs";
/// A run's link in the list of runs.
const SUITE_RUN_LINK: &str = ".sr-run-row .sr-link";
/// The grid's next page.
const SUITE_RUNS_NEXT: &str = ".sr-next";
/// Closes the view.
const SUITE_RUNS_CLOSE: &str = "#close-suite-runs";

/// Suite outputs: the seeded run (hostile_seed.rs `suite_run`: description, grid labels,
/// outputs, errors and assertion reasons are payloads) in the runs list and its grid, every page.
/// Skipped, with a note, while the view does not exist on this branch.
pub async fn suite_runs(app: &App, start: &str) {
    let view = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/js/suiteruns.js");
    if !std::path::Path::new(view).exists() {
        eprintln!("hostile: suite outputs SKIPPED: no ui/js/suiteruns.js on this branch (the run is seeded; wire this step at merge)");
        return;
    }
    assert!(
        app.find(SUITE_RUNS_OPEN).await.is_some(),
        "the suite runs view exists but {SUITE_RUNS_OPEN} does not: update the hook's selectors"
    );
    app.click(SUITE_RUNS_OPEN).await;
    let link = wait_for("the seeded suite run in the list", || async {
        app.find(SUITE_RUN_LINK).await
    })
    .await;
    drop(link);
    check(app, "suite runs list", start).await;
    app.click(SUITE_RUN_LINK).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for page in 0..20 {
        app.js(
            "for (const d of document.querySelectorAll('dialog details')) d.open = true; return null;",
        )
        .await;
        check(app, &format!("suite run grid, page {page}"), start).await;
        let more = app
            .js_with(
                "const b = document.querySelector(arguments[0]); if (!b || b.disabled) return false; b.click(); return true;",
                vec![json!(SUITE_RUNS_NEXT)],
            )
            .await;
        if more != json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert!(
        shows(app, "top.__pwned=1").await,
        "the run's outputs are shown as text"
    );
    app.click(SUITE_RUNS_CLOSE).await;
}
// ----- end of HOOK -----
