//! The steps a user takes and what they see, as methods on [`App`]: click, type, read, send, wait.
//! They wait for what they act on, so a test reads as its scenario.

use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::{json, Value};

use crate::fixture::{wait_for, App, WAIT};
use crate::page::{composer, messages, panel, sidebar};

/// WebDriver's Enter key.
pub const ENTER: &str = "\u{e007}";

impl App {
    /// The first element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        self.client().find(Locator::Css(css)).await.ok()
    }

    /// Every element matching `css` now, in page order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client()
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        self.find(css).await?.text().await.ok()
    }

    /// An attribute of the first element matching `css`.
    pub async fn attr_of(&self, css: &str, attr: &str) -> Option<String> {
        self.find(css).await?.attr(attr).await.ok()?
    }

    /// The innerText of every element matching `css`, in page order.
    pub async fn texts_of(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for el in self.find_all(css).await {
            // WebKitWebDriver reports "" as the text of an ellipsised (text-overflow) element.
            let text = el
                .prop("innerText")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            out.push(text.trim().to_string());
        }
        out
    }

    /// The current value of the field matching `css`.
    pub async fn value_of(&self, css: &str) -> Option<String> {
        self.find(css).await?.prop("value").await.ok()?
    }

    /// Scrolls `el` into view: WebKitWebDriver only clicks and types into what it can see.
    async fn reveal(&self, el: &Element, block: &str) -> Option<()> {
        let arg = serde_json::to_value(el).ok()?;
        let script = format!("arguments[0].scrollIntoView({{block: '{block}'}})");
        self.client().execute(&script, vec![arg]).await.ok()?;
        Some(())
    }

    /// Clicks the first element matching `css`, once there is one.
    pub async fn click(&self, css: &str) {
        // Retried when the page re-renders the element between finding and clicking it (a stale
        // node); any other refusal fails the test.
        wait_for(css, || async {
            let el = self.find(css).await?;
            // In a scrolling dialog or panel WebKitWebDriver only clicks what it can see.
            let _ = self.reveal(&el, "nearest").await;
            match el.click().await {
                Ok(_) => Some(()),
                Err(e) if is_stale(&e) => None,
                Err(e) => panic!("click {css}: {e}"),
            }
        })
        .await;
    }

    /// Clicks the `n`th (from 0) element matching `css`, once there are that many.
    pub async fn click_nth(&self, css: &str, n: usize) {
        wait_for(&format!("{css} #{n}"), || async {
            let el = self.find_all(css).await.into_iter().nth(n)?;
            let _ = self.reveal(&el, "center").await;
            match el.click().await {
                Ok(_) => Some(()),
                Err(e) if is_stale(&e) => None,
                Err(e) => panic!("click {css} #{n}: {e}"),
            }
        })
        .await;
    }

    /// Replaces a field's text. Retries when the page re-renders the field under our feet.
    pub async fn type_into(&self, css: &str, text: &str) {
        wait_for(css, || async {
            let el = self.find(css).await?;
            // Inside a scrolling panel WebKitWebDriver only types into a field it can see.
            self.reveal(&el, "center").await?;
            el.clear().await.ok()?;
            el.send_keys(text).await.ok()?;
            let value = el.prop("value").await.ok()??;
            (value == text).then_some(())
        })
        .await;
    }

    /// Sends `keys` (WebDriver key codes included) to the element matching `css`, as it is now.
    pub async fn press(&self, css: &str, keys: &str) {
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no {css}"))
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// Picks the option with `value` in the select matching `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .unwrap_or_else(|| panic!("no {css}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Runs `body` (a JS function body ending in `return …`) in the page and returns its JSON value.
    pub async fn js(&self, body: &str) -> Value {
        self.js_with(body, vec![]).await
    }

    /// [`App::js`] with `arguments[0..]`.
    pub async fn js_with(&self, body: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(body, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// What the page has asked of the web process's memory so far (ui/js/memory.js):
    /// `{ requests, last: { beforeKib, afterKib, ms } | null }`.
    pub async fn memory_stats(&self) -> Value {
        self.js_async("import('./app.bundle.js').then((m) => m.memory).then((m) => m.memoryStats)")
            .await
    }

    /// A full collection in the web process now, as the page asks for one (`release_memory`):
    /// `{ beforeKib, afterKib, ms }`, or null without the web process extension.
    pub async fn release_memory(&self) -> Value {
        self.js_async(
            "import('./app.bundle.js').then((m) => m.api).then(({ api }) => api.releaseMemory())",
        )
        .await
    }

    /// The value of a promise `expr` makes in the page (its error as a string).
    pub async fn js_async(&self, expr: &str) -> Value {
        let script = format!(
            "const done = arguments[0]; Promise.resolve().then(() => {expr}).then(done, (e) => done(String(e)));"
        );
        self.client()
            .execute_async(&script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` (a function body) returns true in the page.
    pub async fn wait_js(&self, what: &str, script: &str) {
        wait_for(what, || async {
            let v = self.client().execute(script, vec![]).await.ok()?;
            (v == json!(true)).then_some(())
        })
        .await;
    }

    /// Asks the back end through the page's own IPC bridge, as the UI does, and returns `pick(result)`.
    pub async fn ask_backend(&self, cmd: &str, pick: &str) -> Option<Value> {
        let script = format!(
            "const done = arguments[0]; window.__TAURI__.core.invoke('{cmd}').then(r => done(({pick})(r)), () => done(null))"
        );
        self.client().execute_async(&script, vec![]).await.ok()
    }

    /// Types `text` in the composer and sends it with Enter (Shift+Enter would add a line).
    pub async fn send(&self, text: &str) {
        self.type_into(composer::FIELD, text).await;
        self.press(composer::FIELD, ENTER).await;
    }

    /// Waits until the last reply on screen has `status` and returns its text.
    pub async fn last_reply(&self, status: &str) -> String {
        wait_for(&format!("the last reply to be {status}"), || async {
            (self.attr_of(messages::LAST_REPLY, "data-status").await? == status).then_some(())?;
            self.text_of(&messages::in_last_reply(messages::BODY)).await
        })
        .await
    }

    /// The message bodies on screen, in order (columns of a group included).
    pub async fn bodies(&self) -> Vec<String> {
        self.texts_of(messages::BODIES).await
    }

    /// Waits until the message bodies on screen are exactly `want`.
    pub async fn wait_bodies(&self, want: &[&str]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let last = self.bodies().await;
            if last == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {want:?}, the page shows {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no reply is streaming (the window has finished and re-rendered).
    pub async fn wait_idle(&self) {
        self.wait_js(
            "the replies to end",
            "return !document.body.classList.contains('streaming')",
        )
        .await;
    }

    /// The titles in the sidebar, newest first.
    pub async fn conversation_titles(&self) -> Vec<String> {
        self.texts_of(sidebar::CONVERSATIONS).await
    }

    /// Opens the conversation whose title contains `title`, clicking in the page until its row
    /// is the current one (the sidebar can redraw between finding a row and clicking it, and a
    /// click on a row that was just replaced goes nowhere).
    pub async fn open_conversation(&self, title: &str) {
        wait_for(
            &format!("the conversation titled {title} to open"),
            || async {
                let state = self
                    .js_with(
                        "const li = [...document.querySelectorAll(arguments[0])]
                       .find((l) => l.innerText.includes(arguments[1]));
                     if (!li) return 'missing';
                     if (li.getAttribute('aria-current') === 'true') return 'open';
                     li.click();
                     return 'clicked';",
                        vec![json!(sidebar::CONVERSATIONS), json!(title)],
                    )
                    .await;
                (state == json!("open")).then_some(())
            },
        )
        .await;
    }

    /// Opens the conversation's settings panel once a conversation is active (the toggle is
    /// disabled until then: a click right after "New chat" could otherwise go nowhere).
    pub async fn open_conversation_panel(&self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let state = self
                .client()
                .execute(
                    "const t = document.querySelector(arguments[0]);
                     const p = document.querySelector(arguments[1]);
                     if (!t.disabled && p.hidden) t.click();
                     return [t.disabled, p.hidden, document.querySelector(arguments[2]).disabled];",
                    vec![
                        json!(panel::TOGGLE),
                        json!(panel::PANEL),
                        json!(panel::MODEL),
                    ],
                )
                .await;
            if let Ok(v) = &state {
                if v == &json!([false, false, false]) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the conversation panel did not open: [toggle disabled, panel hidden, model disabled] = {state:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sets the current conversation's model in its settings panel and waits for the debounced save.
    pub async fn set_conversation_model(&self, model: &str) {
        self.open_conversation_panel().await;
        self.type_into(panel::MODEL, model).await;
        wait_for("the model to be saved", || async {
            let v = self
                .ask_backend("list_conversations", "l => l[0] && l[0].model")
                .await?;
            (v == model).then_some(())
        })
        .await;
    }

    /// Opens the conversation panel (if closed) and sets a field, firing input and change.
    pub async fn set_panel_field(&self, css: &str, value: &str) {
        self.open_conversation_panel().await;
        self.js_with(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('input', {bubbles: true}));
             el.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(value)],
        )
        .await;
    }
}

/// The page replaced the element after it was found (WebKitWebDriver: "Node … was not found").
fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    let text = e.to_string();
    text.contains("was not found") || text.contains("stale element")
}
