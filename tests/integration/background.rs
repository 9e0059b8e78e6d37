//! Work in the background: the leaderboard's bootstrap runs outside the database lock and off the
//! async workers, so a streaming reply keeps checkpointing meanwhile; judge runs are registered
//! like replies, so they stop by id and closing the app waits for them.

use std::sync::Arc;

use parley_core::chat::{JudgeTarget, SendRequest};
use parley_core::eval::arena::BattleFilter;
use parley_core::eval::stats::LeaderboardOptions;

use crate::common::{new_conversation, peek, service, tempdir};
use crate::fake_openai::FakeOpenAi;
use crate::judge::{seed, LONG, QUESTION, SHORT};

const MODELS: [&str; 8] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"];

/// `n` voted arena battles among eight models, written through the test's own connection.
fn seed_battles(dir: &std::path::Path, n: usize) {
    let mut conn = peek(dir);
    let tx = conn.transaction().unwrap();
    for i in 0..n {
        let (a, b) = (i % 8, (i / 8 + i + 1) % 8);
        let b = if a == b { (b + 1) % 8 } else { b };
        // The better-numbered model wins two times in three; some ties and both-bad.
        let winner = match i % 6 {
            0..=2 if a > b => "a",
            0..=2 => "b",
            3 => "tie",
            4 => "bad",
            _ if a > b => "b",
            _ => "a",
        };
        tx.execute(
            "INSERT INTO battles(source, model_a, model_b, winner, created_at, voted_at)
             VALUES ('arena', ?1, ?2, ?3, ?4, ?4)",
            rusqlite::params![MODELS[a], MODELS[b], winner, i as i64],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// The reply's text as saved so far (its row and the checkpointed pieces after it), read from
/// another connection.
fn saved_text(conn: &rusqlite::Connection, id: i64) -> String {
    conn.query_row(
        "SELECT content || coalesce((SELECT group_concat(text, '' ORDER BY seq)
             FROM reply_chunks WHERE message_id = ?1), '')
         FROM messages WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_keeps_streaming_and_checkpointing_while_a_big_leaderboard_is_computed() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, None));
    seed_battles(dir.path(), 10_000);
    // test-slow streams ~200 words, one every 50 ms: checkpoints land every 750 ms meanwhile.
    let conv = new_conversation(&svc, "test-slow");
    let (started_tx, mut started_rx) = tokio::sync::mpsc::unbounded_channel();
    let reply = tokio::spawn({
        let svc = svc.clone();
        async move {
            let request = SendRequest {
                conversation_id: conv,
                content: "tell me a long story".into(),
                ..Default::default()
            };
            svc.send(request, move |e| {
                if let parley_core::chat::ChatEvent::Started {
                    assistant_message_id,
                    ..
                } = e
                {
                    let _ = started_tx.send(assistant_message_id);
                }
            })
            .await
        }
    });
    let reply_id = started_rx.recv().await.expect("the reply started");
    let leaderboard = || {
        let svc = svc.clone();
        tokio::spawn(async move {
            let options = LeaderboardOptions {
                bootstrap_rounds: 1000,
                ..Default::default()
            };
            svc.leaderboard(BattleFilter::default(), options).await
        })
    };
    // Watch the saved text from another connection while a leaderboard is being computed (a new
    // one is started whenever the last one is done, until two checkpoints were seen meanwhile).
    let conn = peek(dir.path());
    let mut board = leaderboard();
    let mut boards = Vec::new();
    let mut seen_while_pending: Vec<String> = Vec::new();
    let mut last = String::new();
    while seen_while_pending.len() < 2 && !reply.is_finished() {
        let text = saved_text(&conn, reply_id);
        if text != last && !text.is_empty() && !board.is_finished() {
            seen_while_pending.push(text.clone());
        }
        last = text;
        if board.is_finished() {
            boards.push(board.await.unwrap().unwrap());
            board = leaderboard();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    boards.push(board.await.unwrap().unwrap());
    assert!(
        seen_while_pending.len() >= 2,
        "checkpoints landed while the leaderboard was computed: {seen_while_pending:?}"
    );
    assert!(seen_while_pending[0].starts_with("Echo: tell me a long story"));
    assert!(seen_while_pending[1].len() > seen_while_pending[0].len());
    for board in &boards {
        assert_eq!(board.total_battles, 10_000);
        assert_eq!(board.rows.len(), 8);
        assert!(board.rows.iter().all(|r| r.ci_low.is_some()));
    }
    let reply = reply.await.unwrap().unwrap();
    assert_eq!(reply.status, parley_core::api::Status::Done);
    assert!(reply.content.starts_with(&seen_while_pending[1]));
}

/// A judge whose model never answers (the fake server's `test-hang`), under a run id.
fn hanging_judge(run_id: &str) -> JudgeTarget {
    JudgeTarget {
        profile_id: None,
        model: Some("test-hang".into()),
        run_id: Some(run_id.into()),
    }
}

/// Waits until the fake server has received `n` requests (the run is registered by then).
async fn until_requests(server: &FakeOpenAi, n: usize) {
    while server.request_count() < n {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_run_stops_by_its_id_and_stores_nothing() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, Some("sk-j")));
    let (_, ids) = seed(dir.path(), QUESTION, &[("m1", SHORT), ("m2", LONG)]);
    let batch = tokio::spawn({
        let (svc, ids) = (svc.clone(), ids.clone());
        async move {
            svc.judge_replies(&ids, None, &hanging_judge("judge-1"))
                .await
        }
    });
    until_requests(&server, 2).await;
    assert!(svc.cancel("judge-1"), "the run is registered while it runs");
    let results = batch.await.unwrap().unwrap();
    assert_eq!(results.len(), 2);
    for (_, r) in results {
        assert_eq!(r.unwrap_err().kind(), "cancelled");
    }
    assert!(!svc.cancel("judge-1"), "the run is gone once it ended");
    for id in ids {
        assert!(svc.verdicts_of(id).unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_app_stops_a_judge_run_and_waits_for_it() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = Arc::new(service(dir.path(), &server, Some("sk-j")));
    let (_, ids) = seed(dir.path(), QUESTION, &[("m1", SHORT), ("m2", LONG)]);
    let (a, b) = (ids[0], ids[1]);
    let pair = tokio::spawn({
        let svc = svc.clone();
        async move { svc.judge_pair(a, b, None, &hanging_judge("judge-2")).await }
    });
    // Both orders are asked at once.
    until_requests(&server, 2).await;
    let closing = svc.clone();
    let stopped =
        tokio::task::spawn_blocking(move || closing.stop_all(std::time::Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(stopped, 1);
    assert!(
        !svc.cancel("judge-2"),
        "stop_all returned only after the run had ended"
    );
    assert_eq!(pair.await.unwrap().unwrap_err().kind(), "cancelled");
    assert!(svc.verdicts_of(ids[0]).unwrap().is_empty());
}
