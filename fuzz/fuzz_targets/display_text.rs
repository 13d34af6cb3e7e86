//! Fuzz target `display_text`: the check of the same name, on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode::checks::display_text(data));
