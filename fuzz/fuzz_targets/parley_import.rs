//! The Parley JSON conversation importer on any bytes; what is checked: parley_core::fuzzing::parley_import.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| parley_core::fuzzing::parley_import(data));
