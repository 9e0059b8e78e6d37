//! The SSE parser on any bytes, split at any points: never panics, and splitting never changes
//! the items (the first byte of the input chooses the split size).
#![no_main]
use libfuzzer_sys::fuzz_target;
use parley_core::openai::sse::SseParser;

fn items(parts: &mut dyn Iterator<Item = &[u8]>) -> Vec<String> {
    let mut p = SseParser::new();
    let mut out: Vec<String> = parts.flat_map(|b| p.feed(b)).map(|i| format!("{i:?}")).collect();
    out.extend(p.finish().into_iter().map(|i| format!("{i:?}")));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, body)) = data.split_first() else {
        return;
    };
    let whole = items(&mut std::iter::once(body));
    let split = items(&mut body.chunks(usize::from(split).max(1)));
    assert_eq!(whole, split);
});
