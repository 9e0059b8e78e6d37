//! The suite config reader (promptfoo YAML and its CSV/YAML/JSON test files) on any bytes; what is checked: parley_core::fuzzing::suite_config.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::suite_config(data));
