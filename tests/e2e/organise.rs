//! Organising in the real window: create a folder, move a conversation into it with the row menu,
//! tag it, archive it (hidden from the list, shown under Archived); bulk move with Undo; the
//! History section lists backups. Screenshots of the new parts in light and dark, English and Chinese.

use serde_json::json;

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, App, Lab};
use crate::page::{organise, sidebar};
use crate::steps::ENTER;

/// Two conversations in the lab's database before the window opens.
fn seed(lab: &Lab) {
    use parley_core::db::{conversations, Db};
    let (db, _) = Db::open_dir(lab.data()).unwrap();
    for title in ["Trip plans", "Tax questions"] {
        db.with(|c| {
            conversations::create(c, None).and_then(|x| conversations::rename(c, x.id, title))
        })
        .unwrap();
    }
}

impl App {
    /// Opens the menu of the conversation titled `title` from the keyboard (Shift+F10).
    async fn row_menu(&self, title: &str) {
        wait_for("the row", || async {
            let titles = self.conversation_titles().await;
            titles.iter().any(|t| t.contains(title)).then_some(())
        })
        .await;
        self.js_with(
            "const li = [...document.querySelectorAll('#conversation-list li.conversation')]
               .find(l => l.textContent.includes(arguments[0]));
             li.focus();
             li.dispatchEvent(new KeyboardEvent('keydown', {key: 'F10', shiftKey: true, bubbles: true}));
             return true",
            vec![json!(title)],
        )
        .await;
        wait_for("the menu", || self.find(organise::MENU_ITEMS)).await;
    }

    /// Chooses the open menu's item whose text contains `label`.
    async fn choose(&self, label: &str) {
        wait_for(label, || async {
            let texts = self.texts_of(organise::MENU_ITEMS).await;
            let i = texts.iter().position(|t| t.contains(label))?;
            self.click_nth(organise::MENU_ITEMS, i).await;
            Some(())
        })
        .await;
    }

    /// Types `text` in the small prompt and confirms it.
    async fn answer(&self, text: &str) {
        wait_for("the prompt", || self.find(organise::ASK_INPUT)).await;
        self.type_into(organise::ASK_INPUT, text).await;
        self.press(organise::ASK_INPUT, ENTER).await;
    }

    async fn wait_titles(&self, want: &[&str]) {
        wait_for(&format!("the list to be {want:?}"), || async {
            let mut got: Vec<String> = self
                .conversation_titles()
                .await
                .iter()
                .map(|t| t.replace('📌', "").trim().to_string())
                .collect();
            got.sort();
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want.sort();
            (got == want).then_some(())
        })
        .await;
    }

    async fn click_text(&self, css: &str, text: &str) {
        wait_for(text, || async {
            let i = self
                .texts_of(css)
                .await
                .iter()
                .position(|t| t.contains(text))?;
            self.click_nth(css, i).await;
            Some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_created_and_a_conversation_moved_tagged_and_archived() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    seed(&lab);
    let app = lab.open(&server).await;
    app.wait_titles(&["Trip plans", "Tax questions"]).await;

    app.click(organise::NEW_FOLDER).await;
    app.answer("Travel").await;
    wait_for("the folder", || async {
        app.texts_of(organise::FOLDER_ROWS)
            .await
            .iter()
            .any(|t| t.contains("Travel"))
            .then_some(())
    })
    .await;

    app.row_menu("Trip plans").await;
    app.choose("Move to").await;
    app.choose("Travel").await;
    app.click_text(organise::FOLDER_ROWS, "Travel").await;
    app.wait_titles(&["Trip plans"]).await;

    app.row_menu("Trip plans").await;
    app.choose("Tags").await;
    app.choose("New tag").await;
    app.answer("holiday").await;
    wait_for("the tag on the row", || app.find(organise::ROW_TAG_DOTS)).await;
    assert_eq!(app.texts_of(organise::TAG_CHIPS).await, ["holiday"]);
    app.screenshot("organise-light-en.png").await;

    app.row_menu("Trip plans").await;
    app.choose("Archive").await;
    app.wait_titles(&[]).await;
    app.click(organise::ARCHIVED_VIEW).await;
    app.wait_titles(&["Trip plans"]).await;
    app.click(organise::ALL_VIEW).await;
    app.wait_titles(&["Tax questions"]).await;

    // What the back end holds: archived, in Travel, tagged.
    let archived = app
        .ask_backend(
            "list_archived_conversations",
            "r => r.map(c => [c.title, c.folderId != null, c.tags.length])",
        )
        .await
        .unwrap();
    assert_eq!(archived, json!([["Trip plans", true, 1]]));

    // Bulk: select both visible rows (one), move, then Undo from the toast. The earlier toasts
    // are dismissed first, so the move's is the only "Moved" one.
    app.js(&format!(
        "document.querySelectorAll(\"{}\").forEach(t => t.remove()); return true",
        sidebar::TOAST
    ))
    .await;
    app.click(organise::SELECT_TOGGLE).await;
    app.click_nth(sidebar::CONVERSATIONS, 0).await;
    app.screenshot("organise-select-light-en.png").await;
    app.click_text(&format!("{} button", organise::BULK_BAR), "Move to")
        .await;
    app.choose("Travel").await;
    // The Undo of the bulk move's own toast, the newest "Moved" one (the toasts of the earlier move
    // and of the archive may still be showing): wait for it,
    // since the toast comes only once the move is saved and the list refreshed.
    app.wait_js(
        "the move's toast",
        &format!(
            "const t = [...document.querySelectorAll(\"{}\")].filter(t => t.textContent.startsWith('Moved 1')).pop();
             if (!t) return false;
             t.querySelector(\"{}\").click();
             return true;",
            sidebar::TOAST,
            sidebar::TOAST_ACTION_IN
        ),
    )
    .await;
    wait_for("the undo", || async {
        let r = app
            .ask_backend("list_conversations", "r => r.map(c => c.folderId)")
            .await?;
        (r == json!([null])).then_some(())
    })
    .await;
    // In select mode Delete acts on the selection: a row clicked twice (selected, deselected)
    // keeps its focus and is not deleted (it was).
    if app
        .js("return document.getElementById('bulk-bar')?.hidden !== false")
        .await
        == json!(true)
    {
        app.click(organise::SELECT_TOGGLE).await;
    }
    app.wait_js(
        "select mode",
        "return document.getElementById('bulk-bar')?.hidden === false",
    )
    .await;
    app.js("document.querySelectorAll('#conversation-list li.selected').forEach((li) => li.click()); return true")
        .await;
    app.click_nth(sidebar::CONVERSATIONS, 0).await;
    app.click_nth(sidebar::CONVERSATIONS, 0).await;
    app.press(sidebar::CONVERSATIONS, "\u{e017}").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let left = app.ask_backend("list_conversations", "r => r.length").await;
    assert_eq!(left, Some(json!(1)), "nothing selected, nothing deleted");
    app.js("const t = document.getElementById('select-toggle'); if (document.getElementById('bulk-bar')?.hidden === false) t.click(); return true")
        .await;

    // An archived conversation opened from its view has its title, and Delete removes it there
    // (it opened untitled, and Delete did nothing).
    app.click(organise::ARCHIVED_VIEW).await;
    app.wait_titles(&["Trip plans"]).await;
    app.click_nth(sidebar::CONVERSATIONS, 0).await;
    app.wait_js(
        "its title",
        "return document.getElementById('chat-title').textContent.includes('Trip plans')",
    )
    .await;
    app.press(sidebar::CONVERSATIONS, "\u{e017}").await;
    app.wait_titles(&[]).await;
    app.click(organise::ALL_VIEW).await;
    app.wait_titles(&["Tax questions"]).await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organised_sidebar_in_dark_and_in_chinese() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    seed(&lab);
    {
        use parley_core::db::{organise as org, Db};
        let (db, _) = Db::open_dir(lab.data()).unwrap();
        db.with(|c| {
            let f = org::create_folder(c, "工作", None)?;
            org::create_folder(c, "Clients", Some(f.id))?;
            let t = org::ensure_tag(c, "urgent", Some("#e11d48"))?;
            org::apply(c, &[1], &org::Change::AddTag { tag_id: t.id })?;
            org::apply(c, &[1], &org::Change::Pin { pinned: true })?;
            org::apply(
                c,
                &[2],
                &org::Change::Move {
                    folder_id: Some(f.id),
                },
            )?;
            // The backup's default profile names one model; the database after it another.
            let p = parley_core::db::profiles::default_profile(c)?;
            c.execute(
                "UPDATE profiles SET default_model = 'model-from-backup' WHERE id = ?1",
                [p.id],
            )?;
            parley_core::db::backup::write(c, lab.data(), "daily")?;
            c.execute(
                "UPDATE profiles SET default_model = 'model-now' WHERE id = ?1",
                [p.id],
            )?;
            Ok(())
        })
        .unwrap();
    }
    let app = lab
        .app(&server)
        .env("GTK_THEME", "Adwaita:dark")
        .open()
        .await;
    app.wait_titles(&["Trip plans", "Tax questions"]).await;
    app.screenshot("organise-dark-en.png").await;
    // Switched live (Settings' language box), the folder panel's own headings follow at once.
    app.js("const s = document.getElementById('language'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change')); return true")
        .await;
    app.wait_js(
        "the folder headings in Chinese",
        "return document.querySelector('#folder-panel .folder-heading')?.textContent === '文件夹'",
    )
    .await;
    app.js("localStorage.setItem('parley.lang', 'zh-CN'); location.reload(); return true")
        .await;
    app.wait_js("the Chinese page", "return document.documentElement.dataset.ready === 'true' && !!document.querySelector('#folder-panel .folder-row')").await;
    app.row_menu("Trip plans").await;
    app.screenshot("organise-dark-zh.png").await;
    app.press(organise::MENU_ITEMS, "\u{e00c}").await;
    app.click(crate::page::settings::OPEN).await;
    wait_for("the backups", || app.find(organise::BACKUP_ROWS)).await;
    app.js("document.getElementById('history-section').scrollIntoView(); return true")
        .await;
    app.screenshot("history-dark-zh.png").await;
    // A restore from the window: Settings shows the restored profiles at once (it kept the
    // form of before, and Save wrote it back over them).
    app.wait_js(
        "the default model of now",
        "return document.querySelector('#default-model')?.value === 'model-now'",
    )
    .await;
    app.js("document.querySelector('#backup-list .backup-restore').click(); return true")
        .await;
    app.wait_js(
        "the confirmation",
        "const b = document.getElementById('ask-yes'); if (!b) return false; b.click(); return true",
    )
    .await;
    app.wait_js(
        "the restored default model in the form",
        "return document.querySelector('#default-model')?.value === 'model-from-backup'",
    )
    .await;
    // "Export all…" opens its menu inside the Settings dialog, where it can be used (under the
    // modal dialog, a click fell on the backdrop and closed Settings).
    app.js("document.getElementById('export-all').click(); return true")
        .await;
    app.wait_js(
        "the export menu, usable over Settings",
        "const item = document.querySelector('.org-menu .org-menu-item');
         if (!item) return false;
         const r = item.getBoundingClientRect();
         return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest('.org-menu-item') === item",
    )
    .await;
    app.close().await;
}
