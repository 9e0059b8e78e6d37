//! The judge's throughput: single and pairwise batches against the local test server, at full
//! speed and at a remote model's pace.

use std::time::{Duration, Instant};

use parley_core::openai::types::ChatMessage;

use crate::fake_openai::FakeOpenAi;
use crate::{stats, time};

/// The LLM judge against the local server: 100 replies graded one at a time and 4 at a time,
/// 50 pairs (100 requests: both orders), and the local cost of building a prompt and parsing.
pub fn judge_throughput() {
    use parley_core::chat::{EnvFallback, JudgeTarget};
    use parley_core::eval::judge;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = FakeOpenAi::start();
    let data = tempfile::tempdir().unwrap();
    let env = EnvFallback {
        api_key: Some(parley_core::secrets::ApiKey::new("sk-bench").unwrap()),
        base_url: Some(server.base_url()),
    };
    let (svc, _) = parley_core::open_service(
        data.path(),
        std::sync::Arc::new(parley_core::secrets::MemoryStore::default()),
        env,
    )
    .unwrap();
    // 50 questions with 2 replies each (200 to 2,000 characters).
    let c = rusqlite::Connection::open(data.path().join(parley_core::db::DB_FILE)).unwrap();
    let seeded: rusqlite::Result<Vec<i64>> = (|| {
        let conv = svc.create_conversation(None).unwrap().id;
        let mut ids = Vec::new();
        for q in 0..50 {
            c.execute(
                "INSERT INTO messages(conversation_id, role, content, status, created_at)
                     VALUES (?1, 'user', ?2, 'done', 0)",
                rusqlite::params![conv, format!("Question {q}: explain something.")],
            )?;
            let qid = c.last_insert_rowid();
            for r in 0..2 {
                let text = "A sentence of the answer. ".repeat(8 + (q * 7 + r * 31) % 70);
                c.execute(
                        "INSERT INTO messages(conversation_id, parent_id, role, content, status, model, created_at)
                         VALUES (?1, ?2, 'assistant', ?3, 'done', 'm', 0)",
                        rusqlite::params![conv, qid, text],
                    )?;
                ids.push(c.last_insert_rowid());
            }
        }
        Ok(ids)
    })();
    let ids = seeded.unwrap();
    let (target, slow) = (
        JudgeTarget {
            profile_id: None,
            model: Some("test-judge".into()),
            run_id: None,
        },
        JudgeTarget {
            profile_id: None,
            model: Some("test-judge-slow".into()),
            run_id: None,
        },
    );
    let (_, ep, client) = rt.block_on(svc.endpoint_for(None, None)).unwrap();
    let req = parley_core::openai::types::Request::Chat(
        parley_core::openai::types::ChatRequest::streaming(
            "test-model",
            vec![ChatMessage {
                role: "user".into(),
                content: "hi".into(),
                ..Default::default()
            }],
        ),
    );
    let raw = time(20, || {
        rt.block_on(client.stream(&ep, &req, &Default::default(), &mut |_| {}))
            .unwrap();
    });
    println!("LLM judge against the local server, 100 replies");
    println!("  one bare request (no judge)  {}", stats(raw));
    let t = Instant::now();
    rt.block_on(async {
        for &id in &ids {
            let v = svc.judge_single(id, None, &target).await.unwrap();
            assert!(v.score.is_some());
        }
    });
    let seq = t.elapsed();
    let t = Instant::now();
    let results = rt.block_on(svc.judge_replies(&ids, None, &target)).unwrap();
    let conc = t.elapsed();
    assert!(results
        .iter()
        .all(|(_, r)| r.as_ref().unwrap().score.is_some()));
    let pairs: Vec<(i64, i64)> = ids.chunks(2).map(|p| (p[0], p[1])).collect();
    let t = Instant::now();
    let results = rt.block_on(svc.judge_pairs(&pairs, None, &target)).unwrap();
    let pair_time = t.elapsed();
    assert!(results
        .iter()
        .all(|(_, r)| r.as_ref().unwrap().consistent == Some(true)));
    // A judge at the pace of a remote model (about 5 tokens of verdict at 20 ms each).
    let t = Instant::now();
    rt.block_on(async {
        for &id in &ids {
            svc.judge_single(id, None, &slow).await.unwrap();
        }
    });
    let slow_seq = t.elapsed();
    let t = Instant::now();
    rt.block_on(svc.judge_replies(&ids, None, &slow)).unwrap();
    let slow_conc = t.elapsed();
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let line = |label: &str, n: usize, d: Duration, unit: &str| {
        println!(
            "  {label:<34} {:8.1} ms total  {:6.1} {unit}/s",
            d.as_secs_f64() * 1000.0,
            rate(n, d)
        )
    };
    line("test-judge, one at a time", 100, seq, "verdicts");
    line("test-judge, 4 at a time", 100, conc, "verdicts");
    line("test-judge, 50 pairs (both orders)", 50, pair_time, "pairs");
    line("test-judge-slow, one at a time", 100, slow_seq, "verdicts");
    line("test-judge-slow, 4 at a time", 100, slow_conc, "verdicts");
    let reply = "A sentence of the answer. ".repeat(80);
    let ctx = judge::Context {
        question: "Question: explain something.".into(),
        ..Default::default()
    };
    let local = time(1000, || {
        let p = judge::single_prompt("rubric", &ctx, &reply);
        assert!(p[1].content.len() > reply.len());
        judge::parse_single("```json\n{\"score\": 7, \"reasoning\": \"fine\"}\n```").unwrap();
    });
    println!(
        "  build prompt (2 KB reply) + parse verdict {}",
        stats(local)
    );
}
