//! Fuzz target `api_answer`: see the check of the same name.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode_fuzz::check("api_answer")(data));
