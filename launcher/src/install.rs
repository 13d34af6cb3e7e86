//! Download, verification and atomic publication of the pinned binary into the
//! cache's `bin/` directory, all under one OS file lock.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::archive::{self, Format};
use crate::checksums;
use crate::error::{Error, Result};
use crate::fetch::{Fetcher, Sink};
use crate::platform::Platform;
use crate::report::Report;

/// How long a launcher waits for another one that is installing.
const LOCK_WAIT: Duration = Duration::from_secs(600);
/// Binaries of other versions unused this long are removed on install.
const UNUSED: Duration = Duration::from_secs(30 * 24 * 3600);
/// Assets and checksum files larger than this are refused while downloading.
const MAX_ASSET: u64 = 1024 * 1024 * 1024;
const MAX_CHECKSUMS: u64 = 1024 * 1024;

pub struct Request<'a> {
    pub version: &'a str,
    pub platform: Platform,
    pub bases: &'a [String],
    /// The bundle's `RUNCODE_CHECKSUMS`, when it applies to `version`.
    pub pinned: Option<PathBuf>,
}

/// Makes sure `target` exists, downloading it if no other launcher did. On
/// return the file is complete and verified; on error nothing new is left.
pub fn ensure(report: &Report, bin_dir: &Path, target: &Path, req: &Request<'_>) -> Result<()> {
    fs::create_dir_all(bin_dir).map_err(Error::io(bin_dir))?;
    let _lock = lock(report, bin_dir)?;
    if target.is_file() {
        report.debug(format_args!(
            "another launcher installed {}",
            target.display()
        ));
        return Ok(());
    }
    sweep(report, bin_dir);
    report.say(format_args!(
        "fetching {} ({}/{}) ...",
        req.version, req.platform.os, req.platform.arch
    ));
    let fetcher = Fetcher::new(report);
    let asset = req.platform.asset();
    let mut last = None;
    for base in req.bases {
        match install_from(report, &fetcher, base, &asset, bin_dir, target, req) {
            Ok(()) => {
                tidy(report, bin_dir, target, req.platform);
                return Ok(());
            }
            Err(e) if e.is_verification() => return Err(e),
            Err(e) => {
                if req.bases.len() > 1 {
                    report.say(format_args!("{e}; trying the next mirror"));
                }
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or(Error::NoCacheDir))
}

/// The cleanup on its own, when the entry point moved to another version:
/// only if the lock is free right now (a launcher holding it tidies itself).
pub fn tidy_now(report: &Report, bin_dir: &Path, keep: &Path, platform: Platform) {
    let Ok(file) = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(bin_dir.join(".lock"))
    else {
        return;
    };
    if file.try_lock().is_ok() {
        tidy(report, bin_dir, keep, platform);
    }
}

/// Takes the OS lock on `bin/.lock`, waiting a bounded time. Dropping the
/// file releases it; so does the kernel when the holder dies.
fn lock(report: &Report, bin_dir: &Path) -> Result<File> {
    let path = bin_dir.join(".lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(&path))?;
    let started = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => return Err(Error::Io { path, source: e }),
        }
        if !said {
            report.say(format_args!(
                "waiting for another runcode launcher to finish downloading ..."
            ));
            said = true;
        }
        if started.elapsed() > LOCK_WAIT {
            return Err(Error::LockTimeout {
                secs: LOCK_WAIT.as_secs(),
                dir: bin_dir.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Removes staging files. Only a lock holder creates them, so under the lock
/// every one found belongs to a launcher that died.
fn sweep(report: &Report, bin_dir: &Path) {
    let Ok(entries) = fs::read_dir(bin_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if crate::staging::is_staging(&entry.file_name().to_string_lossy()) {
            report.debug(format_args!("removing stale {}", entry.path().display()));
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Removes binaries of other versions of this platform not run for 30 days,
/// except the one the stable entry point serves, however old.
fn tidy(report: &Report, bin_dir: &Path, keep: &Path, platform: Platform) {
    let Ok(entries) = fs::read_dir(bin_dir) else {
        return;
    };
    let served = bin_dir
        .parent()
        .and_then(crate::entry::served)
        .map(|v| bin_dir.join(platform.cached_name(&v)));
    let suffix = format!(
        "-{}-{}{}",
        platform.os,
        platform.arch,
        if platform.is_windows() { ".exe" } else { "" }
    );
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("runcode-")
            || !name.ends_with(&suffix)
            || entry.path() == keep
            || served.as_deref() == Some(entry.path().as_path())
        {
            continue;
        }
        let unused = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > UNUSED);
        if unused {
            report.debug(format_args!("removing {name}, unused for 30 days"));
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// A staging file that removes itself unless it was published.
struct Staging {
    path: PathBuf,
    file: File,
    hasher: Sha256,
}

impl Staging {
    fn create(bin_dir: &Path, tag: &str) -> Result<Staging> {
        let path = bin_dir.join(crate::staging::name(tag));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
        let file = options.open(&path).map_err(Error::io(&path))?;
        Ok(Staging {
            path,
            file,
            hasher: Sha256::new(),
        })
    }

    fn digest(&mut self) -> [u8; 32] {
        std::mem::take(&mut self.hasher).finalize().into()
    }
}

impl Write for Staging {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Sink for Staging {
    fn reset(&mut self) -> std::io::Result<()> {
        use std::io::Seek;
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.hasher = Sha256::new();
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn install_from(
    report: &Report,
    fetcher: &Fetcher<'_>,
    base: &str,
    asset: &str,
    bin_dir: &Path,
    target: &Path,
    req: &Request<'_>,
) -> Result<()> {
    let asset_url = format!("{base}/{asset}");
    let sums_url = format!("{base}/checksums.txt");

    let mut download = Staging::create(bin_dir, "download")?;
    fetcher
        .fetch(&asset_url, &mut download, MAX_ASSET, true)
        .map_err(|e| match e {
            Error::NotFound { url } => Error::MissingAsset {
                asset: asset.to_owned(),
                url,
            },
            other => other,
        })?;
    let actual = download.digest();

    let mut sums = Vec::new();
    fetcher.fetch(&sums_url, &mut sums, MAX_CHECKSUMS, false)?;
    let sums = String::from_utf8_lossy(&sums);
    let expected = match checksums::find(&sums, asset) {
        Ok(Some(d)) => d,
        Ok(None) => {
            return Err(Error::ChecksumMissing {
                url: sums_url,
                asset: asset.to_owned(),
            });
        }
        Err(checksums::Conflicting) => {
            return Err(Error::ChecksumConflict {
                url: sums_url,
                asset: asset.to_owned(),
            });
        }
    };
    if expected != actual {
        return Err(Error::ChecksumMismatch {
            url: asset_url,
            expected: checksums::to_hex(&expected),
            actual: checksums::to_hex(&actual),
        });
    }
    if let Some(pinned) = &req.pinned {
        check_pinned(pinned, asset, &actual)?;
    }
    report.debug(format_args!(
        "sha256 {} verified",
        checksums::to_hex(&actual)
    ));

    let mut binary = Staging::create(bin_dir, "bin")?;
    archive::extract(
        &mut download.file,
        Format::of(asset),
        req.platform.binary_entry(),
        &mut binary,
        archive::MAX_BINARY,
    )
    .map_err(|reason| Error::Archive {
        asset: asset.to_owned(),
        reason,
    })?;
    binary.file.sync_all().map_err(Error::io(&binary.path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&binary.path, fs::Permissions::from_mode(0o755))
            .map_err(Error::io(&binary.path))?;
    }
    fs::rename(&binary.path, target).map_err(Error::io(target))?;
    report.debug(format_args!("installed {}", target.display()));
    Ok(())
}

fn check_pinned(pinned: &Path, asset: &str, actual: &[u8; 32]) -> Result<()> {
    let text = fs::read_to_string(pinned).map_err(Error::io(pinned))?;
    match checksums::find(&text, asset) {
        Ok(Some(expected)) if &expected == actual => Ok(()),
        Ok(Some(expected)) => Err(Error::PinnedMismatch {
            asset: asset.to_owned(),
            pinned: pinned.to_path_buf(),
            expected: checksums::to_hex(&expected),
            actual: checksums::to_hex(actual),
        }),
        Ok(None) | Err(checksums::Conflicting) => Err(Error::PinnedMissing {
            asset: asset.to_owned(),
            pinned: pinned.to_path_buf(),
        }),
    }
}
