//! The platform names of docs/launcher.md and the release asset they select.

use crate::error::{Error, Result};

/// One supported platform, as named in release assets and cache entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    pub os: &'static str,
    pub arch: &'static str,
}

impl Platform {
    /// Maps Rust's target names (what `uname` reports, in its own words) to
    /// the release's names; anything else is refused with the list we ship.
    pub fn from_parts(os: &str, arch: &str) -> Result<Platform> {
        let os_name = match os {
            "linux" => "linux",
            "macos" | "darwin" => "darwin",
            "windows" => "windows",
            _ => "",
        };
        let arch_name = match arch {
            "x86_64" | "amd64" => "amd64",
            "aarch64" | "arm64" => "arm64",
            _ => "",
        };
        if os_name.is_empty() || arch_name.is_empty() {
            return Err(Error::UnsupportedPlatform {
                os: os.to_owned(),
                arch: arch.to_owned(),
            });
        }
        Ok(Platform {
            os: os_name,
            arch: arch_name,
        })
    }

    pub fn current() -> Result<Platform> {
        Platform::from_parts(std::env::consts::OS, std::env::consts::ARCH)
    }

    pub fn is_windows(self) -> bool {
        self.os == "windows"
    }

    /// `runcode_<os>_<arch>.tar.gz`, or `.zip` on Windows.
    pub fn asset(self) -> String {
        let ext = if self.is_windows() { "zip" } else { "tar.gz" };
        format!("runcode_{}_{}.{ext}", self.os, self.arch)
    }

    /// The name of the binary inside the archive.
    pub fn binary_entry(self) -> &'static str {
        if self.is_windows() {
            "runcode.exe"
        } else {
            "runcode"
        }
    }

    /// `runcode-<version>-<os>-<arch>[.exe]`, the cache's name for a binary.
    pub fn cached_name(self, version: &str) -> String {
        let exe = if self.is_windows() { ".exe" } else { "" };
        format!("runcode-{version}-{}-{}{exe}", self.os, self.arch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_release_layout() {
        let p = Platform::from_parts("linux", "x86_64").unwrap();
        assert_eq!(p.asset(), "runcode_linux_amd64.tar.gz");
        assert_eq!(p.cached_name("v1.2.3"), "runcode-v1.2.3-linux-amd64");
        let w = Platform::from_parts("windows", "aarch64").unwrap();
        assert_eq!(w.asset(), "runcode_windows_arm64.zip");
        assert_eq!(w.binary_entry(), "runcode.exe");
        assert_eq!(w.cached_name("v1"), "runcode-v1-windows-arm64.exe");
        assert_eq!(
            Platform::from_parts("macos", "aarch64").unwrap().asset(),
            "runcode_darwin_arm64.tar.gz"
        );
    }

    #[test]
    fn other_platforms_are_refused_with_the_way_out() {
        let err = Platform::from_parts("freebsd", "x86_64")
            .unwrap_err()
            .to_string();
        assert!(err.contains("RUNCODE_BIN"), "{err}");
        assert!(Platform::from_parts("linux", "x86").is_err());
    }

    /// The launcher knows every platform of the release table (the tidy
    /// suite checks the shims, release.yml and the formula against it).
    #[test]
    fn knows_the_six_release_platforms() {
        for p in runcode_e2e::release::PLATFORMS {
            let ours = Platform::from_parts(p.os, p.arch).expect(p.target);
            assert_eq!(ours.asset(), p.asset());
            assert_eq!(ours.cached_name("v1"), p.cached_name("v1"));
        }
    }
}
