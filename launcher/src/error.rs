//! The launcher's one error type. Every variant carries the path, URL or value
//! involved, so the single line printed on stderr says what failed and where.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("RUNCODE_BIN={path} is not an executable file ({reason})")]
    BadBin { path: PathBuf, reason: String },

    #[error(
        "no release for {os}/{arch}: runcode ships for linux, darwin and windows on amd64 and arm64; set RUNCODE_BIN to a runcode binary you built or trust"
    )]
    UnsupportedPlatform { os: String, arch: String },

    #[error(
        "no version to fetch: RUNCODE_VERSION was not found (or is empty) next to {searched} or up to three parents; set RUNCODE_PIN_VERSION or RUNCODE_BIN"
    )]
    NoVersion { searched: PathBuf },

    #[error(
        "refusing version {version:?}: a version may only hold letters, digits and . _ + - and never '..'"
    )]
    BadVersion { version: String },

    #[error("no cache directory: set RUNCODE_CACHE, XDG_CACHE_HOME or HOME")]
    NoCacheDir,

    #[error(
        "refusing {url}: downloads use https://, file://, or http:// to loopback only (check RUNCODE_DOWNLOAD_BASE)"
    )]
    InsecureUrl { url: String },

    #[error(
        "refusing redirect from {from} to {to}: only https:// or http:// to loopback may be followed"
    )]
    InsecureRedirect { from: String, to: String },

    #[error("too many redirects fetching {url}")]
    TooManyRedirects { url: String },

    #[error("{url}: not found")]
    NotFound { url: String },

    #[error("{url}: HTTP {status}")]
    Http { url: String, status: u16 },

    #[error(
        "no {asset} in this release: {url} answered HTTP 404; the release may not ship this platform (set RUNCODE_BIN to use your own binary)"
    )]
    MissingAsset { asset: String, url: String },

    #[error("{url}: {reason}")]
    Network { url: String, reason: String },

    #[error("{url}: {reason}")]
    File { url: String, reason: String },

    #[error("checksums.txt at {url} has no line for {asset}; refusing to run unverified bytes")]
    ChecksumMissing { url: String, asset: String },

    #[error("checksums.txt at {url} lists {asset} twice with different digests; refusing")]
    ChecksumConflict { url: String, asset: String },

    #[error("checksum mismatch for {url}: expected {expected}, got {actual}; refusing to run it")]
    ChecksumMismatch {
        url: String,
        expected: String,
        actual: String,
    },

    #[error(
        "{asset} does not match the digest pinned in {pinned} (expected {expected}, got {actual}): the release was changed after it was pinned; refusing"
    )]
    PinnedMismatch {
        asset: String,
        pinned: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("{pinned} pins no digest for {asset}; refusing to run unverified bytes")]
    PinnedMissing { asset: String, pinned: PathBuf },

    #[error("bad archive {asset}: {reason}")]
    Archive { asset: String, reason: String },

    #[error(
        "timed out after {secs}s waiting for another launcher to finish installing into {dir}; remove {dir}/.lock if no runcode download is running"
    )]
    LockTimeout { secs: u64, dir: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("could not run {path}: {source}")]
    Exec {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// A verification failure is never worth a retry or another mirror: the
    /// bytes on offer are wrong, and the user must hear about it.
    pub fn is_verification(&self) -> bool {
        matches!(
            self,
            Error::ChecksumMissing { .. }
                | Error::ChecksumConflict { .. }
                | Error::ChecksumMismatch { .. }
                | Error::PinnedMismatch { .. }
                | Error::PinnedMissing { .. }
                | Error::Archive { .. }
                | Error::InsecureRedirect { .. }
        )
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
