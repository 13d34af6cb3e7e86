//! The API token: `--token`, else `RUNCODE_TOKEN` (clap reads both into one
//! flag), else the first line of the token file.

use crate::error::{Error, Result};
use crate::paths::{self, Paths};

/// Where the token in use came from (doctor names it, never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    File,
}

pub fn lookup(flag: Option<&str>, paths: &Paths) -> Result<(String, Source)> {
    if let Some(token) = flag.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok((token.to_owned(), Source::Flag));
    }
    match std::fs::read_to_string(paths.token()) {
        Ok(text) => match text.lines().next().map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => Ok((token.to_owned(), Source::File)),
            None => Err(Error::NoToken),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NoToken),
        Err(e) => Err(Error::Io {
            path: paths.token(),
            source: e,
        }),
    }
}

/// What overrides the saved token for this run, when `flag` (from
/// `--token` or `RUNCODE_TOKEN`) is set: named as the user set it.
pub fn overridden_by(flag: Option<&str>) -> Option<&'static str> {
    flag.filter(|t| !t.trim().is_empty())?;
    Some(
        if std::env::var_os("RUNCODE_TOKEN").is_some_and(|v| !v.is_empty()) {
            "RUNCODE_TOKEN"
        } else {
            "--token"
        },
    )
}

/// Saves the token: file 0600 in a 0700 directory.
pub fn save(paths: &Paths, token: &str) -> Result<()> {
    if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::LoginFailed(
            "the token is empty or holds spaces or control characters".to_owned(),
        ));
    }
    paths::private_dir(&paths.config)?;
    paths::write_private(&paths.token(), format!("{token}\n").as_bytes(), 0o600)
}
