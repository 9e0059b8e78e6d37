//! Rating reply quality (issue 4): human ratings, a blind arena round, and choices among replies,
//! on a real SQLite file against the local OpenAI-compatible server.

use parley_core::chat::arena::{ArenaEntry, ArenaRequest};
use parley_core::chat::{SendRequest, Target};
use parley_core::db::messages::Status;
use parley_core::eval::arena::{BattleFilter, Source, Winner};
use parley_core::eval::ratings::Rating;
use parley_core::eval::summary::{ExportFormat, RatingFilter};

use crate::common::{new_conversation, service, tempdir, Events};
use crate::fake_openai::FakeOpenAi;

fn entry(model: &str) -> ArenaEntry {
    ArenaEntry {
        model: model.into(),
        profile_id: None,
    }
}

#[tokio::test]
async fn an_arena_round_is_blind_until_the_vote() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let events = Events::default();
    let round = svc
        .arena_round(
            ArenaRequest {
                content: "which is better?".into(),
                pool: vec![entry("gpt-arena-one"), entry("gpt-arena-two")],
                stream_ids: vec!["left".into(), "right".into()],
            },
            events.sink(),
        )
        .await
        .unwrap();
    // Both answered; nothing the window receives names a model.
    assert_eq!(round.reply_a.status, Status::Done);
    assert_eq!(round.reply_b.status, Status::Done);
    let seen =
        serde_json::to_string(&events.all()).unwrap() + &serde_json::to_string(&round).unwrap();
    assert!(!seen.contains("gpt-arena"), "a model name leaked: {seen}");
    let thread = serde_json::to_string(&svc.thread(round.conversation_id).unwrap()).unwrap();
    assert!(
        !thread.contains("gpt-arena"),
        "the thread shows a model before the vote"
    );
    // Each side streamed under its own id (each can be stopped).
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let battle = svc.battle(round.battle_id).unwrap();
    assert_eq!(battle.reply_a, Some(round.reply_a.id));
    assert_eq!(battle.reply_b, Some(round.reply_b.id));
    assert_ne!(battle.model_a, battle.model_b);
    assert!(battle.winner.is_none());
    // A judge's verdict on a side before the vote names no model: not in the window's verdicts,
    // not in the ratings export.
    crate::common::peek(dir.path())
        .execute(
            "INSERT INTO judge_verdicts(kind, rubric_id, judge_model, message_id, score, reasoning, created_at)
             VALUES ('single', 1, 'judge-model', ?1, 8, 'solid', 1)",
            [round.reply_a.id],
        )
        .unwrap();
    let verdicts = svc
        .verdicts_of_messages(&[round.reply_a.id, round.reply_b.id])
        .unwrap();
    assert_eq!(verdicts.len(), 1);
    let export = svc
        .ratings_export(RatingFilter::default(), ExportFormat::Json)
        .await
        .unwrap()
        .0;
    for seen in [serde_json::to_string(&verdicts).unwrap(), export] {
        assert!(!seen.contains("gpt-arena"), "a model name leaked: {seen}");
    }

    let reveal = svc.arena_vote(round.battle_id, Winner::B).unwrap();
    assert_eq!(reveal.battle.winner, Some(Winner::B));
    assert!(reveal.battle.model_b.starts_with("gpt-arena"));
    // After the vote the names are shown, and B's reply is the conversation's branch.
    let thread = svc.thread(round.conversation_id).unwrap();
    let last = &thread.last().unwrap().message;
    assert_eq!(last.id, round.reply_b.id);
    assert_eq!(last.model.as_deref(), Some(reveal.battle.model_b.as_str()));
    let voted = svc.battles(&BattleFilter::default()).unwrap();
    assert_eq!(voted.len(), 1);
    // A pool of one model is refused before anything is saved.
    let err = svc
        .arena_round(
            ArenaRequest {
                content: "x".into(),
                pool: vec![entry("m"), entry(" m ")],
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "invalid");
    assert_eq!(svc.list_conversations().unwrap().len(), 1);
}

#[tokio::test]
async fn positions_are_random_across_rounds() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let mut first_on_left = 0;
    for _ in 0..12 {
        let round = svc
            .arena_round(
                ArenaRequest {
                    content: "hi".into(),
                    pool: vec![entry("gpt-left"), entry("gpt-right")],
                    ..Default::default()
                },
                |_| {},
            )
            .await
            .unwrap();
        let b = svc.battle(round.battle_id).unwrap();
        if b.model_a == "gpt-left" {
            first_on_left += 1;
        }
    }
    // Twelve fair coin flips all landing the same way: 1 in 2048.
    assert!((1..12).contains(&first_on_left), "{first_on_left}");
}

#[tokio::test]
async fn continuing_from_one_of_two_models_counts_as_its_win_and_ratings_keep_history() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let svc = service(dir.path(), &server, None);
    let conv = new_conversation(&svc, "gpt-x");
    let replies = svc
        .send_all(
            SendRequest {
                conversation_id: conv,
                content: "compare".into(),
                targets: vec![
                    Target::default(),
                    Target {
                        model: Some("gpt-y".into()),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    svc.choose_reply(replies[1].id).unwrap();
    let battles = svc
        .battles(&BattleFilter {
            source: Some(Source::Choice),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(battles.len(), 1);
    assert_eq!(
        (battles[0].model_a.as_str(), battles[0].model_b.as_str()),
        ("gpt-y", "gpt-x")
    );
    assert_eq!(battles[0].winner, Some(Winner::A));

    // Rate, change, read back with history; the thread carries the rating.
    let id = replies[1].id;
    svc.rate_reply(
        id,
        Rating {
            thumb: Some(1),
            score: Some(5),
            ..Default::default()
        },
    )
    .unwrap();
    let st = svc
        .rate_reply(
            id,
            Rating {
                thumb: Some(-1),
                score: Some(2),
                reasons: vec!["wrong".into()],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(st.history.len(), 1);
    assert_eq!(st.history[0].rating.score, Some(5));
    let thread = svc.thread(conv).unwrap();
    assert_eq!(
        thread.last().unwrap().rating.as_ref().unwrap().score,
        Some(2)
    );
    // A reference answer scores the reply: exact match, contains, token F1.
    let with_reference = |reference: &str| {
        svc.rate_reply(
            id,
            Rating {
                reference: reference.into(),
                ..Default::default()
            },
        )
        .unwrap()
    };
    let score = with_reference("echo COMPARE!").reference_score.unwrap();
    assert!(score.exact_match, "case and punctuation do not matter");
    assert_eq!(score.contains, Some(true));
    assert!((score.f1 - 1.0).abs() < 1e-12);
    let thread = svc.thread(conv).unwrap();
    let shown = thread.last().unwrap().reference_score.clone().unwrap();
    assert_eq!(shown, score);
    let partial = with_reference("compare the two").reference_score.unwrap();
    assert!(!partial.exact_match);
    assert_eq!(partial.contains, Some(false));
    // Reply tokens {echo, compare}, reference {compare, the, two}: overlap 1, P = 1/2, R = 1/3.
    assert!((partial.f1 - 0.4).abs() < 1e-12, "{partial:?}");
}
