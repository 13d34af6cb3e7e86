//! The launcher's parsers of untrusted bytes (release archives, checksum
//! lists, addresses), as a library for the fuzz targets (`fuzz/`, built
//! with `--cfg fuzzing`), which also get the checks that state each parser's
//! promise, and for their corpus replay in the unit tests. The launcher
//! binary compiles the same files as modules of its own (see main.rs).

pub mod archive;
#[cfg(any(test, fuzzing))]
pub mod checks;
pub mod checksums;
pub mod url;
