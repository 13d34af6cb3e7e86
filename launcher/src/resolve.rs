//! Steps 1 and 2 of the resolution order: `RUNCODE_BIN`, then a `runcode` on
//! `PATH` that is not a launcher.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::report::Report;

const EXE_NAME: &str = if cfg!(windows) {
    "runcode.exe"
} else {
    "runcode"
};

/// `RUNCODE_BIN` must name an executable file.
pub fn explicit(path: PathBuf) -> Result<PathBuf> {
    let reason = match fs::metadata(&path) {
        Err(e) => e.to_string(),
        Ok(m) if !m.is_file() => "not a regular file".to_owned(),
        Ok(m) if !is_executable(&m) => "not executable".to_owned(),
        Ok(_) => return Ok(path),
    };
    Err(Error::BadBin { path, reason })
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    true
}

/// The first `runcode` on `PATH` that is not this launcher, not in this
/// launcher's directory, and not in the plugin's `bin/` (the shim). Relative
/// `PATH` entries are ignored: a checkout must not be able to plant a
/// `runcode` that an agent then runs from its working directory.
pub fn on_path(report: &Report, exe: Option<&Path>, cache_bin: Option<&Path>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut own: Option<(Option<PathBuf>, Vec<PathBuf>)> = None;
    for dir in std::env::split_paths(&path) {
        if !dir.is_absolute() {
            continue;
        }
        let candidate = dir.join(EXE_NAME);
        let Ok(meta) = fs::metadata(&candidate) else {
            continue;
        };
        if !meta.is_file() || !is_executable(&meta) {
            continue;
        }
        // Canonical paths are worked out only once a candidate exists, so the
        // usual cached path pays for nothing but a few stats.
        let (own_exe, own_dirs) = own.get_or_insert_with(|| own_places(exe, cache_bin));
        let canonical = fs::canonicalize(&candidate).ok();
        if canonical.is_some() && canonical == *own_exe {
            report.debug(format_args!(
                "skipping {} (this launcher)",
                candidate.display()
            ));
            continue;
        }
        let dirs = [
            fs::canonicalize(&dir).ok(),
            canonical
                .as_deref()
                .and_then(Path::parent)
                .map(Path::to_path_buf),
        ];
        if dirs.iter().flatten().any(|d| own_dirs.contains(d)) {
            report.debug(format_args!(
                "skipping {} (the plugin's own bin/)",
                candidate.display()
            ));
            continue;
        }
        return Some(candidate);
    }
    None
}

/// This launcher's canonical path, and the directories that belong to the
/// plugin or the launcher: the launcher's own, `bin/` above a `launcher/`
/// directory, and the cache's `bin/` (the stable entry point and the cached
/// CLIs, which a PATH link made by `install-path` points into: running
/// those from PATH would bypass the plugin's pin).
fn own_places(exe: Option<&Path>, cache_bin: Option<&Path>) -> (Option<PathBuf>, Vec<PathBuf>) {
    let own = exe.and_then(|e| fs::canonicalize(e).ok());
    let mut dirs: Vec<PathBuf> = cache_bin
        .and_then(|b| fs::canonicalize(b).ok())
        .into_iter()
        .collect();
    if let Some(dir) = own.as_deref().and_then(Path::parent) {
        dirs.push(dir.to_path_buf());
        if dir.file_name().is_some_and(|n| n == "launcher")
            && let Some(bin) = dir.parent()
        {
            dirs.push(bin.to_path_buf());
        }
    }
    (own, dirs)
}
