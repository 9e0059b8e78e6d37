//! Storage: a damaged database is moved aside byte for byte, and the window says so and goes on.

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};
use crate::page::sidebar;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_moved_aside_and_the_window_says_so() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let garbage = b"not a database: someone's precious notes".repeat(200);
    std::fs::write(lab.data().join("parley.db"), &garbage).unwrap();
    let app = lab.open(&server).await;
    let notice = wait_for("the notice", || app.text_of(sidebar::BANNER_TEXT)).await;
    assert!(
        notice.contains("damaged") && notice.contains("parley restore"),
        "{notice}"
    );
    // The app works on a fresh file, and the damaged one is kept byte for byte.
    app.click(sidebar::NEW_CHAT).await;
    wait_for("the new conversation", || async {
        (app.conversation_titles().await.len() == 1).then_some(())
    })
    .await;
    app.close().await;
    let aside = std::fs::read_dir(lab.data())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("parley.db.corrupt-")
        })
        .expect("the damaged file, moved aside");
    assert_eq!(std::fs::read(aside.path()).unwrap(), garbage);
}
