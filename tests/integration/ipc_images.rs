//! Attaching through IPC as the window does it: the file's bytes as the raw body, its name
//! percent-encoded in a header; a JSON body is refused; the limits and the longest-edge setting.

use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;
use crate::images::png;
use crate::ipc::{app, invoke};

fn invoke_raw(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Value, Value> {
    let mut headers = tauri::http::HeaderMap::new();
    headers.insert("x-parley-name", name.parse().unwrap());
    tauri::test::get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Raw(bytes),
            headers,
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn images_and_files_are_attached_from_raw_bytes_with_their_names() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let (_app, w) = app(dir.path(), &server);
    let limits = invoke(&w, "attachment_limits", json!({})).unwrap();
    assert_eq!(limits["maxEdge"], 2048);
    assert_eq!(limits["maxAttachments"], 10);
    let set = invoke(&w, "set_image_max_edge", json!({"edge": 512})).unwrap();
    assert_eq!(set["maxEdge"], 512);
    let e = invoke(&w, "set_image_max_edge", json!({"edge": 5})).unwrap_err();
    assert_eq!(e["kind"], "invalid");
    // "图表 1.png", as encodeURIComponent sends it.
    let name = "%E5%9B%BE%E8%A1%A8%201.png";
    let a = invoke_raw(&w, "attach_image", name, png(1024, 256)).unwrap();
    assert_eq!(a["name"], "图表 1.png");
    assert_eq!(
        (a["width"].as_u64(), a["height"].as_u64()),
        (Some(512), Some(128))
    );
    assert_eq!(a["downscaled"], true);
    assert_eq!(a["detail"], "auto");
    assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    assert!(a["thumb"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    let f = invoke_raw(&w, "attach_file", "a.json", b"{\"k\": 1}".to_vec()).unwrap();
    assert_eq!(f, json!({"name": "a.json", "text": "{\"k\": 1}"}));
    let e = invoke_raw(&w, "attach_file", "x.bin", vec![0xff, 0, 1]).unwrap_err();
    assert!(e["message"].as_str().unwrap().contains("x.bin"), "{e}");
    // Bytes must come raw, not inside JSON.
    let e = invoke(&w, "attach_image", json!({"bytes": [1, 2, 3]})).unwrap_err();
    assert_eq!(e["kind"], "invalid");
}
