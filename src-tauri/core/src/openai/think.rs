//! R1-style reasoning in the answer itself: a reply whose content starts with `<think>…</think>`
//! (after optional whitespace). The splitter takes content deltas as they arrive, however the tags
//! are cut between chunks, and separates the reasoning from the answer. Content that does not start
//! with `<think>` passes through untouched (a `<think>` later in the answer is just text).

use super::client::StreamEvent;

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Nothing but whitespace (or a prefix of `<think>`) seen so far.
    #[default]
    Start,
    Thinking,
    /// Just after `</think>`: the whitespace separating it from the answer is dropped.
    AnswerStart,
    Answer,
}

/// What one piece of content holds: reasoning, answer, either possibly empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub reasoning: String,
    pub answer: String,
}

#[derive(Debug, Clone, Default)]
pub struct ThinkSplitter {
    state: State,
    /// Text held back until it is known which side it belongs to (at most a tag's length,
    /// or leading whitespace).
    pending: String,
}

impl ThinkSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next content delta.
    pub fn push(&mut self, text: &str) -> Split {
        let mut out = Split::default();
        self.pending.push_str(text);
        loop {
            match self.state {
                State::Start => {
                    let trimmed = self.pending.trim_start();
                    if let Some(rest) = trimmed.strip_prefix(OPEN) {
                        self.pending = rest.to_string();
                        self.state = State::Thinking;
                    } else if trimmed.is_empty() || OPEN.starts_with(trimmed) {
                        return out;
                    } else {
                        self.state = State::Answer;
                    }
                }
                State::Thinking => {
                    if let Some(at) = self.pending.find(CLOSE) {
                        out.reasoning.push_str(&self.pending[..at]);
                        self.pending = self.pending[at + CLOSE.len()..].to_string();
                        self.state = State::AnswerStart;
                    } else {
                        // Keep back the longest tail that could begin `</think>`.
                        let keep = (1..CLOSE.len())
                            .rev()
                            .find(|&k| {
                                self.pending.len() >= k
                                    && self.pending.is_char_boundary(self.pending.len() - k)
                                    && CLOSE.starts_with(&self.pending[self.pending.len() - k..])
                            })
                            .unwrap_or(0);
                        let cut = self.pending.len() - keep;
                        out.reasoning.push_str(&self.pending[..cut]);
                        self.pending.drain(..cut);
                        return out;
                    }
                }
                State::AnswerStart => {
                    let trimmed = self.pending.trim_start();
                    if trimmed.is_empty() {
                        self.pending.clear();
                        return out;
                    }
                    self.pending = trimmed.to_string();
                    self.state = State::Answer;
                }
                State::Answer => {
                    out.answer.push_str(&self.pending);
                    self.pending.clear();
                    return out;
                }
            }
        }
    }

    /// The end of the stream: whatever was held back goes where it was heading (an unclosed
    /// `<think>` is all reasoning; leading whitespace alone is the answer).
    pub fn finish(&mut self) -> Split {
        let pending = std::mem::take(&mut self.pending);
        match self.state {
            State::Thinking => Split {
                reasoning: pending,
                answer: String::new(),
            },
            State::AnswerStart => Split::default(),
            State::Start | State::Answer => Split {
                reasoning: String::new(),
                answer: pending,
            },
        }
    }
}

/// Routes each choice's streamed text to the consumer as answer or reasoning deltas: reasoning
/// fields as they are, content through a [`ThinkSplitter`] per choice (chat only; a legacy
/// completion's text is a continuation and is never split).
pub struct Router {
    splitters: Option<Vec<ThinkSplitter>>,
}

impl Router {
    pub fn new(choices: u32, split_think_tags: bool) -> Router {
        Router {
            splitters: split_think_tags.then(|| vec![ThinkSplitter::new(); choices as usize]),
        }
    }

    fn emit(on_event: &mut (dyn FnMut(StreamEvent) + Send), index: u32, s: Split) {
        if !s.reasoning.is_empty() {
            on_event(StreamEvent::Reasoning {
                index,
                text: s.reasoning,
            });
        }
        if !s.answer.is_empty() {
            on_event(StreamEvent::Delta {
                index,
                text: s.answer,
            });
        }
    }

    /// One choice's delta: its reasoning field (if any), then its content.
    pub fn delta(
        &mut self,
        on_event: &mut (dyn FnMut(StreamEvent) + Send),
        index: u32,
        reasoning: Option<String>,
        content: Option<String>,
    ) {
        if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
            on_event(StreamEvent::Reasoning { index, text: r });
        }
        let Some(text) = content.filter(|t| !t.is_empty()) else {
            return;
        };
        let split = match self
            .splitters
            .as_mut()
            .and_then(|s| s.get_mut(index as usize))
        {
            Some(splitter) => splitter.push(&text),
            None => Split {
                reasoning: String::new(),
                answer: text,
            },
        };
        Self::emit(on_event, index, split);
    }

    /// The end of the stream (well or not): text held back is delivered.
    pub fn flush(&mut self, on_event: &mut (dyn FnMut(StreamEvent) + Send)) {
        for (i, s) in self.splitters.iter_mut().flatten().enumerate() {
            Self::emit(on_event, i as u32, s.finish());
        }
    }
}

/// Splits a whole reply at once.
pub fn split_all(text: &str) -> Split {
    let mut s = ThinkSplitter::new();
    let mut a = s.push(text);
    let b = s.finish();
    a.reasoning.push_str(&b.reasoning);
    a.answer.push_str(&b.answer);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(parts: &[&str]) -> Split {
        let mut s = ThinkSplitter::new();
        let mut all = Split::default();
        let mut pieces: Vec<Split> = parts.iter().map(|p| s.push(p)).collect();
        pieces.push(s.finish());
        for p in pieces {
            all.reasoning.push_str(&p.reasoning);
            all.answer.push_str(&p.answer);
        }
        all
    }

    #[test]
    fn think_tags_split_at_every_point_give_the_same_reasoning_and_answer() {
        let text = "\n<think>\nThe user greets; 你好 means hello. a < b </thin k>\n</think>\n\nHello! 你好";
        let want = split_all(text);
        assert_eq!(
            want.reasoning,
            "\nThe user greets; 你好 means hello. a < b </thin k>\n"
        );
        assert_eq!(want.answer, "Hello! 你好");
        let cuts: Vec<usize> = (1..text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for &i in &cuts {
            assert_eq!(feed(&[&text[..i], &text[i..]]), want, "cut at {i}");
            for &j in cuts.iter().filter(|&&j| j > i) {
                assert_eq!(
                    feed(&[&text[..i], &text[i..j], &text[j..]]),
                    want,
                    "cut at {i} and {j}"
                );
            }
        }
        let chars: Vec<String> = text.chars().map(String::from).collect();
        let parts: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(feed(&parts), want);
    }

    #[test]
    fn content_without_a_leading_think_tag_passes_through() {
        for text in [
            "Hello",
            "  <thin",
            "Use <think> tags like this",
            "<b>bold</b>",
            " ",
        ] {
            let got = feed(&[text]);
            assert_eq!(got.answer, text);
            assert!(got.reasoning.is_empty());
        }
        // Leading whitespace is not lost while waiting to see whether a tag follows.
        assert_eq!(feed(&["\n", "  ", "Hi"]).answer, "\n  Hi");
    }

    #[test]
    fn an_unclosed_think_block_is_all_reasoning() {
        let got = feed(&["<think>", "still thinking", " </thi"]);
        assert_eq!(got.reasoning, "still thinking </thi");
        assert_eq!(got.answer, "");
    }
}
