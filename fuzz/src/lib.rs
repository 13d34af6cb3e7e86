//! The launcher's parsers, compiled here exactly as the launcher has them,
//! with the checks the fuzz targets run (launcher/src/checks.rs).

#[path = "../../launcher/src/archive.rs"]
pub mod archive;
#[path = "../../launcher/src/checks.rs"]
pub mod checks;
#[path = "../../launcher/src/checksums.rs"]
pub mod checksums;
#[path = "../../launcher/src/url.rs"]
pub mod url;

/// The check named `name`, from the CLI's or the launcher's list.
#[must_use]
pub fn check(name: &str) -> fn(&[u8]) {
    runcode::checks::TARGETS
        .iter()
        .chain(checks::TARGETS.iter())
        .find(|(n, _)| *n == name)
        .map_or_else(|| panic!("no check named {name}"), |(_, f)| *f)
}
