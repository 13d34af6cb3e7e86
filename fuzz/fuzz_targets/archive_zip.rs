//! Fuzz target `archive_zip`: the check of the same name, on every input.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode_fuzz::checks::archive_zip(data));
