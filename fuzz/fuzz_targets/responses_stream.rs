//! The Responses API stream reader on any bytes; what is checked: parley_core::fuzzing::responses_stream.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::responses_stream(data));
