//! The launcher's parsers, compiled here exactly as the launcher has them,
//! with the checks the fuzz targets run (launcher/src/checks.rs). The CLI's
//! checks come from the `runcode` crate (its `fuzz` feature).

#[path = "../../launcher/src/archive.rs"]
pub mod archive;
#[path = "../../launcher/src/checks.rs"]
pub mod checks;
#[path = "../../launcher/src/checksums.rs"]
pub mod checksums;
#[path = "../../launcher/src/url.rs"]
pub mod url;
