//! `runcode-launcher`: finds the `runcode` CLI to run (an explicit override,
//! one already on PATH, a cached copy, or a verified download of the pinned
//! release) and hands over to it. See docs/launcher.md for the contract.

mod entry;
mod error;
mod fetch;
mod handover;
mod install;
mod knobs;
mod platform;
mod proxy;
mod report;
mod resolve;
mod staging;

// The parsers are also the library the fuzz targets link (lib.rs); the
// binary compiles them as its own modules: as one crate, LTO lays the
// launcher out 4 KiB smaller than when it links its own library (P7).
mod archive;
mod checksums;
mod url;

use std::env;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use error::{Error, Result};
use platform::Platform;
use report::Report;

fn main() {
    let args: Vec<OsString> = env::args_os().skip(1).collect();
    let report = Report::new(knobs::debug_enabled());
    let err = match launch(&report, &args) {
        Ok(code) => std::process::exit(code),
        Err(err) => err,
    };
    // The status line must never show an error in the user's status bar
    // (the plugin may be gone, the machine offline): nothing, exit 0.
    if is_statusline(args.as_slice()) {
        report.debug(format_args!("statusline: {err}"));
        std::process::exit(0);
    }
    report.failure(&err.to_string(), wants_json(&args));
    std::process::exit(1);
}

/// `runcode statusline ...`: runs every second or so, must never fail
/// visibly, and never waits on the network (nothing attached can need a CLI
/// that was never downloaded).
fn is_statusline(args: &[OsString]) -> bool {
    args.first().is_some_and(|a| a == "statusline")
}

/// `--json` among the CLI's own arguments (those before a `--`).
fn wants_json(args: &[OsString]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

fn launch(report: &Report, args: &[OsString]) -> Result<i32> {
    if let Some(bin) = knobs::var_os("RUNCODE_BIN") {
        let path = resolve::explicit(PathBuf::from(bin))?;
        report.debug(format_args!("RUNCODE_BIN: running {}", path.display()));
        return handover::run(&path, args, None);
    }

    let exe = env::current_exe().ok();
    let stable = exe.as_deref().and_then(entry::stable_root);
    let cache = match &stable {
        Some(root) => Ok(root.clone()),
        None => knobs::cache_root(),
    };
    if knobs::var_os("RUNCODE_LAUNCHER").is_some() {
        report.debug(format_args!("RUNCODE_LAUNCHER is set: not looking on PATH"));
    } else if let Some(found) = resolve::on_path(
        report,
        exe.as_deref(),
        cache.as_ref().ok().map(|c| c.join("bin")).as_deref(),
    ) {
        report.debug(format_args!("PATH: running {}", found.display()));
        let me = exe
            .clone()
            .unwrap_or_else(|| PathBuf::from("runcode-launcher"));
        return handover::run(&found, args, Some(&me));
    }

    let platform = Platform::current()?;
    if let Some(root) = &stable {
        return serve_stable(report, root, platform, args);
    }
    let pin = knobs::pin(&start_dirs(exe.as_deref()))?;
    let cache = cache?;
    let bin_dir = cache.join("bin");
    let target = bin_dir.join(platform.cached_name(&pin.version));
    // What the plugin's own pin serves becomes what the stable entry point
    // serves (a one-off RUNCODE_PIN_VERSION does not).
    // When it moves to a new version, the versions left behind and unused
    // for 30 days go.
    let publish = || {
        if let Some(exe) = &exe
            && pin.bundled.as_deref() == Some(pin.version.as_str())
            && entry::publish(report, &cache, exe, &pin.version)
        {
            install::tidy_now(report, &bin_dir, &target, platform);
        }
    };
    if let Ok(meta) = std::fs::metadata(&target)
        && meta.is_file()
    {
        report.debug(format_args!("cache: running {}", target.display()));
        mark_used(&target, &meta);
        publish();
        return handover::run(&target, args, None);
    }

    if is_statusline(args) {
        report.debug(format_args!("statusline: no cached CLI, nothing to show"));
        return Ok(0);
    }
    let bases = knobs::bases(&pin.version);
    if let Some(bad) = bases.iter().find(|b| !url::allowed_base(b)) {
        return Err(Error::InsecureUrl { url: bad.clone() });
    }
    // The bundle's pinned digests apply to the bundled version only: a user
    // who pins another version with RUNCODE_PIN_VERSION relies on its
    // checksums.txt alone.
    let pinned = match (&pin.bundled, &pin.dir) {
        (Some(bundled), Some(dir)) if *bundled == pin.version => {
            Some(dir.join("RUNCODE_CHECKSUMS")).filter(|p| p.is_file())
        }
        _ => None,
    };
    report.debug(format_args!("cache miss: {}", target.display()));
    let request = install::Request {
        version: &pin.version,
        platform,
        bases: &bases,
        pinned,
    };
    install::ensure(report, &bin_dir, &target, &request)?;
    publish();
    handover::run(&target, args, None)
}

/// The stable entry point: the recorded version from the cache, else the
/// most recently used cached CLI (the record's version was removed by
/// hand), else a verified download of the recorded version.
fn serve_stable(
    report: &Report,
    cache: &Path,
    platform: Platform,
    args: &[OsString],
) -> Result<i32> {
    let bin_dir = cache.join("bin");
    let version = entry::served(cache);
    if let Some(version) = &version {
        let target = bin_dir.join(platform.cached_name(version));
        if let Ok(meta) = std::fs::metadata(&target)
            && meta.is_file()
        {
            report.debug(format_args!("entry point: running {}", target.display()));
            mark_used(&target, &meta);
            return handover::run(&target, args, None);
        }
    }
    if let Some(newest) = entry::newest_cached(&bin_dir, platform) {
        report.debug(format_args!("entry point: running {}", newest.display()));
        return handover::run(&newest, args, None);
    }
    if is_statusline(args) {
        return Ok(0);
    }
    let Some(version) = version else {
        return Err(Error::NoVersion {
            searched: cache.join(entry::RECORD),
        });
    };
    let target = bin_dir.join(platform.cached_name(&version));
    let bases = knobs::bases(&version);
    if let Some(bad) = bases.iter().find(|b| !url::allowed_base(b)) {
        return Err(Error::InsecureUrl { url: bad.clone() });
    }
    let request = install::Request {
        version: &version,
        platform,
        bases: &bases,
        pinned: None,
    };
    install::ensure(report, &bin_dir, &target, &request)?;
    handover::run(&target, args, None)
}

/// Where to look for `RUNCODE_VERSION`: beside the launcher's own file, then
/// beside the path it was started as (a symlink, say).
fn start_dirs(exe: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = exe
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    if let Some(arg0) = env::args_os().next().map(PathBuf::from)
        && arg0.components().count() > 1
        && let Some(dir) = arg0.parent().filter(|d| !dirs.iter().any(|x| x == d))
    {
        dirs.push(dir.to_path_buf());
    }
    dirs
}

/// Records that the cached binary was used (its mtime), so that tidying
/// keeps it. Written at most once a day (from the one stat the cached path
/// already made); failures do not matter.
fn mark_used(target: &Path, meta: &std::fs::Metadata) {
    let day = Duration::from_secs(24 * 3600);
    let fresh = meta
        .modified()
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age < day);
    if fresh {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(windows)]
    std::os::windows::fs::OpenOptionsExt::access_mode(&mut options, 0x100); // FILE_WRITE_ATTRIBUTES
    if let Ok(file) = options.open(target) {
        let _ = file.set_modified(SystemTime::now());
    }
}
