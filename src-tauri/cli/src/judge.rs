//! `parley judge`: an LLM grades replies, alone (1–10) or in pairs (both orders).

use std::io::Write;

use parley_core::api::Verdict;
use parley_core::chat::JudgeTarget;
use parley_core::error::Result;

use crate::{one_line, service};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Reply ids (as `parley ask` and the app show them).
    #[arg(
        required_unless_present = "conversation",
        conflicts_with = "conversation"
    )]
    ids: Vec<i64>,
    /// Every finished reply of this conversation, all branches.
    #[arg(long)]
    conversation: Option<i64>,
    /// The judge's model (default: the judge profile's default model).
    #[arg(long)]
    judge_model: Option<String>,
    /// The judge's profile (default: the default profile).
    #[arg(long)]
    judge_profile: Option<String>,
    /// The rubric's name (its latest version; default: "default", or "default-pairwise").
    #[arg(long)]
    rubric: Option<String>,
    /// Compare replies in pairs: every two of the given replies (or of the conversation's) that
    /// answer the same message, i.e. siblings. Replies without a sibling are skipped with a note.
    #[arg(long)]
    pairwise: bool,
    /// Print the verdicts as a JSON array instead of lines.
    #[arg(long)]
    json: bool,
}

/// One verdict as one line: `ID\tMODEL\tRESULT\tCONSISTENCY\tREASONING` (pairs: `A vs B`).
pub fn verdict_line(v: &Verdict) -> String {
    let model = |m: &Option<String>| m.clone().unwrap_or_else(|| "?".into());
    let (ids, models) = match v.other_message_id {
        Some(other) => (
            format!("{} vs {other}", v.message_id),
            format!("{} vs {}", model(&v.reply_model), model(&v.other_model)),
        ),
        None => (v.message_id.to_string(), model(&v.reply_model)),
    };
    if let Some(e) = &v.error {
        return format!("{ids}\t{models}\terror\t-\t{}", one_line(e, 160));
    }
    let result = match (v.score, v.winner.map(|w| w.as_str()), v.other_message_id) {
        (Some(s), _, _) => format!("score {s}/10"),
        (_, Some("a"), _) => format!("winner {}", v.message_id),
        (_, Some("b"), Some(other)) => format!("winner {other}"),
        (_, Some(w), _) => w.to_string(),
        _ => "-".into(),
    };
    let consistency = match v.consistent {
        Some(true) => "consistent",
        Some(false) => "inconsistent (A/B and B/A disagree)",
        None => "-",
    };
    format!(
        "{ids}\t{models}\t{result}\t{consistency}\t{}",
        one_line(v.reasoning.as_deref().unwrap_or(""), 100)
    )
}

pub async fn run(args: Args) -> Result<i32> {
    let service = std::sync::Arc::new(service()?);
    let run_id = format!("cli-judge-{}", std::process::id());
    let target = JudgeTarget {
        profile_id: service.profile_id_by_name(args.judge_profile.as_deref())?,
        model: args.judge_model.clone(),
        run_id: Some(run_id.clone()),
    };
    // Ctrl+C stops the batch (verdicts already stored stay); a second one quits at once.
    crate::ask::stop_on_ctrl_c(service.clone(), run_id);
    let rubric_id = match &args.rubric {
        Some(name) => Some(service.rubric_by_name(name)?.id),
        None => None,
    };
    let ids = match args.conversation {
        Some(c) => service.replies_of_conversation(c)?,
        None => args.ids.clone(),
    };
    if ids.is_empty() {
        errln!("parley: no finished replies to judge");
        return Ok(1);
    }
    let mut verdicts = Vec::new();
    let mut failures = 0;
    let mut report = |label: String, r: Result<Verdict>| match r {
        Ok(v) => {
            failures += usize::from(v.error.is_some());
            verdicts.push(v);
        }
        Err(e) => {
            failures += 1;
            errln!("parley: {label}: {e}");
        }
    };
    if args.pairwise {
        let (pairs, alone) = service.sibling_pairs(&ids)?;
        for id in alone {
            errln!("parley: reply {id} has no sibling among these replies; not compared");
        }
        for ((a, b), r) in service.judge_pairs(&pairs, rubric_id, &target).await? {
            report(format!("{a} vs {b}"), r);
        }
    } else {
        for (id, r) in service.judge_replies(&ids, rubric_id, &target).await? {
            report(format!("reply {id}"), r);
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let _ = woutln!(
            out,
            "{}",
            serde_json::to_string_pretty(&verdicts).unwrap_or_default()
        );
    } else {
        for v in &verdicts {
            let _ = woutln!(out, "{}", verdict_line(v));
        }
    }
    let _ = out.flush();
    Ok(if failures > 0 { 1 } else { 0 })
}
