//! What the fuzz targets run: the launcher's parsers and their checks, from
//! the launcher's library (built here with `--cfg fuzzing`, which adds the
//! checks), and the CLI's checks from the `runcode` crate (its `fuzz`
//! feature).

pub use runcode_launcher::{archive, checks, checksums, url};
