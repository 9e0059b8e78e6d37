//! Server-sent events → chat chunks. Byte splitting and UTF-8 reassembly are done by
//! `eventsource-stream`; this module turns each event's data into a typed item.

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

use super::types::ChatChunk;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    Chunk(ChatChunk),
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

/// Turns a body byte stream into chat items. Events with empty data (keep-alives) are skipped.
pub fn chat_items<S, B, E>(body: S) -> impl Stream<Item = Result<SseItem>>
where
    S: Stream<Item = std::result::Result<B, E>>,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    body.eventsource().filter_map(|event| async move {
        match event {
            Ok(ev) if ev.data.trim().is_empty() => None,
            Ok(ev) => Some(parse_data(&ev.data)),
            Err(e) => Some(Err(Error::Stream {
                message: e.to_string(),
            })),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    const BODY: &str = concat!(
        ": keep-alive comment\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"你好 🌍\"},\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" مرحبا\"},\"finish_reason\":null}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n",
        "data: [DONE]\n\n",
    );

    async fn collect(parts: Vec<Vec<u8>>) -> Vec<Result<SseItem>> {
        let s = stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));
        chat_items(s).collect().await
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

    #[tokio::test]
    async fn splitting_the_body_at_any_byte_gives_the_same_items() {
        let whole = collect(vec![BODY.as_bytes().to_vec()]).await;
        assert_eq!(whole.len(), 6);
        assert_eq!(text_of(&whole), "你好 🌍 مرحبا");
        assert!(matches!(whole.last(), Some(Ok(SseItem::Done))));
        let bytes = BODY.as_bytes();
        for cut in 1..bytes.len() {
            let split = collect(vec![bytes[..cut].to_vec(), bytes[cut..].to_vec()]).await;
            assert_eq!(split, whole, "differs when split at byte {cut}");
        }
        // And one byte at a time.
        let single = collect(bytes.iter().map(|b| vec![*b]).collect()).await;
        assert_eq!(single, whole);
    }

    #[tokio::test]
    async fn a_malformed_chunk_is_an_error_item_not_a_panic() {
        let items = collect(vec![
            b"data: {\"choices\":[]}\n\ndata: {not json\n\n".to_vec()
        ])
        .await;
        assert!(matches!(items[0], Ok(SseItem::Chunk(_))));
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.kind(), "stream");
        assert!(err.to_string().contains("malformed"));
    }

    #[tokio::test]
    async fn invalid_utf8_is_an_error_item() {
        let items = collect(vec![
            b"data: {\"choices\":[{\"delta\":{\"content\":\"\xff\xfe\"}}]}\n\n".to_vec(),
        ])
        .await;
        assert!(items.iter().any(|i| i.is_err()), "{items:?}");
    }

    #[test]
    fn an_error_object_in_the_stream_is_reported() {
        let err =
            parse_data(r#"{"error":{"message":"overloaded","type":"server_error"}}"#).unwrap_err();
        assert!(err.to_string().contains("overloaded"));
    }
}
