//! Probing 127.0.0.1 for local servers: only those that answer with a model list are offered, and
//! one that never answers ends with the timeout.

use std::io::{Read, Write};
use std::time::Duration;

use parley_core::api::{ProfileKind, Status};
use parley_core::chat::ProfileUpdate;
use parley_core::openai::probe::{self, Candidate};

use crate::common::tempdir;
use crate::fake_openai::{FakeOpenAi, MODELS};
use crate::providers::{conversation, send, service};

/// A port where something answers, but not with an OpenAI model list.
fn html_server() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        // Answers the one probe request, then ends.
        if let Ok((mut conn, _)) = listener.accept() {
            conn.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut buf = [0u8; 2048];
            let _ = conn.read(&mut buf);
            let body = "<html><body>Not an API</body></html>";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (port, handle)
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn probing_offers_only_the_servers_that_answer_with_a_model_list() {
    let server = FakeOpenAi::start();
    let port = server
        .base_url()
        .trim_end_matches("/v1")
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let (html, html_thread) = html_server();
    let closed = closed_port();
    let candidates = [
        Candidate::new("Closed", closed),
        Candidate::new("Fake", port),
        Candidate::new("Html", html),
    ];
    let found = probe::probe(&candidates, probe::PROBE_TIMEOUT)
        .await
        .unwrap();
    html_thread.join().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].name, "Fake");
    assert_eq!(found[0].base_url, server.base_url());
    // In the server's own order (its first model becomes a new profile's default), not sorted.
    let models: Vec<String> = MODELS.iter().map(|m| m.to_string()).collect();
    assert_eq!(found[0].models, models);
    // No key is sent while probing.
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("authorization").is_none()));

    // A found server becomes a keyless profile that works.
    let dir = tempdir();
    let (svc, _) = service(dir.path());
    let p = svc
        .create_profile(ProfileUpdate {
            name: Some(found[0].name.clone()),
            kind: Some(ProfileKind::Compatible),
            base_url: Some(found[0].base_url.clone()),
            default_model: Some("test-model".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!p.has_key);
    let conv = conversation(&svc, Some(p.id));
    let (r, _) = send(&svc, conv, "local").await;
    assert_eq!(r.status, Status::Done);
}

#[tokio::test]
async fn probing_a_server_that_never_answers_ends_with_the_timeout() {
    // Accepts connections but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let found = probe::probe(
        &[Candidate::new("Silent", port)],
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert!(found.is_empty());
    drop(listener);
}

/// A process on this machine answering the probe with an endless body: the probe stops reading
/// past its 1 MiB limit (it buffered everything the timeout let through before judging the size).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_to_the_probe_is_read_only_up_to_its_limit() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let writer = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_write_timeout(Some(Duration::from_secs(5))).ok();
        let mut buf = [0u8; 2048];
        let _ = conn.read(&mut buf);
        let _ = write!(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{{\"data\": [\"");
        let piece = vec![b'z'; 64 * 1024];
        let mut sent = 0usize;
        // Until the probe hangs up (or 1 GiB: the probe read it all).
        while sent < 1 << 30 && conn.write_all(&piece).is_ok() {
            sent += piece.len();
        }
        sent
    });
    let found = probe::probe(&[Candidate::new("Endless", port)], Duration::from_secs(10))
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    // Joined off the runtime: the connection's task must run to hang up.
    let sent = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    // The limit, plus what the sockets' buffers hold.
    assert!(
        sent < 64 << 20,
        "{} MiB written before the probe hung up",
        sent >> 20
    );
}
