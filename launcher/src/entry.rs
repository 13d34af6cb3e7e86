//! The stable entry point (docs/launcher.md, "Stable entry point"): a copy
//! of the launcher at `<cache>/bin/runcode` (`runcode.exe` on Windows) that
//! other programs' configuration names, and `<cache>/entry`, which records
//! the version it serves. Like rustup's proxies, the copy stays put while
//! versions come and go: a plugin update moves the record, the cleanup of
//! old versions never removes the recorded one, and a removed plugin leaves
//! the copy serving the last version it ran.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::platform::Platform;
use crate::report::Report;

/// The record, at the cache root: the version, then the stamp (size and
/// modification time) of the launcher the copy was made from.
pub const RECORD: &str = "entry";

const EXE: &str = if cfg!(windows) {
    "runcode.exe"
} else {
    "runcode"
};

/// `<cache>/bin/runcode[.exe]`.
pub fn stable_path(cache: &Path) -> PathBuf {
    cache.join("bin").join(EXE)
}

/// The cache root when `exe` is the stable copy itself (named `runcode` in
/// a `bin/` whose parent holds the record).
pub fn stable_root(exe: &Path) -> Option<PathBuf> {
    if exe.file_name()? != EXE {
        return None;
    }
    let bin = exe.parent()?;
    if bin.file_name()? != "bin" {
        return None;
    }
    let root = bin.parent()?;
    root.join(RECORD).is_file().then(|| root.to_path_buf())
}

/// The version the entry point serves, if one was recorded.
pub fn served(cache: &Path) -> Option<String> {
    let text = fs::read_to_string(cache.join(RECORD)).ok()?;
    let version = text.lines().next()?.trim();
    crate::knobs::check_version(version)
        .is_ok()
        .then(|| version.to_owned())
}

/// Records `version` as the one served and keeps the stable copy the same
/// build as `exe` (the launcher now running, from the plugin). One small
/// read when nothing changed; best effort otherwise (a copy in use on
/// Windows cannot be replaced: the next run tries again). True when the
/// served version moved.
pub fn publish(report: &Report, cache: &Path, exe: &Path, version: &str) -> bool {
    let Some(stamp) = stamp(exe) else {
        return false;
    };
    let want = format!("{version}\n{stamp}\n");
    let have = fs::read_to_string(cache.join(RECORD)).unwrap_or_default();
    if have == want {
        return false;
    }
    let moved = have.lines().next() != Some(version);
    let stable = stable_path(cache);
    if have.lines().nth(1) != Some(stamp.as_str()) || !stable.is_file() {
        if let Err(e) = copy_into_place(exe, &stable) {
            report.debug(format_args!("could not update {}: {e}", stable.display()));
            return false;
        }
        report.debug(format_args!("entry point: {}", stable.display()));
    }
    let tmp = cache.join(format!(".{RECORD}-{}", std::process::id()));
    if fs::write(&tmp, &want).is_ok() && fs::rename(&tmp, cache.join(RECORD)).is_ok() {
        report.debug(format_args!("entry point serves {version}"));
        moved
    } else {
        let _ = fs::remove_file(&tmp);
        false
    }
}

fn stamp(exe: &Path) -> Option<String> {
    let meta = fs::metadata(exe).ok()?;
    let secs = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(format!("{}-{secs}", meta.len()))
}

/// Copies `from` beside `to` under a staging name (swept if we die), then
/// renames it into place in one step.
fn copy_into_place(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(crate::staging::name("entry"));
    let result = fs::copy(from, &tmp).and_then(|_| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
        }
        fs::rename(&tmp, to)
    });
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The most recently used cached CLI of this platform, for an entry point
/// whose recorded version is gone.
pub fn newest_cached(bin: &Path, platform: Platform) -> Option<PathBuf> {
    let suffix = format!(
        "-{}-{}{}",
        platform.os,
        platform.arch,
        if platform.is_windows() { ".exe" } else { "" }
    );
    fs::read_dir(bin)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("runcode-") && name.ends_with(&suffix)
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}
