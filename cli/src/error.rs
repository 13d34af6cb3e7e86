//! The CLI's one error type. Each variant carries what failed; `code` gives
//! the stable code of cli.md and `exit_status` the process exit status.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not logged in: run `runcode login`, set RUNCODE_TOKEN, or pass --token")]
    NoToken,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Network(String),
    #[error(
        "refusing {url}: use https://, or http:// only to localhost or 127.0.0.1 (the token would travel in clear text)"
    )]
    InsecureBase { url: String },
    #[error("the server sent an unsafe session bundle ({0}); refusing to connect")]
    UnsafeBundle(String),
    #[error("could not start the workspace: {0}")]
    StartFailed(String),
    #[error("could not stop the workspace: {0}")]
    StopFailed(String),
    #[error("{0}")]
    NotReady(String),
    #[error("no workspace is attached: run `runcode connect <workspace>` first")]
    NotAttached,
    #[error(
        "ssh is not installed or not on PATH: install the OpenSSH client (Debian/Ubuntu: `sudo apt-get install openssh-client`)"
    )]
    SshMissing,
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("login failed: {0}")]
    LoginFailed(String),
    #[error("interrupted")]
    Interrupted,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoToken => "no_token",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::RateLimited(_) => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::BadRequest(_) => "bad_request",
            Error::Http(_) => "http_error",
            Error::Network(_) => "network",
            Error::InsecureBase { .. } => "insecure_base",
            Error::UnsafeBundle(_) => "unsafe_bundle",
            Error::StartFailed(_) => "start_failed",
            Error::StopFailed(_) => "stop_failed",
            Error::NotReady(_) => "not_ready",
            Error::NotAttached => "not_attached",
            Error::SshMissing => "ssh_missing",
            Error::Usage(_) => "usage",
            Error::Io { .. } => "io",
            Error::LoginFailed(_) => "login_failed",
            Error::Interrupted => "interrupted",
        }
    }

    /// 1 for a local failure, 2 for usage, control-plane and security
    /// refusals, 130 when interrupted (cli.md).
    pub fn exit_status(&self) -> i32 {
        match self {
            Error::NoToken
            | Error::NotAttached
            | Error::SshMissing
            | Error::Io { .. }
            | Error::LoginFailed(_) => 1,
            Error::Interrupted => 130,
            _ => 2,
        }
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// Every stable code, for tests and docs.
pub const CODES: &[&str] = &[
    "no_token",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "rate_limited",
    "unavailable",
    "bad_request",
    "http_error",
    "network",
    "insecure_base",
    "unsafe_bundle",
    "start_failed",
    "stop_failed",
    "not_ready",
    "not_attached",
    "ssh_missing",
    "usage",
    "io",
    "login_failed",
];
