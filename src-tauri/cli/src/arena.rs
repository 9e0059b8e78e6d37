//! `parley arena`: one blind round between two models of a pool, voted on stdin.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use parley_core::api::Status;
use parley_core::error::Result;

use crate::service;

/// `parley arena`: prints reply A and reply B (no names), reads the vote, reveals the models.
/// `parley arena --pool A,B PROMPT`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Models, comma separated (at least two); model@Profile asks another profile.
    #[arg(long, value_delimiter = ',', required = true)]
    pool: Vec<String>,
    /// The prompt.
    prompt: String,
}

pub async fn run(args: Args) -> Result<i32> {
    let Args { pool, prompt } = args;
    use parley_core::chat::arena::{ArenaEntry, ArenaRequest};
    use parley_core::eval::arena::Winner;
    let service = Arc::new(service()?);
    let mut entries = Vec::new();
    for item in pool.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        // model@Profile when Profile names a profile; otherwise the whole text is the model.
        let named = item.rsplit_once('@').and_then(|(model, profile)| {
            let id = service.profile_id_by_name(Some(profile.trim())).ok()??;
            Some((model.trim().to_string(), id))
        });
        entries.push(match named {
            Some((model, id)) => ArenaEntry {
                model,
                profile_id: Some(id),
            },
            None => ArenaEntry {
                model: item.to_string(),
                profile_id: None,
            },
        });
    }
    let ids = [
        format!("arena-a-{}", std::process::id()),
        format!("arena-b-{}", std::process::id()),
    ];
    let stopper = service.clone();
    let to_stop = ids.clone();
    // Ctrl+C stops the answers; once none is left to stop (at the vote), or pressed again, it
    // quits: the round stays unvoted (it was swallowed and the prompt waited on).
    tokio::spawn(async move {
        let mut stopping = false;
        while tokio::signal::ctrl_c().await.is_ok() {
            // Every stream is asked (no short cut): both answers stop.
            let mut live = false;
            for id in &to_stop {
                live |= stopper.cancel(id);
            }
            if stopping || !live {
                errln!();
                errln!("parley: interrupted; the round is kept unvoted");
                std::process::exit(130);
            }
            stopping = true;
        }
    });
    errln!("parley: two models are answering…");
    let round = service
        .arena_round(
            ArenaRequest {
                content: prompt,
                pool: entries,
                stream_ids: ids.to_vec(),
            },
            |_| {},
        )
        .await?;
    let mut out = std::io::stdout().lock();
    for (side, reply) in [("A", &round.reply_a), ("B", &round.reply_b)] {
        let note = match reply.status {
            Status::Done => String::new(),
            Status::Cancelled => " (stopped)".into(),
            _ => format!(
                " (failed: {})",
                reply.error_message.clone().unwrap_or_default()
            ),
        };
        let _ = woutln!(out, "=== {side}{note} ===\n{}\n", reply.content.trim_end());
    }
    let _ = out.flush();
    drop(out);
    let interactive = std::io::stdin().is_terminal();
    let winner = loop {
        errp!("Your vote (a, b, tie, bad): ");
        // Read off the runtime's one thread, so Ctrl+C is still heard while it waits.
        let (n, line) = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|n| (n, line))
        })
        .await
        .map_err(|e| parley_core::error::Error::invalid(format!("reading the vote: {e}")))??;
        if n == 0 {
            errln!();
            errln!(
                "parley: no vote; the round is kept unvoted (conversation {})",
                round.conversation_id
            );
            return Ok(1);
        }
        match Winner::parse(&line).and_then(|w| match w.is_vote() {
            true => Ok(w),
            false => Err(parley_core::error::Error::invalid(
                "A vote is a, b, tie or bad.",
            )),
        }) {
            Ok(w) => break w,
            Err(e) if interactive => errln!("parley: {e}"),
            Err(e) => return Err(e),
        }
    };
    let reveal = service.arena_vote(round.battle_id, winner)?;
    outln!(
        "A was {} · B was {}",
        reveal.battle.model_a,
        reveal.battle.model_b
    );
    Ok(0)
}
