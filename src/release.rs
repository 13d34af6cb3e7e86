//! Release trees on disk, laid out as a GitHub release: one archive per
//! platform and a `checksums.txt`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::{self, Entry};

/// Where a release platform's binaries come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// `cargo xtask dist` builds it on Linux (cross toolchains from Debian),
    /// and the test command runs it (natively, under qemu-user or Wine).
    Here,
    /// Type-checked and linted here; built and tested by the release
    /// workflow on a runner of its own OS (its C and linker need the vendor
    /// SDK).
    Workflow,
}

/// One platform the release ships, with the Rust target that builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub os: &'static str,
    pub arch: &'static str,
    pub target: &'static str,
    pub made: Made,
}

/// The six platforms, in the order reports list them. The shims, the
/// launcher, release.yml and the formula must name the same ones (a tidy
/// test checks).
pub const PLATFORMS: [Platform; 6] = [
    Platform::new("linux", "amd64", "x86_64-unknown-linux-musl", Made::Here),
    Platform::new("linux", "arm64", "aarch64-unknown-linux-musl", Made::Here),
    Platform::new("windows", "amd64", "x86_64-pc-windows-gnu", Made::Here),
    Platform::new(
        "windows",
        "arm64",
        "aarch64-pc-windows-msvc",
        Made::Workflow,
    ),
    Platform::new("darwin", "amd64", "x86_64-apple-darwin", Made::Workflow),
    Platform::new("darwin", "arm64", "aarch64-apple-darwin", Made::Workflow),
];

impl Platform {
    const fn new(os: &'static str, arch: &'static str, target: &'static str, made: Made) -> Self {
        Platform {
            os,
            arch,
            target,
            made,
        }
    }

    pub fn named(os: &str, arch: &str) -> Option<Platform> {
        PLATFORMS.into_iter().find(|p| p.os == os && p.arch == arch)
    }

    pub fn host() -> Option<Platform> {
        Platform::named(host_os(), host_arch())
    }

    pub fn windows(self) -> bool {
        self.os == "windows"
    }

    /// `.exe` on Windows.
    pub fn exe(self) -> &'static str {
        if self.windows() { ".exe" } else { "" }
    }

    /// `runcode_<os>_<arch>.tar.gz`, `.zip` on Windows.
    pub fn asset(self) -> String {
        let ext = if self.windows() { "zip" } else { "tar.gz" };
        format!("runcode_{}_{}.{ext}", self.os, self.arch)
    }

    /// The launcher's file name in the bundle's `bin/launcher/`.
    pub fn launcher(self) -> String {
        format!("runcode-launcher-{}-{}{}", self.os, self.arch, self.exe())
    }

    /// The launcher's cache name for the CLI of `version`.
    pub fn cached_name(self, version: &str) -> String {
        format!("runcode-{version}-{}-{}{}", self.os, self.arch, self.exe())
    }

    /// `linux/amd64`, for reports.
    pub fn label(self) -> String {
        format!("{}/{}", self.os, self.arch)
    }
}

/// This machine's release names, as the launcher computes them.
pub fn host_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `runcode_<os>_<arch>.tar.gz` (`.zip` on Windows) for this machine.
pub fn host_asset() -> String {
    let ext = if cfg!(windows) { "zip" } else { "tar.gz" };
    format!("runcode_{}_{}.{ext}", host_os(), host_arch())
}

/// `runcode-<version>-<os>-<arch>`, the launcher's cache name.
pub fn cached_name(version: &str) -> String {
    let exe = if cfg!(windows) { ".exe" } else { "" };
    format!("runcode-{version}-{}-{}{exe}", host_os(), host_arch())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The standard release archive holding `binary` as `runcode`.
pub fn standard_archive(binary: &[u8]) -> Vec<u8> {
    let name = if cfg!(windows) {
        "runcode.exe"
    } else {
        "runcode"
    };
    let entries = [
        Entry::file("LICENSE", b"MIT".to_vec(), 0o644),
        Entry::file("README.md", b"runcode".to_vec(), 0o644),
        Entry::file(name, binary.to_vec(), 0o755),
    ];
    if cfg!(windows) {
        archive::zip(&entries)
    } else {
        archive::tar_gz(&entries)
    }
}

/// A release directory under construction.
pub struct Tree {
    pub dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
}

impl Tree {
    pub fn new(dir: &Path) -> Tree {
        std::fs::create_dir_all(dir).expect("create release dir");
        Tree {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        }
    }

    /// Adds an asset; it will be listed in `checksums.txt` with its true digest.
    pub fn asset(mut self, name: &str, bytes: Vec<u8>) -> Tree {
        self.files.push((name.to_owned(), bytes));
        self
    }

    /// Writes every asset and a `checksums.txt` listing them, sorted by name.
    pub fn write(mut self) -> PathBuf {
        self.files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut sums = String::new();
        for (name, bytes) in &self.files {
            std::fs::write(self.dir.join(name), bytes).expect("write asset");
            let _ = writeln!(sums, "{}  {name}", sha256_hex(bytes));
        }
        std::fs::write(self.dir.join("checksums.txt"), sums).expect("write checksums");
        self.dir
    }
}

/// `file://` URL for a local directory.
pub fn file_url(dir: &Path) -> String {
    let text = dir.to_string_lossy().replace('\\', "/");
    let text = text.replace('%', "%25").replace(' ', "%20");
    if text.starts_with('/') {
        format!("file://{text}")
    } else {
        format!("file:///{text}")
    }
}

/// The published archive for this machine: `runcode` (`runcode.exe`),
/// `LICENSE` and `README.md` from `root`, sorted, mtime 0, uid/gid 0, fixed
/// modes, so the same inputs always give the same bytes.
pub fn release_archive(root: &Path, cli: &[u8]) -> Result<Vec<u8>, String> {
    let host = Platform::host().ok_or("this machine is not a release platform")?;
    platform_archive(root, cli, host)
}

/// The published archive of `platform`: a zip holding `runcode.exe` for
/// Windows, else a gzip tar holding `runcode`.
pub fn platform_archive(root: &Path, cli: &[u8], platform: Platform) -> Result<Vec<u8>, String> {
    let bin = format!("runcode{}", platform.exe());
    let read = |name: &str| std::fs::read(root.join(name)).map_err(|e| format!("{name}: {e}"));
    let mut entries = vec![
        Entry::file("LICENSE", read("LICENSE")?, 0o644),
        Entry::file("README.md", read("README.md")?, 0o644),
        Entry::file(&bin, cli.to_vec(), 0o755),
    ];
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(if platform.windows() {
        archive::zip(&entries)
    } else {
        archive::tar_gz(&entries)
    })
}
