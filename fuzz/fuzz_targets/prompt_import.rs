//! The prompt library importer (JSON or CSV) on any bytes; what is checked: parley_core::fuzzing::prompt_import.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::prompt_import(data));
