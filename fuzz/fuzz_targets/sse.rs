//! The SSE parser on any bytes; what is checked: parley_core::fuzzing::sse.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::sse(data));
