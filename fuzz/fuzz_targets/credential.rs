//! Fuzz target `credential`: the check of the same name, on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode::checks::credential(data));
