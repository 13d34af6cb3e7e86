//! What the launcher reads from its surroundings: the environment variables of
//! docs/launcher.md and the `RUNCODE_VERSION` / `RUNCODE_CHECKSUMS` files of the bundle.

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const DEFAULT_BASE: &str = "https://github.com/runcode-io/runcode-cli/releases/download";

/// Reads a variable, treating an empty value as unset (as shells do when a
/// user writes `VAR= cmd`).
pub fn var_os(name: &str) -> Option<OsString> {
    env::var_os(name).filter(|v| !v.is_empty())
}

pub fn debug_enabled() -> bool {
    var_os("RUNCODE_LAUNCHER_DEBUG").is_some_and(|v| v != "0")
}

/// The version pinned by the bundle, and where it was found.
pub struct Pin {
    /// The version to run: `RUNCODE_PIN_VERSION`, else the bundle's file.
    pub version: String,
    /// The bundle's own version (the file's content), when there is a file.
    pub bundled: Option<String>,
    /// The directory holding `RUNCODE_VERSION`, where `RUNCODE_CHECKSUMS` lives too.
    pub dir: Option<PathBuf>,
}

/// Looks for `RUNCODE_VERSION` in each start directory and up to three of its
/// parents, then applies `RUNCODE_PIN_VERSION` on top.
pub fn pin(starts: &[PathBuf]) -> Result<Pin> {
    let mut found = None;
    'outer: for start in starts {
        for dir in start.ancestors().take(4) {
            let file = dir.join("RUNCODE_VERSION");
            if let Ok(text) = std::fs::read_to_string(&file) {
                found = Some((text.trim().to_owned(), dir.to_path_buf()));
                break 'outer;
            }
        }
    }
    let (bundled, dir) = match found {
        Some((v, dir)) if !v.is_empty() => (Some(v), Some(dir)),
        Some((_, dir)) => (None, Some(dir)),
        None => (None, None),
    };
    let pinned = var_os("RUNCODE_PIN_VERSION").map(|v| v.to_string_lossy().trim().to_owned());
    let Some(version) = pinned.filter(|v| !v.is_empty()).or_else(|| bundled.clone()) else {
        let searched = starts.first().cloned().unwrap_or_default();
        return Err(Error::NoVersion { searched });
    };
    check_version(&version)?;
    Ok(Pin {
        version,
        bundled,
        dir,
    })
}

/// The version goes into a URL and a file name: `^[A-Za-z0-9._+-]+$`, no `..`.
pub fn check_version(version: &str) -> Result<()> {
    let charset_ok = !version.is_empty()
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
    if charset_ok && !version.contains("..") {
        Ok(())
    } else {
        Err(Error::BadVersion {
            version: version.to_owned(),
        })
    }
}

/// `RUNCODE_CACHE`, else `$XDG_CACHE_HOME/runcode`, else `~/.cache/runcode`
/// (Windows: `%LOCALAPPDATA%\runcode`).
pub fn cache_root() -> Result<PathBuf> {
    if let Some(dir) = var_os("RUNCODE_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(xdg) = var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return Ok(xdg.join("runcode"));
    }
    if cfg!(windows)
        && let Some(local) = var_os("LOCALAPPDATA")
    {
        return Ok(PathBuf::from(local).join("runcode"));
    }
    let home = var_os("HOME").or_else(|| {
        if cfg!(windows) {
            var_os("USERPROFILE")
        } else {
            None
        }
    });
    home.map(|h| Path::new(&h).join(".cache").join("runcode"))
        .ok_or(Error::NoCacheDir)
}

/// The download bases to try, in order: `RUNCODE_DOWNLOAD_BASE` split on
/// whitespace, else the GitHub release of `version`.
pub fn bases(version: &str) -> Vec<String> {
    match env::var("RUNCODE_DOWNLOAD_BASE") {
        Ok(list) if !list.trim().is_empty() => list
            .split_whitespace()
            .map(|b| b.trim_end_matches('/').to_owned())
            .collect(),
        _ => vec![format!("{DEFAULT_BASE}/{version}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_checked_for_url_and_file_safety() {
        for good in ["v0.1.0", "1.2.3-rc.1+build", "V_9"] {
            check_version(good).unwrap();
        }
        for bad in ["", "v1..2", "..", "v1/2", "v1 2", "v1%2f", "v1\n", "ü"] {
            assert!(check_version(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_version_file_is_found_up_to_three_parents_and_trimmed() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(tmp.path().join("RUNCODE_VERSION"), "  v9.9.9 \n").unwrap();
        let pin = pin(std::slice::from_ref(&deep)).unwrap();
        assert_eq!(pin.version, "v9.9.9");
        assert_eq!(pin.dir.as_deref(), Some(tmp.path()));
        // Four levels up is too far.
        let deeper = deep.join("d");
        std::fs::create_dir_all(&deeper).unwrap();
        if env::var_os("RUNCODE_PIN_VERSION").is_none() {
            assert!(super::pin(&[deeper]).is_err());
        }
    }
}
