//! Release trees on disk, laid out as a GitHub release: one archive per
//! platform and a `checksums.txt`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::archive::{self, Entry};

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
    let bin = if cfg!(windows) {
        "runcode.exe"
    } else {
        "runcode"
    };
    let read = |name: &str| std::fs::read(root.join(name)).map_err(|e| format!("{name}: {e}"));
    let mut entries = vec![
        Entry::file("LICENSE", read("LICENSE")?, 0o644),
        Entry::file("README.md", read("README.md")?, 0o644),
        Entry::file(bin, cli.to_vec(), 0o755),
    ];
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(if cfg!(windows) {
        archive::zip(&entries)
    } else {
        archive::tar_gz(&entries)
    })
}
