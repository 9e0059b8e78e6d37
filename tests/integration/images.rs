//! Images and text files (issue 12): `image_url` parts on the wire (checked by the local server and
//! against the OpenAI reference), downscaling, one stored copy across resend / regenerate / edit, a
//! model that refuses images, fenced text files, the limits, and `parley ask --image/--file`.

use std::io::Cursor;

use parley_core::api::{Detail, ImageRef, Status, TextFile};
use parley_core::chat::{RetryRequest, SendRequest};

use crate::cli::{assert_succeeded, parley};
use crate::common::{new_conversation, peek, service, tempdir};
use crate::fake_openai::fake_images::{describe, TEXT_ONLY_MODEL, VISION_MODEL};
use crate::fake_openai::FakeOpenAi;

/// A PNG of `w`×`h` with a gradient (so it does not compress to nothing).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x + y) % 7) as u8 * 30])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn send(conversation_id: i64, content: &str, images: Vec<ImageRef>) -> SendRequest {
    SendRequest {
        conversation_id,
        content: content.into(),
        images,
        ..Default::default()
    }
}

fn last_user_content(server: &FakeOpenAi) -> serde_json::Value {
    let body = server.requests().pop().unwrap().body;
    body["messages"].as_array().unwrap().last().unwrap()["content"].clone()
}

#[tokio::test]
async fn an_image_goes_on_the_wire_as_an_image_url_part_after_the_text() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, VISION_MODEL);
    let mut attached = svc.attach_image("chart.png", png(64, 32)).await.unwrap();
    assert_eq!((attached.width, attached.height), (64, 32));
    assert!(attached.thumb.starts_with("data:image/png;base64,"));
    assert!(!attached.downscaled);
    attached.image.detail = Detail::High;
    let reply = svc
        .send(send(conv, "What is this?", vec![attached.image]), |_| {})
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Done, "{:?}", reply.error_message);
    assert_eq!(reply.content, "Saw 1 image(s): image/png 64x32 high");
    let content = last_user_content(&server);
    let parts = content.as_array().expect("content parts");
    assert_eq!(parts.len(), 2, "{content}");
    assert_eq!(
        parts[0],
        serde_json::json!({"type": "text", "text": "What is this?"})
    );
    assert_eq!(parts[1]["type"], "image_url");
    assert_eq!(parts[1]["image_url"]["detail"], "high");
    // The body matches the OpenAI reference, content parts included.
    let body = server.requests().pop().unwrap().body;
    crate::conformance::check(&body, "CreateChatCompletionRequest");
    // The thread shows the image with its thumbnail; a later turn sends it again (history).
    let thread = svc.thread(conv).unwrap();
    let user = &thread[0];
    assert_eq!(user.images.len(), 1);
    assert_eq!(user.images[0].image.image.name, "chart.png");
    assert!(user.images[0].thumb.starts_with("data:image/"));
    svc.send(send(conv, "And now?", vec![]), |_| {})
        .await
        .unwrap();
    let body = server.requests().pop().unwrap().body;
    let first = &body["messages"][0]["content"];
    assert_eq!(describe(&first[1]).unwrap(), "image/png 64x32 high");
    assert_eq!(body["messages"][2]["content"], "And now?");
}

#[tokio::test]
async fn a_large_image_is_downscaled_to_the_set_longest_edge_before_it_is_sent() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    assert_eq!(svc.image_max_edge().unwrap(), 2048);
    assert!(svc.set_image_max_edge(10).is_err());
    assert_eq!(svc.set_image_max_edge(300).unwrap().max_edge, 300);
    let conv = new_conversation(&svc, VISION_MODEL);
    let attached = svc.attach_image("wide.png", png(1200, 600)).await.unwrap();
    assert!(attached.downscaled);
    assert_eq!((attached.width, attached.height), (300, 150));
    let reply = svc
        .send(send(conv, "", vec![attached.image]), |_| {})
        .await
        .unwrap();
    assert_eq!(reply.content, "Saw 1 image(s): image/png 300x150 auto");
    // An image alone, no text: the content is only the image part.
    let content = last_user_content(&server);
    assert_eq!(content.as_array().unwrap().len(), 1, "{content}");
}

#[tokio::test]
async fn an_image_is_stored_once_across_resend_regenerate_and_edit() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, VISION_MODEL);
    let bytes = png(100, 80);
    let a = svc.attach_image("a.png", bytes.clone()).await.unwrap();
    let b = svc.attach_image("same-again.png", bytes).await.unwrap();
    assert_eq!(a.image.sha256, b.image.sha256);
    svc.send(send(conv, "one", vec![a.image.clone()]), |_| {})
        .await
        .unwrap();
    // Sent again in a new message, regenerated, and edited (the edit keeps the image).
    svc.send(send(conv, "two", vec![b.image.clone()]), |_| {})
        .await
        .unwrap();
    let user = svc.thread(conv).unwrap()[2].message.clone();
    svc.retry(
        RetryRequest {
            conversation_id: conv,
            user_message_id: user.id,
            ..Default::default()
        },
        |_| {},
    )
    .await
    .unwrap();
    let mut edit = send(conv, "two, edited", vec![]);
    edit.edit_of = Some(user.id);
    let reply = svc.send(edit, |_| {}).await.unwrap();
    assert_eq!(
        reply.content,
        "Saw 2 image(s): image/png 100x80 auto, image/png 100x80 auto"
    );
    assert_eq!(svc.stored_image_count().unwrap(), 1);
    let db = peek(dir.path());
    let (blobs, links, bytes): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM blobs), (SELECT count(*) FROM message_images),
                    (SELECT sum(length(bytes)) FROM blobs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((blobs, links), (1, 3));
    assert!(bytes > 0);
}

#[tokio::test]
async fn a_model_that_refuses_images_gets_an_error_naming_it_and_the_message_is_kept() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, TEXT_ONLY_MODEL);
    let a = svc.attach_image("photo.png", png(40, 40)).await.unwrap();
    let reply = svc
        .send(send(conv, "Describe it", vec![a.image]), |_| {})
        .await
        .unwrap();
    assert_eq!(reply.status, Status::Error);
    assert_eq!(reply.error_kind.as_deref(), Some("images_refused"));
    let msg = reply.error_message.unwrap();
    assert!(msg.contains(TEXT_ONLY_MODEL), "{msg}");
    assert!(msg.contains("kept"), "{msg}");
    let thread = svc.thread(conv).unwrap();
    assert_eq!(thread[0].message.content, "Describe it");
    assert_eq!(thread[0].images.len(), 1);
    // Text alone still works with that model.
    let ok = svc.send(send(conv, "hi", vec![]), |_| {}).await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn text_files_are_sent_as_fenced_blocks_with_their_names() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "test-model");
    let file = svc.attach_file("main.rs", b"fn main() {}\n").unwrap();
    let csv = svc
        .attach_file("data.csv", "a,b\n1,```\n".as_bytes())
        .unwrap();
    let req = SendRequest {
        conversation_id: conv,
        content: "Review these".into(),
        files: vec![file, csv],
        ..Default::default()
    };
    svc.send(req, |_| {}).await.unwrap();
    let sent = last_user_content(&server);
    assert_eq!(
        sent,
        "Review these\n\n```main.rs\nfn main() {}\n```\n\n````data.csv\na,b\n1,```\n````"
    );
    // The limits: binary, too big, too many.
    assert!(svc.attach_file("x.bin", &[0, 159, 146, 150]).is_err());
    let big = vec![b'x'; 600 * 1024];
    let e = svc.attach_file("big.log", &big).unwrap_err();
    assert!(
        e.to_string().contains("big.log") && e.to_string().contains("KiB"),
        "{e}"
    );
    let many = SendRequest {
        conversation_id: conv,
        content: "x".into(),
        files: vec![
            TextFile {
                name: "f".into(),
                text: "t".into()
            };
            11
        ],
        ..Default::default()
    };
    let before = svc.thread(conv).unwrap().len();
    let e = svc.send(many, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("10 attachments"), "{e}");
    // An image that was never stored is refused before anything is saved.
    let ghost = ImageRef {
        sha256: "0".repeat(64),
        name: "ghost.png".into(),
        detail: Detail::Auto,
    };
    let e = svc
        .send(send(conv, "x", vec![ghost]), |_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("ghost.png"), "{e}");
    assert_eq!(svc.thread(conv).unwrap().len(), before);
}

#[tokio::test]
async fn images_that_are_not_images_or_too_big_are_refused_clearly() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let e = svc
        .attach_image("evil.svg", b"<svg onload=alert(1)>".to_vec())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("PNG, JPEG, WebP or GIF"), "{e}");
    let e = svc
        .attach_image("huge.png", vec![0; 21 * 1024 * 1024])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("20 MB"), "{e}");
    assert_eq!(svc.stored_image_count().unwrap(), 0);
}

#[test]
fn ask_sends_images_and_files_given_by_repeatable_flags() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let files = tempdir();
    let img = files.path().join("one.png");
    std::fs::write(&img, png(50, 20)).unwrap();
    let img2 = files.path().join("two.png");
    std::fs::write(&img2, png(20, 50)).unwrap();
    let notes = files.path().join("notes.md");
    std::fs::write(&notes, "# Notes\n").unwrap();
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--model", VISION_MODEL, "--image"])
        .arg(&img)
        .arg("--image")
        .arg(&img2)
        .args(["--detail", "low", "--file"])
        .arg(&notes)
        .arg("look")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_succeeded(&out);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Saw 2 image(s): image/png 50x20 low, image/png 20x50 low"
    );
    let content = last_user_content(&server);
    assert_eq!(content[0]["text"], "look\n\n```notes.md\n# Notes\n```");
    // A missing file and a refusing model: clear errors, exit code not 0.
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--model", TEXT_ONLY_MODEL, "--image"])
        .arg(&img)
        .arg("look")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(TEXT_ONLY_MODEL) && err.contains("images"),
        "{err}"
    );
    let out = parley(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args([
            "ask",
            "--model",
            VISION_MODEL,
            "--file",
            "/nonexistent/x.txt",
            "hi",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("x.txt"));
}

#[tokio::test]
async fn exports_keep_the_images_and_an_import_brings_them_back() {
    use parley_core::api::{Format, Selection};
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, VISION_MODEL);
    let a = svc.attach_image("pic [1].png", png(30, 30)).await.unwrap();
    svc.send(send(conv, "one", vec![a.image.clone()]), |_| {})
        .await
        .unwrap();
    svc.send(send(conv, "two", vec![a.image.clone()]), |_| {})
        .await
        .unwrap();
    let mut md = Vec::new();
    svc.export_conversations_to(&Selection::Ids(vec![conv]), Format::Markdown, &mut md)
        .unwrap();
    let md = String::from_utf8(md).unwrap();
    assert_eq!(
        md.matches("![pic \\[1\\].png](data:image/png;base64,")
            .count(),
        2,
        "{md}"
    );
    let file = dir.path().join("export.json");
    svc.export_conversations(&Selection::Ids(vec![conv]), Format::Json, &file)
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let images = &json["conversations"][0]["images"];
    assert_eq!(
        images["blobs"].as_object().unwrap().len(),
        1,
        "stored once in the file too"
    );
    assert_eq!(images["messages"].as_object().unwrap().len(), 2);
    // Into a fresh database: the thread shows both images, stored once.
    let other = tempdir();
    let svc2 = service(other.path(), &server, None);
    svc2.import_conversations(&file, &mut |_| true).unwrap();
    let id = svc2.list_conversations().unwrap()[0].id;
    let thread = svc2.thread(id).unwrap();
    assert_eq!(thread[0].images.len(), 1);
    assert_eq!(thread[0].images[0].image.image.name, "pic [1].png");
    assert_eq!(thread[2].images.len(), 1);
    assert_eq!(svc2.stored_image_count().unwrap(), 1);
    // A later turn sends the imported image to the model.
    svc2.send(send(id, "again", vec![]), |_| {}).await.unwrap();
    let body = server.requests().pop().unwrap().body;
    assert_eq!(
        describe(&body["messages"][0]["content"][1]).unwrap(),
        "image/png 30x30 auto"
    );
}

/// On the Responses API an image goes as an `input_image` part beside an `input_text` one (it
/// was left out: the model never saw it).
#[tokio::test]
async fn an_image_goes_to_the_responses_api_as_an_input_image_part() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, VISION_MODEL);
    let mut s = svc.conversation(conv).unwrap().settings;
    s.endpoint = parley_core::api::EndpointKind::Responses;
    svc.update_conversation(conv, s).unwrap();
    let attached = svc.attach_image("chart.png", png(64, 32)).await.unwrap();
    svc.send(send(conv, "What is this?", vec![attached.image]), |_| {})
        .await
        .unwrap();
    let body = server.requests().pop().unwrap().body;
    crate::conformance::check(&body, "CreateResponse");
    let parts = body["input"][0]["content"]
        .as_array()
        .expect("content parts");
    assert_eq!(
        parts[0],
        serde_json::json!({"type": "input_text", "text": "What is this?"})
    );
    assert_eq!(parts[1]["type"], "input_image");
    assert!(parts[1]["image_url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
}
