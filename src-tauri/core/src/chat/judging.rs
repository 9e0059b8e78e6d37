//! Running the LLM judge (issue 4) through the ordinary client, and storing its verdicts. The
//! prompt and the strict verdict parser are in `eval::judge`; the tables in `db::judging`. Rows
//! are read and written on a blocking thread (`read_blocking`), never on the async workers.
//!
//! A judge run that fails (the server refused, the stream broke, the verdict was not understood)
//! is still stored, as a verdict with its error and the judge's raw answer: it is a result about
//! the judge, and the batch goes on. Only bad requests (no such reply, not a reply, a rubric of the
//! wrong kind, no judge model) are errors, and those store nothing.

use futures_util::stream::{self, StreamExt};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use super::ChatService;
use crate::db::judging::{
    self, JudgeKind, NewVerdict, Rubric, Verdict, DEFAULT_PAIRWISE_RUBRIC, DEFAULT_SINGLE_RUBRIC,
};
use crate::db::messages::{self, Message, Role, Status};
use crate::error::{Error, Result};
use crate::eval::judge::{self, BothOrders, Context};
use crate::openai::types::{wants_max_completion_tokens, ChatMessage, ChatRequest, Request};
use crate::openai::{Client, Endpoint, StreamEvent};

/// Judge runs in flight at once in a batch.
pub(crate) const JUDGE_CONCURRENCY: usize = 4;

/// Who judges: any profile (`None`: the default one) and any model (`None`: the profile's default).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JudgeTarget {
    #[serde(default)]
    pub profile_id: Option<i64>,
    #[serde(default)]
    pub model: Option<String>,
    /// The id the run is registered under, like a reply's stream id: `cancel(run_id)` stops it
    /// and `stop_all` waits for it. `None`: one is made up.
    #[serde(default)]
    pub run_id: Option<String>,
}

/// The resolved judge: where, with which key and client, which model.
struct Judge {
    profile_id: i64,
    endpoint: Endpoint,
    client: Client,
    model: String,
}

/// The path to a reply, checked: it must be a finished reply of a model.
fn judged_path(conn: &rusqlite::Connection, id: i64) -> Result<Vec<Message>> {
    let reply = messages::get(conn, id)?;
    if reply.role != Role::Assistant {
        return Err(Error::invalid(format!(
            "Message {id} is not a model's reply; only replies are judged."
        )));
    }
    if reply.status != Status::Done {
        return Err(Error::invalid(format!(
            "Reply {id} did not finish ({}); only finished replies are judged.",
            reply.status.as_str()
        )));
    }
    messages::path_to(conn, id)
}

fn failed(v: &mut NewVerdict, e: &Error) {
    v.error_kind = Some(e.kind().to_string());
    v.error = Some(e.to_string());
}

impl ChatService {
    /// The latest version of every rubric.
    pub fn rubrics(&self) -> Result<Vec<Rubric>> {
        self.db.with(|c| judging::list_rubrics(c))
    }

    /// Every version of one rubric, oldest first (empty when there is no such name).
    pub fn rubric_versions(&self, name: &str) -> Result<Vec<Rubric>> {
        self.db.with(|c| judging::rubric_versions(c, name))
    }

    /// Saves a rubric as a new version of `name`; the earlier versions (and their verdicts) stay.
    pub fn save_rubric(&self, name: &str, kind: JudgeKind, body: &str) -> Result<Rubric> {
        self.db.with(|c| judging::save_rubric(c, name, kind, body))
    }

    /// The latest version of a rubric by name.
    pub fn rubric_by_name(&self, name: &str) -> Result<Rubric> {
        self.db.with(|c| judging::rubric_by_name(c, name))
    }

    /// Every verdict about a reply (graded alone or in a pair), newest first.
    pub fn verdicts_of(&self, message_id: i64) -> Result<Vec<Verdict>> {
        self.db.with(|c| {
            messages::get(c, message_id)?;
            judging::verdicts_of(c, message_id)
        })
    }

    /// A rubric by id (`None`: the default one of that kind), checked to be of that kind.
    fn rubric_for(&self, id: Option<i64>, kind: JudgeKind) -> Result<Rubric> {
        let rubric = self.db.with(|c| match id {
            Some(id) => judging::rubric(c, id),
            None => judging::rubric_by_name(
                c,
                match kind {
                    JudgeKind::Single => DEFAULT_SINGLE_RUBRIC,
                    JudgeKind::Pairwise => DEFAULT_PAIRWISE_RUBRIC,
                },
            ),
        })?;
        if rubric.kind != kind {
            return Err(Error::invalid(format!(
                "The rubric \"{}\" is for {} judging, not {}.",
                rubric.name,
                rubric.kind.as_str(),
                kind.as_str()
            )));
        }
        Ok(rubric)
    }

    async fn judge_for(&self, target: &JudgeTarget) -> Result<Judge> {
        let (row, endpoint, client) = self.endpoint_for(target.profile_id, None).await?;
        let model = target
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .or(row.default_model.clone())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "Choose the judge's model: the profile \"{}\" has no default model.",
                    row.name
                ))
            })?;
        Ok(Judge {
            profile_id: row.id,
            endpoint,
            client,
            model,
        })
    }

    /// Sends the judge's prompt; the whole answer (partial text too, on error) and the model the
    /// server said answered.
    async fn ask_judge(
        judge: &Judge,
        prompt: Vec<ChatMessage>,
        stop: &CancellationToken,
    ) -> (String, Result<Option<String>>) {
        let mut request = ChatRequest::streaming(judge.model.clone(), prompt);
        // Reasoning models accept only their default temperature.
        if !wants_max_completion_tokens(&judge.model) {
            request.sampling.params.temperature = Some(judge::JUDGE_TEMPERATURE);
        }
        let mut text = String::new();
        // Stopped by the user (`stop`) or for answering too much (only this run's token).
        let too_long = stop.child_token();
        let overflowed = std::sync::atomic::AtomicBool::new(false);
        let mut on_event = |e: StreamEvent| {
            if let StreamEvent::Delta { index: 0, text: t } = e {
                if text.len() + t.len() > judge::MAX_JUDGE_REPLY {
                    overflowed.store(true, std::sync::atomic::Ordering::Relaxed);
                    too_long.cancel();
                } else {
                    text.push_str(&t);
                }
            }
        };
        let result = judge
            .client
            .stream(
                &judge.endpoint,
                &Request::Chat(request),
                &too_long,
                &mut on_event,
            )
            .await
            .map(|finished| finished.model);
        let result = match result {
            Err(Error::Cancelled) if overflowed.load(std::sync::atomic::Ordering::Relaxed) => {
                Err(Error::Stream {
                    message: format!(
                        "the judge's answer passed {} KB and was stopped",
                        judge::MAX_JUDGE_REPLY / 1024
                    ),
                })
            }
            other => other,
        };
        (text, result)
    }

    /// Grades one reply 1–10 against a single-answer rubric, and stores the verdict.
    pub async fn judge_single(
        &self,
        message_id: i64,
        rubric_id: Option<i64>,
        target: &JudgeTarget,
    ) -> Result<Verdict> {
        let (_guard, stop) = self.register_stream(target.run_id.clone())?;
        let rubric = self.rubric_for(rubric_id, JudgeKind::Single)?;
        let path = self
            .read_blocking(move |c| judged_path(c, message_id))
            .await?;
        let ctx = Context::from_path(&path)?;
        let judge = self.judge_for(target).await?;
        self.run_single(
            &judge,
            &rubric,
            &ctx,
            path.last().expect("a path ends in its reply"),
            &stop,
        )
        .await
    }

    /// A stopped run stores nothing: it is no result about the judge.
    async fn run_single(
        &self,
        judge: &Judge,
        rubric: &Rubric,
        ctx: &Context,
        reply: &Message,
        stop: &CancellationToken,
    ) -> Result<Verdict> {
        let prompt = judge::single_prompt(&rubric.body, ctx, &reply.content);
        let (raw, result) = Self::ask_judge(judge, prompt, stop).await;
        if stop.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let mut v = NewVerdict {
            rubric_id: rubric.id,
            judge_model: judge.model.clone(),
            served_model: result.as_ref().ok().cloned().flatten(),
            judge_profile_id: Some(judge.profile_id),
            message_id: reply.id,
            raw: Some(raw.clone()),
            ..Default::default()
        };
        match result.and_then(|_| judge::parse_single(&raw)) {
            Ok(parsed) => {
                v.score = Some(parsed.score);
                v.reasoning = Some(parsed.reasoning);
            }
            Err(e) => failed(&mut v, &e),
        }
        self.read_blocking(move |c| judging::insert_verdict(c, &v))
            .await
    }

    /// Compares two replies to the same question, judged in both orders (a as A, then b as A);
    /// stores one verdict whose winner is "a" (`a_id`), "b", "tie", or "inconsistent".
    pub async fn judge_pair(
        &self,
        a_id: i64,
        b_id: i64,
        rubric_id: Option<i64>,
        target: &JudgeTarget,
    ) -> Result<Verdict> {
        let (_guard, stop) = self.register_stream(target.run_id.clone())?;
        self.pair_in_run(a_id, b_id, rubric_id, target, &stop).await
    }

    /// One pair, under a run already registered (alone, or one of a batch).
    async fn pair_in_run(
        &self,
        a_id: i64,
        b_id: i64,
        rubric_id: Option<i64>,
        target: &JudgeTarget,
        stop: &CancellationToken,
    ) -> Result<Verdict> {
        if a_id == b_id {
            return Err(Error::invalid("A reply cannot be compared with itself."));
        }
        let rubric = self.rubric_for(rubric_id, JudgeKind::Pairwise)?;
        let (path_a, path_b) = self
            .read_blocking(move |c| Ok((judged_path(c, a_id)?, judged_path(c, b_id)?)))
            .await?;
        let ctx = Context::from_path(&path_a)?;
        if Context::from_path(&path_b)?.question != ctx.question {
            return Err(Error::invalid(format!(
                "Replies {a_id} and {b_id} answer different questions; only replies to the same question are compared."
            )));
        }
        let judge = self.judge_for(target).await?;
        let (a, b) = (path_a.last().unwrap(), path_b.last().unwrap());
        self.run_pair(&judge, &rubric, &ctx, (a, b), stop).await
    }

    async fn run_pair(
        &self,
        judge: &Judge,
        rubric: &Rubric,
        ctx: &Context,
        (a, b): (&Message, &Message),
        stop: &CancellationToken,
    ) -> Result<Verdict> {
        let ((raw_ab, r_ab), (raw_ba, r_ba)) = tokio::join!(
            Self::ask_judge(
                judge,
                judge::pair_prompt(&rubric.body, ctx, &a.content, &b.content),
                stop
            ),
            Self::ask_judge(
                judge,
                judge::pair_prompt(&rubric.body, ctx, &b.content, &a.content),
                stop
            ),
        );
        if stop.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let served = r_ab.as_ref().ok().cloned().flatten();
        let ab = r_ab.and_then(|_| judge::parse_pair(&raw_ab));
        let ba = r_ba.and_then(|_| judge::parse_pair(&raw_ba));
        let mut v = NewVerdict {
            rubric_id: rubric.id,
            judge_model: judge.model.clone(),
            served_model: served,
            judge_profile_id: Some(judge.profile_id),
            message_id: a.id,
            other_message_id: Some(b.id),
            raw: Some(raw_ab),
            raw_ba: Some(raw_ba),
            ..Default::default()
        };
        match (ab, ba) {
            (Ok(ab), Ok(ba)) => {
                let both = BothOrders::combine(ab.winner, ba.winner);
                v.winner_ab = Some(both.ab);
                v.winner_ba = Some(both.ba);
                v.consistent = Some(both.consistent);
                v.winner = Some(both.winner());
                v.reasoning = Some(ab.reasoning);
                v.reasoning_ba = Some(ba.reasoning);
            }
            (ab, ba) => {
                // Keep the order that was understood; the error names the one that was not.
                let mut errors = Vec::new();
                match ab {
                    Ok(p) => {
                        v.winner_ab = Some(p.winner.side(false));
                        v.reasoning = Some(p.reasoning);
                    }
                    Err(e) => errors.push(("A/B order", e)),
                }
                match ba {
                    Ok(p) => {
                        v.winner_ba = Some(p.winner.side(true));
                        v.reasoning_ba = Some(p.reasoning);
                    }
                    Err(e) => errors.push(("B/A order", e)),
                }
                v.error_kind = Some(errors[0].1.kind().to_string());
                v.error = Some(
                    errors
                        .iter()
                        .map(|(order, e)| format!("{order}: {e}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
            }
        }
        self.read_blocking(move |c| judging::insert_verdict(c, &v))
            .await
    }

    /// Grades many replies, [`JUDGE_CONCURRENCY`] at a time; one result per id, in order.
    pub async fn judge_replies(
        &self,
        ids: &[i64],
        rubric_id: Option<i64>,
        target: &JudgeTarget,
    ) -> Result<Vec<(i64, Result<Verdict>)>> {
        let (_guard, stop) = self.register_stream(target.run_id.clone())?;
        let rubric = self.rubric_for(rubric_id, JudgeKind::Single)?;
        let judge = self.judge_for(target).await?;
        let (judge, rubric, stop) = (&judge, &rubric, &stop);
        Ok(stream::iter(ids.iter().copied())
            .map(|id| async move {
                let run = async {
                    let path = self.read_blocking(move |c| judged_path(c, id)).await?;
                    let ctx = Context::from_path(&path)?;
                    self.run_single(judge, rubric, &ctx, path.last().unwrap(), stop)
                        .await
                };
                (id, run.await)
            })
            .buffered(JUDGE_CONCURRENCY)
            .collect()
            .await)
    }

    /// Compares many pairs, [`JUDGE_CONCURRENCY`] pairs at a time; one result per pair, in order.
    pub async fn judge_pairs(
        &self,
        pairs: &[(i64, i64)],
        rubric_id: Option<i64>,
        target: &JudgeTarget,
    ) -> Result<Vec<((i64, i64), Result<Verdict>)>> {
        let (_guard, stop) = self.register_stream(target.run_id.clone())?;
        let rubric = self.rubric_for(rubric_id, JudgeKind::Pairwise)?;
        self.judge_for(target).await?;
        let (rubric_id, stop) = (Some(rubric.id), &stop);
        Ok(stream::iter(pairs.iter().copied())
            .map(|(a, b)| async move {
                (
                    (a, b),
                    self.pair_in_run(a, b, rubric_id, target, stop).await,
                )
            })
            .buffered(JUDGE_CONCURRENCY)
            .collect()
            .await)
    }

    /// The finished replies of a conversation, every branch, oldest first.
    pub fn replies_of_conversation(&self, conversation_id: i64) -> Result<Vec<i64>> {
        self.db.with(|c| {
            crate::db::conversations::get(c, conversation_id)?;
            Ok(judging::replies_of(c, conversation_id)?
                .into_iter()
                .map(|(id, _)| id)
                .collect())
        })
    }

    /// The pairs to compare among some replies: every two that answer the same message
    /// (siblings), smaller id first. Replies with no sibling among them are returned apart.
    pub fn sibling_pairs(&self, ids: &[i64]) -> Result<SiblingPairs> {
        let parents = self.db.with(|c| {
            ids.iter()
                .map(|&id| Ok((id, messages::get(c, id)?.parent_id)))
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(pairs_by_parent(&parents))
    }
}

/// Pairs of sibling replies (smaller id first), and the replies with no sibling among those given.
pub(crate) type SiblingPairs = (Vec<(i64, i64)>, Vec<i64>);

/// Every two ids with the same parent, smaller id first; and the ids alone under their parent.
pub(crate) fn pairs_by_parent(items: &[(i64, Option<i64>)]) -> SiblingPairs {
    let mut sorted: Vec<(i64, Option<i64>)> = items.to_vec();
    sorted.sort_by_key(|&(id, parent)| (parent, id));
    sorted.dedup();
    let mut pairs = Vec::new();
    let mut alone = Vec::new();
    for group in sorted.chunk_by(|x, y| x.1 == y.1) {
        if group.len() < 2 {
            alone.extend(group.iter().map(|g| g.0));
        }
        for (i, x) in group.iter().enumerate() {
            for y in &group[i + 1..] {
                pairs.push((x.0, y.0));
            }
        }
    }
    pairs.sort();
    alone.sort();
    (pairs, alone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_siblings_only() {
        let (pairs, alone) = pairs_by_parent(&[
            (5, Some(1)),
            (3, Some(1)),
            (4, Some(1)),
            (9, Some(8)),
            (10, Some(8)),
            (12, Some(11)),
            (3, Some(1)),
        ]);
        assert_eq!(pairs, vec![(3, 4), (3, 5), (4, 5), (9, 10)]);
        assert_eq!(alone, vec![12]);
    }
}
