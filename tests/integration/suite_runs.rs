//! Suite runs as the window shows them (issue 13): a run's grid and summaries, a cell opened as a
//! real reply that is rated and judged like any other (made once, reused), and two runs of the
//! same suite compared cell by cell — against the fake server, on a real SQLite file.

use std::path::{Path, PathBuf};

use parley_core::chat::ChatService;
use parley_core::chat::JudgeTarget;
use parley_core::eval::ratings::Rating;
use parley_core::eval::suite::config;
use parley_core::eval::suite::report::Delta;
use parley_core::eval::suite::runner::RunOptions;
use tokio_util::sync::CancellationToken;

use crate::common::{peek, service, tempdir};
use crate::fake_openai::FakeOpenAi;

/// A two-case, two-provider suite; `second` changes the assertions (the labels stay), so that
/// "bob" goes from fail to pass and "ann" from pass to fail.
pub(crate) fn suite_yaml(second: bool) -> String {
    let (ann, bob) = if second {
        ("Nobody", "Bob")
    } else {
        ("Ann", "Zed")
    };
    format!(
        "description: greetings\n\
         prompts: ['Say hi to {{{{name}}}}']\n\
         providers: [openai:chat:suite-wait-0, openai:chat:suite-wait-1]\n\
         tests:\n\
         \x20 - description: ann\n\
         \x20   vars: {{name: Ann}}\n\
         \x20   assert: [{{type: contains, value: '{ann}'}}]\n\
         \x20 - description: bob\n\
         \x20   vars: {{name: Bob}}\n\
         \x20   assert: [{{type: contains, value: '{bob}'}}]\n"
    )
}

fn write_suite(dir: &Path, second: bool) -> PathBuf {
    let path = dir.join(if second { "b.yaml" } else { "a.yaml" });
    std::fs::write(&path, suite_yaml(second)).unwrap();
    path
}

async fn run(svc: &ChatService, path: &Path) -> i64 {
    let suite = config::load(path).unwrap().suite;
    let opts = RunOptions {
        concurrency: 2,
        use_cache: false,
        filter: None,
        config_path: Some(path.display().to_string()),
    };
    svc.run_suite(&suite, &opts, &CancellationToken::new(), &mut |_| {})
        .await
        .unwrap()
        .run_id
}

#[tokio::test]
async fn a_run_shows_as_a_grid_of_tests_by_prompt_and_provider_with_summaries() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some("sk-s"));
    let id = run(&svc, &write_suite(dir.path(), false)).await;
    let grid = svc.suite_run_grid(id).unwrap();
    assert_eq!(grid.tests, ["ann", "bob"]);
    assert_eq!(grid.columns.len(), 2);
    assert_eq!(grid.columns[1].provider_label, "openai:chat:suite-wait-1");
    assert_eq!(grid.cells.len(), 4);
    let bob = grid.cells.iter().find(|c| c.test == 1).unwrap();
    assert!(!bob.pass);
    assert_eq!(bob.excerpt, "Echo: Say hi to Bob");
    assert_eq!(bob.failed.len(), 1);
    assert!(bob.prompt_tokens.is_some() && bob.latency_ms.is_some());
    assert_eq!(grid.summaries.len(), 2);
    for s in &grid.summaries {
        assert_eq!((s.cells, s.passed), (2, 1));
        assert_eq!(s.accuracy, Some(0.5));
        assert!(s.diversity.is_some());
        assert_eq!(s.fluency, None, "nothing judged yet");
    }
}

#[tokio::test]
async fn a_cell_opens_once_as_an_archived_reply_that_is_rated_and_judged() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some("sk-s"));
    let id = run(&svc, &write_suite(dir.path(), false)).await;

    let at = svc.suite_cell_reply(id, 0, 0, 1).unwrap();
    assert_eq!(svc.suite_cell_reply(id, 0, 0, 1).unwrap(), at, "reused");
    let other = svc.suite_cell_reply(id, 0, 1, 1).unwrap();
    assert_ne!(other.conversation_id, at.conversation_id);

    // The rendered prompt as the user message, the output as the reply, hidden from the list.
    let c = peek(dir.path());
    let (role, content): (String, String) = c
        .query_row(
            "SELECT role, content FROM messages WHERE conversation_id = ?1 AND parent_id IS NULL",
            [at.conversation_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((role.as_str(), content.as_str()), ("user", "Say hi to Bob"));
    let (reply, model, status): (String, String, String) = c
        .query_row(
            "SELECT content, model, status FROM messages WHERE id = ?1",
            [at.message_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (reply.as_str(), model.as_str(), status.as_str()),
        ("Echo: Say hi to Bob", "suite-wait-0", "done")
    );
    let archived: bool = c
        .query_row(
            "SELECT archived FROM conversations WHERE id = ?1",
            [at.conversation_id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(archived, "kept out of the sidebar's list");

    // Rated like any reply.
    let rating = Rating {
        thumb: Some(-1),
        score: Some(2),
        reasons: vec!["Wrong".into()],
        ..Default::default()
    };
    svc.rate_reply(at.message_id, rating).unwrap();
    let state = svc.rating(at.message_id).unwrap();
    let stored = state.rating.unwrap();
    assert_eq!((stored.thumb, stored.score), (Some(-1), Some(2)));

    // Judged like any reply: the summary's fluency is the judge's grade.
    let judge = JudgeTarget {
        profile_id: None,
        model: Some("test-judge".into()),
        run_id: None,
    };
    let v = svc.judge_single(at.message_id, None, &judge).await.unwrap();
    let grade = v.score.unwrap();
    let grid = svc.suite_run_grid(id).unwrap();
    assert_eq!(grid.summaries[0].fluency, Some(grade as f64 / 10.0));
    assert_eq!(grid.summaries[1].fluency, None);

    // A deleted conversation is not reused: opening the cell again makes a new reply.
    svc.delete_conversation(at.conversation_id).unwrap();
    let again = svc.suite_cell_reply(id, 0, 0, 1).unwrap();
    assert_ne!(again.conversation_id, at.conversation_id);
}

#[tokio::test]
async fn two_runs_of_a_suite_compare_cell_by_cell() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, Some("sk-s"));
    let a = run(&svc, &write_suite(dir.path(), false)).await;
    let b = run(&svc, &write_suite(dir.path(), true)).await;

    let like: Vec<i64> = svc
        .suite_runs_like(b)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(like, [a]);

    let cmp = svc.suite_compare(a, b).unwrap();
    let k = &cmp.comparison;
    assert_eq!(
        (
            k.fixed.len(),
            k.broken.len(),
            k.better.len(),
            k.worse.len(),
            k.unchanged
        ),
        (2, 2, 0, 0, 0)
    );
    assert_eq!(cmp.cells.len(), 4);
    for c in &cmp.cells {
        let expected = if c.test == 1 {
            Delta::Fixed
        } else {
            Delta::Broken
        };
        assert_eq!(c.delta, expected, "{c:?}");
    }
    // The same run against itself: nothing changed.
    let same = svc.suite_compare(a, a).unwrap();
    assert_eq!(same.comparison.unchanged, 4);
    assert!(same.cells.iter().all(|c| c.delta == Delta::Unchanged));
}
