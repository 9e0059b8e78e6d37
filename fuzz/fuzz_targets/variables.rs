//! The prompt variables parser on any bytes; what is checked: parley_core::fuzzing::variables.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::variables(data));
