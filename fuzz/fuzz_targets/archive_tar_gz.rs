//! Fuzz target `archive_tar_gz`: see the check of the same name.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runcode_fuzz::check("archive_tar_gz")(data));
