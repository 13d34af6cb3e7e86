//! Fuzz target `managed_block`: see the check of the same name.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode_fuzz::check("managed_block")(data));
