//! Feedback where the window was silent: the rating marker after saving details, a saved prompt's
//! system prompt not applied (and Apply), a new branch that hides later turns (and the way
//! back), renaming a prompt, chart axes readable in both themes. Screenshots at the minimum size
//! in light and dark, English and Chinese.

use serde_json::{json, Value};

use crate::fake_openai::FakeOpenAi;
use crate::first_run::{keep_screenshot, min_size};
use crate::fixture::{wait_for, App, Lab};
use crate::page::{arena, composer, feedback, messages, panel, prompts, rating, sidebar};
use crate::steps::ENTER;

/// Sets the language and theme as Settings does (the modules' own functions), at once.
pub async fn set_look(app: &App, lang: &str, theme: &str) {
    let done = app
        .client()
        .execute_async(
            "const [lang, theme, done] = arguments;
             Promise.all([import('./app.bundle.js').then((m) => m.i18n), import('./app.bundle.js').then((m) => m.theme)])
               .then(([i18n, look]) => { i18n.setLang(lang); look.setTheme(theme); done(true); }, (e) => done(String(e)));",
            vec![json!(lang), json!(theme)],
        )
        .await
        .unwrap();
    assert_eq!(done, json!(true), "{done}");
    // A moment to repaint before a screenshot.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

/// The light/dark, English/Chinese combinations a screenshot is taken in.
pub const LOOKS: [(&str, &str); 4] = [
    ("en", "light"),
    ("en", "dark"),
    ("zh-CN", "light"),
    ("zh-CN", "dark"),
];

/// The window as it is, kept in every look (`{name}-{lang}-{theme}-640x420.png`; the caller has
/// set the minimum size), then back to English and light.
pub async fn keep_every_look(app: &App, name: &str) {
    for (lang, theme) in LOOKS {
        set_look(app, lang, theme).await;
        crate::first_run::keep_screenshot(app, &format!("{name}-{lang}-{theme}-640x420.png")).await;
    }
    set_look(app, "en", "light").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_rating_details_marks_the_reply_at_once() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("rate my details").await;
    app.last_reply("done").await;
    let more = messages::in_last_reply(feedback::RATE_MORE);
    assert!(!app.text_of(&more).await.unwrap().contains('•'));
    app.click(&more).await;
    app.click(&messages::in_last_reply(&rating::reason("accurate")))
        .await;
    app.click(&messages::in_last_reply(rating::SAVE)).await;
    // No reload, no other click: the marker says the reply has details.
    wait_for("the marker on the reply", || async {
        app.text_of(&more).await.filter(|t| t.contains('•'))
    })
    .await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_prompts_system_prompt_is_announced_and_applied_on_request_and_the_prompt_renamed()
{
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.js("return window.__TAURI__.core.invoke('save_prompt', {name: 'pirate', draft: {title: 'Pirate', body: 'Tell me about ships', systemPrompt: 'Talk like a pirate.', tags: []}, message: ''}).then(() => true)")
        .await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    min_size(&app).await;
    for (lang, theme) in [("en", "light"), ("zh-CN", "dark")] {
        set_look(&app, lang, theme).await;
        app.type_into(composer::FIELD, "/pir").await;
        wait_for("the slash menu", || async {
            let names = app.texts_of(composer::SLASH_NAMES).await;
            (names == ["/pirate"]).then_some(())
        })
        .await;
        app.press(composer::FIELD, ENTER).await;
        wait_for("the note", || async {
            app.text_of(feedback::SYSTEM_NOTE_TEXT)
                .await
                .filter(|t| t.contains("/pirate"))
        })
        .await;
        keep_screenshot(&app, &format!("note-system-{lang}-{theme}-640x420.png")).await;
    }
    set_look(&app, "en", "light").await;
    let note = app.text_of(feedback::SYSTEM_NOTE_TEXT).await.unwrap();
    assert!(note.contains("was not applied"), "{note}");
    // The conversation does not have it until the user says so.
    let system =
        "return window.__TAURI__.core.invoke('list_conversations').then(l => l[0].systemPrompt)";
    assert_eq!(app.js(system).await, json!(""));
    app.click(feedback::SYSTEM_APPLY).await;
    wait_for("the system prompt applied", || async {
        (app.js(system).await == json!("Talk like a pirate.")).then_some(())
    })
    .await;
    let note = app.text_of(feedback::SYSTEM_NOTE_TEXT).await.unwrap();
    assert!(note.contains("now applies"), "{note}");
    // The panel shows it too (a later edit there does not undo it).
    app.open_conversation_panel().await;
    assert_eq!(
        app.value_of(panel::SYSTEM_PROMPT).await.as_deref(),
        Some("Talk like a pirate.")
    );
    // Inserted again: nothing to say, the conversation has it.
    app.type_into(composer::FIELD, "/pir").await;
    wait_for("the slash menu", || async {
        (app.texts_of(composer::SLASH_NAMES).await == ["/pirate"]).then_some(())
    })
    .await;
    app.press(composer::FIELD, ENTER).await;
    wait_for("the prompt inserted, no note", || async {
        let text = app.value_of(composer::FIELD).await?;
        let note = app.find(feedback::SYSTEM_NOTE).await;
        (text == "Tell me about ships" && note.is_none()).then_some(())
    })
    .await;

    // Renamed in the library: what is typed after / changes, the history stays.
    app.click(prompts::OPEN).await;
    app.click(feedback::PROMPT_LIST_NAMES).await;
    app.wait_js(
        "the prompt open",
        "return document.getElementById('prompt-name').value === 'pirate'",
    )
    .await;
    app.click(feedback::RENAME_PROMPT).await;
    app.type_into(prompts::NAME, "buccaneer").await;
    app.click(feedback::RENAME_PROMPT).await;
    wait_for("the renamed prompt", || async {
        let status = app.text_of(prompts::STATUS).await?;
        let names = app.texts_of(feedback::PROMPT_LIST_NAMES).await;
        (status.contains("/buccaneer") && names == ["/buccaneer"]).then_some(())
    })
    .await;
    assert_eq!(
        app.js("return window.__TAURI__.core.invoke('prompt_versions', {name: 'buccaneer'}).then(v => v.length)").await,
        json!(1)
    );
    app.click(prompts::CLOSE).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regenerating_an_earlier_reply_says_what_it_hid_and_offers_the_way_back() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.click(panel::TOGGLE).await;
    app.send("first").await;
    app.last_reply("done").await;
    app.send("second").await;
    let whole = ["first", "Echo: first", "second", "Echo: second"];
    app.wait_bodies(&whole).await;
    // The last reply regenerated hides nothing: no note.
    app.click_nth(messages::REGENERATE, 1).await;
    app.wait_idle().await;
    app.wait_bodies(&whole).await;
    assert!(app.find(feedback::BRANCH_NOTE_TEXT).await.is_none());
    min_size(&app).await;
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        // The first reply regenerated: the second turn goes out of sight, and the note says so.
        app.click_nth(messages::REGENERATE, 0).await;
        app.wait_bodies(&["first", "Echo: first"]).await;
        let note = wait_for("the branch note", || async {
            app.text_of(feedback::BRANCH_NOTE_TEXT).await
        })
        .await;
        assert!(note.contains('2'), "{note}");
        if lang == "en" {
            assert!(
                note.starts_with("New branch: 2 later messages are hidden"),
                "{note}"
            );
        }
        keep_screenshot(&app, &format!("note-branch-{lang}-{theme}-640x420.png")).await;
        // The way back: the previous branch, with its later turns.
        app.click(feedback::BRANCH_BACK).await;
        app.wait_bodies(&whole).await;
        assert!(app.find(feedback::BRANCH_NOTE_TEXT).await.is_none());
    }
    set_look(&app, "en", "light").await;
    // Editing the first question does the same.
    app.click_nth(messages::EDIT, 0).await;
    app.type_into(messages::EDIT_INPUT, "first, edited").await;
    app.click(messages::EDIT_SEND).await;
    app.wait_bodies(&["first, edited", "Echo: first, edited"])
        .await;
    let note = wait_for("the branch note after an edit", || async {
        app.text_of(feedback::BRANCH_NOTE_TEXT).await
    })
    .await;
    assert!(note.starts_with("The edit started a new branch"), "{note}");
    app.click(feedback::BRANCH_BACK).await;
    app.wait_bodies(&whole).await;
    app.close().await;
}

/// The lowest contrast of the charts' axis ticks, titles and legends against the dialog behind
/// them (WCAG formula), from the colours Chart.js draws with.
const CHART_CONTRAST: &str = r#"
const rgb = (c) => { const el = document.createElement('span'); el.style.color = c; document.body.append(el); const v = getComputedStyle(el).color; el.remove(); const m = v.match(/[\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
const over = (top, under) => { const a = top[3]; return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat(1); };
const backdrop = (el) => { const layers = []; for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c[3] > 0) layers.push(c); if (c[3] >= 1) break; } let acc = [255, 255, 255, 1]; for (const l of layers.reverse()) acc = over(l, acc); return acc; };
const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const out = [];
for (const canvas of document.querySelectorAll('#ratings-view canvas')) {
  const chart = window.Chart.getChart(canvas);
  const back = backdrop(canvas);
  const o = chart.options;
  const colours = [o.plugins.title.color, o.plugins.legend.labels.color];
  for (const axis of Object.values(o.scales)) colours.push(axis.ticks.color);
  for (const c of colours) out.push(ratio(over(rgb(c), back), back));
}
return out.length ? Math.min(...out) : null;
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_axes_keep_three_to_one_contrast_in_light_and_dark() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.click(sidebar::NEW_CHAT).await;
    app.set_conversation_model("test-model").await;
    app.send("chart me").await;
    app.last_reply("done").await;
    let four = messages::in_last_reply(&rating::score(4));
    app.click(&four).await;
    wait_for("the score to be saved", || async {
        app.attr_of(&four, "aria-pressed")
            .await
            .filter(|v| v == "true")
    })
    .await;
    app.click(arena::OPEN).await;
    app.wait_js(
        "the charts",
        "return !!window.Chart && document.querySelectorAll('#ratings-view canvas').length === 2 && [...document.querySelectorAll('#ratings-view canvas')].every((c) => window.Chart.getChart(c))",
    )
    .await;
    for theme in ["light", "dark"] {
        set_look(&app, "en", theme).await;
        let lowest: Value = app.js(CHART_CONTRAST).await;
        let lowest = lowest.as_f64().expect("charts drawn");
        assert!(lowest >= 3.0, "{theme}: chart text at {lowest:.2}:1");
        app.js("document.getElementById('ratings-dist').scrollIntoView({block: 'center'}); return true")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        keep_screenshot(&app, &format!("chart-axes-{theme}.png")).await;
    }
    set_look(&app, "en", "light").await;
    app.click(feedback::CLOSE_ARENA).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_on_this_computer_skip_the_proxy_until_settings_say_otherwise() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    let local = "return window.__TAURI__.core.invoke('list_profiles').then(o => o.proxyLocal)";
    assert_eq!(app.js(local).await, json!(false), "off by default");
    app.click(crate::page::settings::OPEN).await;
    assert_eq!(
        app.js("return document.getElementById('app-proxy-local').checked")
            .await,
        false
    );
    app.click(feedback::PROXY_LOCAL).await;
    app.click(feedback::SAVE_APP_PROXY).await;
    wait_for("the setting saved", || async {
        (app.js(local).await == json!(true)).then_some(())
    })
    .await;
    app.click(crate::page::settings::CLOSE).await;
    app.close().await;
    // Kept: the box is ticked after a restart.
    let app = lab.open(&server).await;
    min_size(&app).await;
    app.click(crate::page::settings::OPEN).await;
    app.wait_js(
        "the box ticked",
        "return document.getElementById('app-proxy-local').checked",
    )
    .await;
    for (lang, theme) in LOOKS {
        set_look(&app, lang, theme).await;
        app.js("document.getElementById('app-proxy-local').scrollIntoView({block: 'center'}); return true")
            .await;
        keep_screenshot(
            &app,
            &format!("settings-proxy-local-{lang}-{theme}-640x420.png"),
        )
        .await;
    }
    set_look(&app, "en", "light").await;
    app.click(crate::page::settings::CLOSE).await;
    app.close().await;
}
