//! Suite runs in the window: a run's grid, two runs compared, the runs a run can be compared with,
//! and a cell opened as a real reply (a conversation with the rendered prompt and the output,
//! archived so it stays out of the sidebar's list, linked from the cell so opening it again
//! reuses it) that the rating machinery (thumbs, stars, reasons, judge) works on.

use std::path::Path;

use serde::Serialize;

use super::ChatService;
use crate::db::conversations::{self, ConversationSettings};
use crate::db::messages::{self, Outcome, ReplyOrigin, Status};
use crate::db::organise::{self, Change};
use crate::db::suite_replies::{self, CellKey};
use crate::db::suites::{self, ResultRow, RunRow};
use crate::error::{Error, Result};
use crate::eval::suite::grid::{self, CompareGrid, RunGrid};
use crate::eval::suite::{cell, config, report, template, Api, Suite};
use crate::openai::types::Request;
use crate::params::EndpointKind;

/// Runs offered for comparison with one run, at most.
pub const MAX_COMPARABLE: i64 = 200;

/// Where a cell's reply lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CellReply {
    pub conversation_id: i64,
    pub message_id: i64,
}

/// What a cell's conversation is made of.
struct Rendered {
    system: String,
    /// (role, content), in order; the last is answered by the cell's output.
    turns: Vec<(String, String)>,
    model: String,
    endpoint: EndpointKind,
}

/// The cell's request as it was sent, rebuilt from the run's suite file (matched by labels);
/// None when the file is gone or no longer has that prompt, provider or test.
fn rebuild(run: &RunRow, prompt: usize, provider: usize, test: usize) -> Option<Rendered> {
    let suite: Suite = config::load(Path::new(run.config_path.as_deref()?))
        .ok()?
        .suite;
    let p = suite
        .prompts
        .iter()
        .find(|p| Some(&p.label) == run.grid.prompts.get(prompt))?;
    let v = suite
        .providers
        .iter()
        .find(|v| Some(&v.label) == run.grid.providers.get(provider))?;
    let t = suite
        .tests
        .iter()
        .enumerate()
        .find(|(i, t)| Some(&t.name(*i)) == run.grid.tests.get(test))?
        .1;
    let (mut system, mut turns) = (String::new(), Vec::new());
    match cell::request(p, v, t).ok()? {
        Request::Chat(r) => {
            for m in r.messages {
                if m.role == "system" {
                    system = if system.is_empty() {
                        m.content
                    } else {
                        format!("{system}\n\n{}", m.content)
                    };
                } else {
                    turns.push((m.role, m.content));
                }
            }
        }
        Request::Completion(r) => turns.push(("user".into(), r.prompt)),
        Request::Responses(_) => return None,
    }
    Some(Rendered {
        system,
        turns,
        model: v.model.clone(),
        endpoint: match v.api {
            Api::Chat => EndpointKind::Chat,
            Api::Completion => EndpointKind::Completions,
        },
    })
}

/// Without the suite file: the prompt's and the test's labels stand for the question.
fn fallback(run: &RunRow, prompt: usize, provider: usize, test: usize) -> Rendered {
    let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
    Rendered {
        system: String::new(),
        turns: vec![(
            "user".into(),
            format!(
                "{}\n\n{}",
                at(&run.grid.prompts, prompt),
                at(&run.grid.tests, test)
            ),
        )],
        model: at(&run.grid.providers, provider),
        endpoint: EndpointKind::Chat,
    }
}

fn materialise(
    c: &mut rusqlite::Connection,
    run: &RunRow,
    key: CellKey,
    row: &ResultRow,
    r: Rendered,
) -> Result<CellReply> {
    let settings = ConversationSettings {
        system_prompt: r.system,
        model: Some(r.model.clone()),
        endpoint: r.endpoint,
        ..Default::default()
    };
    let conv = conversations::create(c, Some(settings))?;
    let mut parent: Option<messages::Message> = None;
    let last = r.turns.len().saturating_sub(1);
    for (i, (role, content)) in r.turns.iter().enumerate() {
        let pid = parent.as_ref().map(|m| m.id);
        let answered_later = role == "assistant" && i < last;
        parent = Some(match (answered_later, &parent) {
            (true, Some(u)) => {
                let origin = ReplyOrigin {
                    model: r.model.clone(),
                    ..Default::default()
                };
                let id = messages::insert_reply_placeholder(c, u, &origin)?;
                let o = Outcome {
                    content: content.clone(),
                    ..Default::default()
                };
                messages::finish(c, id, &o)?
            }
            _ => messages::insert_user(c, conv.id, pid, content)?,
        });
    }
    let user = match parent {
        Some(u) => u,
        None => messages::insert_user(c, conv.id, None, "")?,
    };
    let origin = ReplyOrigin {
        model: r.model.clone(),
        endpoint: Some(r.endpoint.as_str().into()),
        ..Default::default()
    };
    let id = messages::insert_reply_placeholder(c, &user, &origin)?;
    let outcome = Outcome {
        content: row.output.clone(),
        status: Some(if row.error.is_some() {
            Status::Error
        } else {
            Status::Done
        }),
        error_message: row.error.clone(),
        error_kind: row.error.as_ref().map(|_| "suite".into()),
        prompt_tokens: row.prompt_tokens,
        completion_tokens: row.completion_tokens,
        total_ms: row.latency_ms.map(|ms| ms.round() as i64),
        cost_usd: row.cost_usd,
        ..Default::default()
    };
    messages::finish(c, id, &outcome)?;
    let label = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
    let title = template::one_line(
        &format!(
            "{} · {} · {}",
            label(&run.grid.tests, key.3),
            label(&run.grid.providers, key.2),
            run.description
        ),
        conversations::MAX_TITLE_CHARS,
    );
    conversations::rename(c, conv.id, &title)?;
    organise::apply(c, &[conv.id], &Change::Archive { archived: true })?;
    suite_replies::set_message(c, key, id)?;
    Ok(CellReply {
        conversation_id: conv.id,
        message_id: id,
    })
}

impl ChatService {
    /// A run for the grid view: its cells, columns and summaries (fluency from the judge).
    pub fn suite_run_grid(&self, run_id: i64) -> Result<RunGrid> {
        let (run, rows, grades) = self.db.with(|c| {
            Ok((
                suites::get_run(c, run_id)?,
                suites::results(c, run_id)?,
                suite_replies::judge_grades(c, run_id)?,
            ))
        })?;
        Ok(grid::run_grid(run, &rows, &grades))
    }

    /// Run `before` and run `after` compared cell by cell.
    pub fn suite_compare(&self, before: i64, after: i64) -> Result<CompareGrid> {
        let (a, b) = (self.suite_run(before)?, self.suite_run(after)?);
        Ok(grid::compare_grid((a.0, &a.1), (b.0, &b.1)))
    }

    /// The other runs whose cells match this one's (same prompts and providers), newest first.
    pub fn suite_runs_like(&self, run_id: i64) -> Result<Vec<RunRow>> {
        self.db.with(|c| {
            let run = suites::get_run(c, run_id)?;
            Ok(suites::list_runs(c, MAX_COMPARABLE)?
                .into_iter()
                .filter(|r| r.id != run_id && report::same_shape(&run, r))
                .collect())
        })
    }

    /// A cell as a rateable reply; the same one each time it is opened.
    pub fn suite_cell_reply(
        &self,
        run_id: i64,
        prompt: usize,
        provider: usize,
        test: usize,
    ) -> Result<CellReply> {
        let key: CellKey = (run_id, prompt, provider, test);
        let found = |c: &rusqlite::Connection| {
            Ok(
                suite_replies::message_of(c, key)?.map(|(conversation_id, message_id)| CellReply {
                    conversation_id,
                    message_id,
                }),
            )
        };
        if let Some(done) = self.db.with(|c| found(c))? {
            return Ok(done);
        }
        let run = self.db.with(|c| suites::get_run(c, run_id))?;
        // The suite file is read outside the database lock.
        let rendered = rebuild(&run, prompt, provider, test)
            .unwrap_or_else(|| fallback(&run, prompt, provider, test));
        self.db.with(|c| {
            if let Some(done) = found(c)? {
                return Ok(done);
            }
            let row = suites::results(c, run_id)?
                .into_iter()
                .find(|r| (r.prompt, r.provider, r.test) == (prompt, provider, test))
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "Run {run_id} has no cell for prompt {prompt}, provider {provider}, test {test}."
                    ))
                })?;
            materialise(c, &run, key, &row, rendered)
        })
    }
}
