//! Fuzz target `workspace_list`: see the check of the same name.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode_fuzz::check("workspace_list")(data));
