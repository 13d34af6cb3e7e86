//! The launcher's parsers of untrusted bytes (release archives, checksum
//! lists, addresses), as a library: the launcher binary uses them, and so do
//! the fuzz targets (`fuzz/`, built with `--cfg fuzzing`), which also get the
//! checks that state each parser's promise.

pub mod archive;
#[cfg(any(test, fuzzing))]
pub mod checks;
pub mod checksums;
pub mod url;
