//! Server-sent events → chat chunks, parsed incrementally with a cap on one line (N5).
//!
//! Why not `eventsource-stream` (used before): it re-scans its whole buffer on every chunk and has no
//! line cap, so one long line is quadratic — measured in a debug build, in 16 KiB chunks: a 2 MB line
//! 3.6 s, 4 MB 17.9 s, 8 MB 144 s, and a server sending bytes without a newline held a core forever.
//! This parser scans each byte once (resuming where the last chunk stopped), keeps at most
//! `MAX_LINE` bytes of an unfinished line, and is fed chunk by chunk by the client, so Stop and the
//! idle timeout act on bytes arriving, not on whole events. Same inputs now (`measure_long_lines`):
//! 2 MB in 0.07 s; 8 MB is an error once the cap is passed, after 0.05 s.

use crate::error::{Error, Result};

use super::types::ChatChunk;

/// Longest line (and longest event data) accepted from a server. A chunk is a few KB; 4 MiB is
/// far beyond any honest one.
pub const MAX_LINE: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    Chunk(ChatChunk),
    /// An event's data as sent, from a parser made with [`SseParser::raw`] (the Responses API,
    /// whose events are read by their `type`).
    Data(String),
    Done,
}

/// Parses the data of one event. `[DONE]` ends the stream; anything that is not a chunk is an error.
pub(crate) fn parse_data(data: &str) -> Result<SseItem> {
    let data = data.trim();
    if data == "[DONE]" {
        return Ok(SseItem::Done);
    }
    let chunk: ChatChunk = serde_json::from_str(data).map_err(|e| Error::Stream {
        message: format!("the server sent a malformed chunk ({e}): {}", preview(data)),
    })?;
    if let Some(err) = &chunk.error {
        return Err(Error::Stream {
            message: format!("the server reported an error mid-stream: {}", err.message),
        });
    }
    Ok(SseItem::Chunk(chunk))
}

fn preview(s: &str) -> String {
    let mut p: String = s.chars().take(120).collect();
    if s.chars().count() > 120 {
        p.push('…');
    }
    p
}

fn too_long() -> Error {
    Error::Stream {
        message: format!(
            "the server sent a line longer than {} MB; the reply so far is kept",
            MAX_LINE >> 20
        ),
    }
}

/// An incremental SSE parser: feed it bytes as they come, get the items of every event completed.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The unfinished line (bytes after the last line end).
    line: Vec<u8>,
    /// The data lines of the event being read, joined by `\n`.
    data: String,
    has_data: bool,
    /// The last chunk ended on `\r`: a `\n` first thing in the next one belongs to that line end.
    after_cr: bool,
    failed: bool,
    /// Hand each event's data over as text instead of parsing it as a chat chunk.
    raw: bool,
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// A parser that yields each event's data as text ([`SseItem::Data`]; `[DONE]` still ends).
    pub fn raw() -> SseParser {
        SseParser {
            raw: true,
            ..SseParser::default()
        }
    }

    /// Feeds one chunk of the body. Work is linear in the chunk; memory at most `MAX_LINE` for
    /// the line plus the event's data. After an error item, further input is ignored.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<Result<SseItem>> {
        let mut out = Vec::new();
        if self.failed {
            return out;
        }
        if self.after_cr && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        self.after_cr = false;
        while !bytes.is_empty() {
            match bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
                None => {
                    if self.line.len() + bytes.len() > MAX_LINE {
                        return self.fail(out, too_long());
                    }
                    self.line.extend_from_slice(bytes);
                    break;
                }
                Some(end) => {
                    if self.line.len() + end > MAX_LINE {
                        return self.fail(out, too_long());
                    }
                    self.line.extend_from_slice(&bytes[..end]);
                    let cr = bytes[end] == b'\r';
                    bytes = &bytes[end + 1..];
                    if cr {
                        match bytes.first() {
                            Some(b'\n') => bytes = &bytes[1..],
                            None => self.after_cr = true,
                            _ => {}
                        }
                    }
                    let line = std::mem::take(&mut self.line);
                    if let Err(e) = self.line_done(&line, &mut out) {
                        return self.fail(out, e);
                    }
                }
            }
        }
        out
    }

    /// The body ended: an event left without its blank line is still delivered (lenient, as
    /// several servers end on `data: [DONE]\n`).
    pub fn finish(&mut self) -> Vec<Result<SseItem>> {
        let mut out = Vec::new();
        if self.failed {
            return out;
        }
        let line = std::mem::take(&mut self.line);
        if !line.is_empty() {
            if let Err(e) = self.line_done(&line, &mut out) {
                return self.fail(out, e);
            }
        }
        self.dispatch(&mut out);
        out
    }

    fn fail(&mut self, mut out: Vec<Result<SseItem>>, e: Error) -> Vec<Result<SseItem>> {
        self.failed = true;
        self.line = Vec::new();
        self.data = String::new();
        out.push(Err(e));
        out
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<Result<SseItem>>) -> Result<()> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment (keep-alive)
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if field != b"data" {
            return Ok(()); // event, id, retry: not used by these APIs
        }
        let value = std::str::from_utf8(value).map_err(|e| Error::Stream {
            message: format!("the server sent text that is not UTF-8 ({e})"),
        })?;
        if self.data.len() + value.len() + 1 > MAX_LINE {
            return Err(too_long());
        }
        if self.has_data {
            self.data.push('\n');
        }
        self.data.push_str(value);
        self.has_data = true;
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<Result<SseItem>>) {
        let data = std::mem::take(&mut self.data);
        self.has_data = false;
        // Events with empty data (keep-alives) are skipped.
        if self.raw && data.trim() != "[DONE]" && !data.trim().is_empty() {
            out.push(Ok(SseItem::Data(data)));
        } else if !data.trim().is_empty() {
            out.push(parse_data(&data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = concat!(
        ": keep-alive comment\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"你好 🌍\"},\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" مرحبا\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n",
        "data: [DONE]\n\n",
    );

    fn collect(parts: Vec<Vec<u8>>) -> Vec<Result<SseItem>> {
        let mut p = SseParser::new();
        let mut out: Vec<_> = parts.iter().flat_map(|b| p.feed(b)).collect();
        out.extend(p.finish());
        out
    }

    fn text_of(items: &[Result<SseItem>]) -> String {
        items
            .iter()
            .filter_map(|i| match i {
                Ok(SseItem::Chunk(c)) => c.choices.first().and_then(|ch| ch.delta.content.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn splitting_the_body_at_any_byte_gives_the_same_items() {
        let whole = collect(vec![BODY.as_bytes().to_vec()]);
        assert_eq!(whole.len(), 6);
        assert_eq!(text_of(&whole), "你好 🌍 مرحبا");
        assert!(matches!(whole.last(), Some(Ok(SseItem::Done))));
        let bytes = BODY.as_bytes();
        for cut in 1..bytes.len() {
            let split = collect(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()]);
            assert_eq!(split, whole, "differs when split at byte {cut}");
        }
        // And one byte at a time.
        let single = collect(bytes.iter().map(|b| vec![*b]).collect());
        assert_eq!(single, whole);
    }

    #[test]
    fn a_malformed_chunk_is_an_error_item_not_a_panic() {
        let items = collect(vec![
            b"data: {\"choices\":[]}\n\ndata: {not json\n\n".to_vec()
        ]);
        assert!(matches!(items[0], Ok(SseItem::Chunk(_))));
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), "stream");
        assert!(err.to_string().contains("malformed"));
    }

    #[test]
    fn invalid_utf8_is_an_error_item() {
        let items = collect(vec![
            b"data: {\"choices\":[{\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n".to_vec(),
        ]);
        assert!(items.iter().any(|i| i.is_err()), "{items:?}");
    }

    #[test]
    fn an_error_object_in_the_stream_is_reported() {
        let err =
            parse_data(r#"{"error":{"message":"overloaded","type":"server_error"}}"#).unwrap_err();
        assert!(err.to_string().contains("overloaded"));
    }

    #[test]
    fn a_line_past_the_cap_is_one_error_and_nothing_after_it() {
        let mut p = SseParser::new();
        let mut items = p.feed(b"data: {\"choices\":[]}\n\ndata: ");
        let block = vec![b'a'; 64 * 1024];
        let mut fed = 0;
        while fed <= MAX_LINE {
            items.extend(p.feed(&block));
            fed += block.len();
        }
        items.extend(p.feed(b"\n\ndata: [DONE]\n\n"));
        items.extend(p.finish());
        assert_eq!(items.len(), 2, "{:?}", items.len());
        assert!(matches!(items[0], Ok(SseItem::Chunk(_))));
        let err = items[1].as_ref().unwrap_err();
        assert!(err.to_string().contains("longer than 4 MB"), "{err}");
        // Nothing of the endless line is kept in memory.
        assert!(p.line.capacity() == 0 && p.data.is_empty());
    }

    #[test]
    fn data_lines_joined_past_the_cap_are_an_error() {
        let mut p = SseParser::new();
        let line = format!("data: {}\n", "b".repeat(1 << 20));
        let mut items = Vec::new();
        for _ in 0..5 {
            items.extend(p.feed(line.as_bytes()));
        }
        assert!(items.iter().any(|i| i.is_err()));
    }

    #[test]
    fn cr_and_crlf_split_across_chunks_end_one_line() {
        let items = collect(vec![b"data: [DONE]\r".to_vec(), b"\n\r\n".to_vec()]);
        assert_eq!(items.len(), 1);
        assert!(matches!(items[0], Ok(SseItem::Done)));
        let cr_only = collect(vec![b"data: [DONE]\r\r".to_vec()]);
        assert!(matches!(cr_only[..], [Ok(SseItem::Done)]));
    }

    #[test]
    fn a_last_event_without_its_blank_line_is_delivered() {
        let items = collect(vec![b"data: [DONE]".to_vec()]);
        assert!(matches!(items[..], [Ok(SseItem::Done)]));
    }

    #[test]
    fn ten_megabytes_of_comments_yield_nothing_and_keep_nothing() {
        let mut p = SseParser::new();
        let comment = b": keep-alive padding padding padding padding\n".repeat(1000);
        let mut n = 0;
        while n < 10 << 20 {
            assert!(p.feed(&comment).is_empty());
            n += comment.len();
        }
        assert!(p.line.is_empty());
        assert!(matches!(
            p.feed(b"data: [DONE]\n\n")[..],
            [Ok(SseItem::Done)]
        ));
    }

    /// Measures the parser on long lines (prints; asserts nothing about time).
    #[test]
    #[ignore]
    fn measure_long_lines() {
        for mb in [1usize, 2, 4, 8] {
            let mut body = b"data: ".to_vec();
            body.extend(std::iter::repeat_n(b'a', mb << 20));
            let t = std::time::Instant::now();
            let mut p = SseParser::new();
            let n: usize = body.chunks(16 * 1024).map(|c| p.feed(c).len()).sum();
            eprintln!(
                "{mb} MB line in 16 KiB chunks: {:?} ({n} items)",
                t.elapsed()
            );
        }
    }
}
