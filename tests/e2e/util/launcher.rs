//! The launcher's world: a scratch HOME and cache with a plugin bundle laid
//! out as users get it (the real shim, the real launcher, a pinned
//! version), a stand-in CLI that reports how it was run, and the checks of a
//! launcher's refusal.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{VERSION, built, install_exe, release, repo, stderr};

/// A stand-in for the CLI: prints its arguments NUL-separated on stdout,
/// names itself and the loop guard on stderr, and exits with `$PAYLOAD_EXIT`.
pub fn payload(id: &str) -> Vec<u8> {
    format!(
        "#!/bin/sh\nprintf 'payload={id} guard=%s\\n' \"${{RUNCODE_LAUNCHER:-}}\" >&2\nprintf '%s\\0' \"$@\"\nexit \"${{PAYLOAD_EXIT:-0}}\"\n"
    )
    .into_bytes()
}

/// A scratch world: HOME, cache, and a plugin bundle whose `bin/` holds the
/// real shim, the real launcher and a `RUNCODE_VERSION`.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub cache: PathBuf,
    pub bundle_bin: PathBuf,
    pub launcher: PathBuf,
    pub shim: PathBuf,
}

impl World {
    pub fn new() -> World {
        let tmp = tempfile::Builder::new()
            .prefix("rc-test-")
            .tempdir()
            .expect("tempdir");
        let home = tmp.path().join("home");
        let cache = tmp.path().join("cache");
        let bundle_bin = tmp.path().join("plugin/bin");
        std::fs::create_dir_all(bundle_bin.join("launcher")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let launcher = bundle_bin.join(format!(
            "launcher/runcode-launcher-{}-{}",
            release::host_os(),
            release::host_arch()
        ));
        install_exe(&built("runcode-launcher"), &launcher);
        let shim = bundle_bin.join("runcode");
        install_exe(&repo().join("plugin/bin/runcode"), &shim);
        std::fs::write(bundle_bin.join("RUNCODE_VERSION"), format!("{VERSION}\n")).unwrap();
        World {
            tmp,
            home,
            cache,
            bundle_bin,
            launcher,
            shim,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// A command with nothing of the caller's environment but a minimal PATH.
    pub fn cmd(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("RUNCODE_CACHE", &self.cache)
            .current_dir(self.tmp.path());
        cmd
    }

    pub fn launcher(&self) -> Command {
        self.cmd(&self.launcher)
    }

    pub fn shim(&self) -> Command {
        self.cmd(&self.shim)
    }

    /// The names in the cache's `bin/` directory, sorted.
    pub fn cache_entries(&self) -> Vec<String> {
        let Ok(dir) = std::fs::read_dir(self.cache.join("bin")) else {
            return Vec::new();
        };
        let mut names: Vec<String> = dir
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// After a failure: no `runcode-*` binary and no staging file remain.
    pub fn assert_cache_clean(&self) {
        let left: Vec<String> = self
            .cache_entries()
            .into_iter()
            .filter(|n| n != ".lock")
            .collect();
        assert!(
            left.is_empty(),
            "cache bin/ should hold nothing after a failure, found {left:?}"
        );
    }

    /// The release directory `rel` with a standard archive of `binary`.
    pub fn release(&self, rel: &str, binary: &[u8]) -> PathBuf {
        release::Tree::new(&self.path(rel))
            .asset(&release::host_asset(), release::standard_archive(binary))
            .write()
    }
}

/// The payload's arguments, decoded from its NUL-separated stdout.
pub fn payload_args(out: &Output) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    assert_eq!(
        args.pop().as_deref(),
        Some(&b""[..]),
        "payload output ends with a NUL: {:?}",
        out.stdout
    );
    args
}

#[track_caller]
pub fn assert_refused(out: &Output, needle: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1; stderr: {}",
        stderr(out)
    );
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout without --json, got {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = stderr(out);
    assert!(
        err.contains(needle),
        "stderr should mention {needle:?}: {err}"
    );
    assert!(
        !err.contains("payload="),
        "the payload must not have run: {err}"
    );
}

/// A refusal under `--json`: exit 1, the reason on stderr, and the one
/// `launcher_failed` object on stdout, which it answers.
pub fn assert_refused_json(out: &Output, needle: &str) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(out));
    assert!(stderr(out).contains(needle), "{needle:?}: {}", stderr(out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(v["error"], "launcher_failed", "{v}");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains(needle)),
        "{v}"
    );
    v
}
