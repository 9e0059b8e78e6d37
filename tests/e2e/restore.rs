//! The window comes back where it was: size and position kept in the data folder
//! (`window.json`), written after a move or resize, and clamped when the saved place is off every
//! screen or below the minimum size.

use crate::fake_openai::FakeOpenAi;
use crate::fixture::{wait_for, Lab};

fn saved(lab: &Lab) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(lab.data().join("window.json")).ok()?;
    serde_json::from_str(&text).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_comes_back_at_its_size_and_place_and_a_bad_saved_place_is_clamped() {
    let lab = Lab::new().await;
    let server = FakeOpenAi::start();
    let app = lab.open(&server).await;
    app.client()
        .set_window_rect(40, 30, 900, 600)
        .await
        .expect("the window moves and resizes");
    // Written a moment after the last change (debounced), without closing.
    let geometry = wait_for("window.json with the new size", || async {
        let g = saved(&lab)?;
        (g["width"] == 900.0 && g["height"] == 600.0).then_some(g)
    })
    .await;
    assert_eq!(
        (geometry["x"].as_f64(), geometry["y"].as_f64()),
        (Some(40.0), Some(30.0))
    );
    app.close().await;

    let app = lab.open(&server).await;
    let (x, y, w, h) = app.client().get_window_rect().await.unwrap();
    assert_eq!((w, h), (900, 600), "the size comes back");
    assert_eq!((x, y), (40, 30), "the place comes back");
    app.close().await;

    // Saved off every screen and below the minimum (another monitor, an edited file): the window
    // opens on the screen, at least 640x420.
    std::fs::write(
        lab.data().join("window.json"),
        r#"{"x": 9000, "y": -5000, "width": 100, "height": 50}"#,
    )
    .unwrap();
    let app = lab.open(&server).await;
    let (x, y, w, h) = app.client().get_window_rect().await.unwrap();
    assert!(w >= 640 && h >= 420, "{w}x{h}");
    // Xvfb's screen is 1280x800.
    assert!(x + w <= 1280 && y + h <= 800, "at {x},{y} ({w}x{h})");
    let inner = app
        .js("return [window.innerWidth, window.innerHeight]")
        .await;
    assert!(
        inner[0].as_u64().unwrap() >= 640 && inner[1].as_u64().unwrap() >= 420,
        "{inner}"
    );
    app.close().await;

    // A file that is not geometry at all is ignored: the default size.
    std::fs::write(lab.data().join("window.json"), "not json").unwrap();
    let app = lab.open(&server).await;
    let (_, _, w, h) = app.client().get_window_rect().await.unwrap();
    assert_eq!((w, h), (1100, 760));
    app.close().await;
}
