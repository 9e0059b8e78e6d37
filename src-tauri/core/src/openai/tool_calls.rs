//! Tool calls: the wire types (`ChatCompletionMessageToolCall`, its streamed chunks
//! `ChatCompletionMessageToolCallChunk`, `ChatCompletionTool`) and the accumulation of a call's
//! pieces, which servers spread over many chunks (id and name first, the arguments in fragments,
//! keyed by `index`). Parley shows and stores calls; it never executes them.

use serde::{Deserialize, Serialize};

/// At most this many calls in one reply, and this many bytes of arguments per call; beyond that the
/// server is misbehaving and the rest is dropped (the reply says so through `truncated`).
pub const MAX_CALLS: usize = 128;
pub const MAX_ARGUMENT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    #[serde(default)]
    pub name: String,
    /// JSON text as the model wrote it (not necessarily valid JSON).
    #[serde(default)]
    pub arguments: String,
}

/// One complete call, as stored with the reply and sent back in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_type() -> String {
    "function".into()
}

/// One streamed piece of a call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToolCallChunk {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<FunctionChunk>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct FunctionChunk {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// Builds the calls of one choice from their chunks.
/// The bytes a server sent in these pieces of tool calls (ids, names, arguments): they count
/// toward the reply's limit like its text.
pub fn chunk_bytes(chunks: Option<&[ToolCallChunk]>) -> usize {
    let piece = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    (chunks.into_iter().flatten())
        .map(|c| {
            piece(&c.id)
                + c.function
                    .as_ref()
                    .map_or(0, |f| piece(&f.name) + piece(&f.arguments))
        })
        .sum()
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accumulator {
    calls: Vec<ToolCall>,
    /// The calls whose arguments reached the limit: nothing more is added to them (a later,
    /// smaller piece would make text that was never sent, and never valid JSON).
    cut: Vec<usize>,
    pub truncated: bool,
}

impl Accumulator {
    pub fn push(&mut self, chunk: &ToolCallChunk) {
        // Without an index, a chunk with an id starts a new call, one without continues the last.
        let index = match chunk.index {
            Some(i) => i as usize,
            None if chunk.id.is_some() || self.calls.is_empty() => self.calls.len(),
            None => self.calls.len() - 1,
        };
        if index >= MAX_CALLS {
            self.truncated = true;
            return;
        }
        while self.calls.len() <= index {
            self.calls.push(ToolCall {
                id: String::new(),
                kind: function_type(),
                function: FunctionCall::default(),
            });
        }
        let call = &mut self.calls[index];
        if let Some(id) = chunk.id.as_deref().filter(|id| !id.is_empty()) {
            call.id = id.to_string();
        }
        if let Some(f) = &chunk.function {
            if let Some(name) = f.name.as_deref() {
                // Some servers repeat the whole name in every chunk; others send it once.
                if call.function.name != name {
                    call.function.name.push_str(name);
                }
            }
            if let Some(args) = &f.arguments {
                if self.cut.contains(&index) {
                } else if call.function.arguments.len() + args.len() > MAX_ARGUMENT_BYTES {
                    self.truncated = true;
                    self.cut.push(index);
                } else {
                    call.function.arguments.push_str(args);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The finished calls; a call the server sent no id for gets one, so a result can answer it.
    pub fn finish(self) -> Vec<ToolCall> {
        self.calls
            .into_iter()
            .enumerate()
            .filter(|(_, c)| !c.function.name.is_empty() || !c.function.arguments.is_empty())
            .map(|(i, mut c)| {
                if c.id.is_empty() {
                    c.id = format!("call_{i}");
                }
                c
            })
            .collect()
    }
}

/// The arguments laid out for reading: pretty JSON when they parse, else exactly as sent.
pub fn format_arguments(arguments: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| arguments.to_string()),
        Err(_) => arguments.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The chunks a server sends for `calls`, each call's arguments cut at the given byte offsets.
    fn chunks(calls: &[(&str, &str, &str)], cuts: &[usize]) -> Vec<ToolCallChunk> {
        let mut out = Vec::new();
        for (i, (id, name, args)) in calls.iter().enumerate() {
            let v = json!({"index": i, "id": id, "type": "function", "function": {"name": name, "arguments": ""}});
            out.push(serde_json::from_value(v).unwrap());
            let mut last = 0;
            for &c in cuts.iter().filter(|&&c| c > 0 && c < args.len()) {
                if !args.is_char_boundary(c) || c <= last {
                    continue;
                }
                let v = json!({"index": i, "function": {"arguments": &args[last..c]}});
                out.push(serde_json::from_value(v).unwrap());
                last = c;
            }
            let v = json!({"index": i, "function": {"arguments": &args[last..]}});
            out.push(serde_json::from_value(v).unwrap());
        }
        out
    }

    fn run(chunks: &[ToolCallChunk]) -> Vec<ToolCall> {
        let mut acc = Accumulator::default();
        for c in chunks {
            acc.push(c);
        }
        acc.finish()
    }

    #[test]
    fn arguments_split_at_every_point_accumulate_to_the_same_calls() {
        let calls = [
            (
                "call_a",
                "get_weather",
                r#"{"city": "Paris", "unit": "°C"}"#,
            ),
            ("call_b", "lookup", r#"{"q": "你好 \"quoted\""}"#),
        ];
        let want = run(&chunks(&calls, &[]));
        assert_eq!(want.len(), 2);
        assert_eq!(want[0].function.name, "get_weather");
        assert_eq!(want[1].function.arguments, calls[1].2);
        let longest = calls.iter().map(|c| c.2.len()).max().unwrap();
        for i in 1..longest {
            assert_eq!(run(&chunks(&calls, &[i])), want, "cut at {i}");
            for j in i + 1..longest {
                assert_eq!(run(&chunks(&calls, &[i, j])), want, "cut at {i}, {j}");
            }
        }
        // Byte by byte, and with the two calls' chunks interleaved.
        let all: Vec<usize> = (1..longest).collect();
        let pieces = chunks(&calls, &all);
        assert_eq!(run(&pieces), want);
        let (a, b): (Vec<_>, Vec<_>) = pieces.into_iter().partition(|c| c.index == Some(0));
        let mut mixed = Vec::new();
        let mut b = b.into_iter();
        for c in a {
            mixed.push(c);
            mixed.extend(b.next());
        }
        mixed.extend(b);
        assert_eq!(run(&mixed), want);
    }

    #[test]
    fn arguments_past_the_limit_stop_there_and_no_later_piece_is_added() {
        let mut acc = Accumulator::default();
        let piece = |args: String| ToolCallChunk {
            index: Some(0),
            id: None,
            function: Some(FunctionChunk {
                name: None,
                arguments: Some(args),
            }),
        };
        acc.push(&piece("{\"a\": \"".into()));
        acc.push(&piece("x".repeat(MAX_ARGUMENT_BYTES)));
        acc.push(&piece("\"}".into()));
        assert!(acc.truncated);
        assert_eq!(acc.calls[0].function.arguments, "{\"a\": \"");
    }

    #[test]
    fn chunks_without_an_index_or_an_id_still_make_calls() {
        let raw = [
            json!({"id": "x1", "function": {"name": "f", "arguments": "{\"a\""}}),
            json!({"function": {"arguments": ": 1}"}}),
            json!({"index": 1, "function": {"name": "g", "arguments": "{}"}}),
        ];
        let chunks: Vec<ToolCallChunk> = raw
            .iter()
            .map(|v| serde_json::from_value(v.clone()).unwrap())
            .collect();
        let calls = run(&chunks);
        assert_eq!(calls[0].id, "x1");
        assert_eq!(calls[0].function.arguments, "{\"a\": 1}");
        assert_eq!(calls[1].id, "call_1");
        assert_eq!(calls[1].kind, "function");
    }

    #[test]
    fn arguments_are_formatted_when_they_are_json_and_kept_when_not() {
        assert_eq!(format_arguments(r#"{"a":1}"#), "{\n  \"a\": 1\n}");
        assert_eq!(format_arguments("{broken"), "{broken");
    }
}
