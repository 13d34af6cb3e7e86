//! Names of the files a launcher writes in `<cache>/bin/` before renaming
//! them into place (a download, the stable entry point's copy): all start
//! with one prefix, so a sweep under the lock finds every one that a killed
//! launcher left.

/// Every staging file starts with this.
const PREFIX: &str = ".staging-";

/// A fresh staging name ending in `.<tag>`.
pub fn name(tag: &str) -> String {
    let mut name = runcode_rules::temp::name(PREFIX, ".");
    name.push_str(tag);
    name
}

/// Whether a file in `<cache>/bin/` is a staging file.
pub fn is_staging(file_name: &str) -> bool {
    file_name.starts_with(PREFIX)
}
