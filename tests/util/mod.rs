//! The suites' small harness: where the built binaries are, a scratch
//! directory per test with a plugin bundle laid out as users get it, and a
//! command builder with a scrubbed environment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use runcode_e2e::release;

/// The version the test bundles pin.
pub const VERSION: &str = "v0.0.0-test";

/// A binary built by cargo in this workspace (`cargo xtask test` builds them
/// all before the suites run).
pub fn built(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` (cargo xtask test does)",
        path.display()
    );
    path
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `dist/`, as `cargo xtask dist` left it (the test command builds it first).
pub fn dist() -> PathBuf {
    let dist = repo().join("dist");
    assert!(
        dist.join("plugin/bin/runcode").is_file(),
        "dist/ is missing: run `cargo xtask dist` (cargo xtask test does)"
    );
    dist
}

/// An agent client from npm (`claude`, `codex`); a loud failure, never a
/// skip, when it is missing.
pub fn npm_client(name: &str) -> PathBuf {
    let prefix = std::env::var_os("RUNCODE_TEST_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/runcode-test-npm")
        });
    let bin = prefix.join("node_modules/.bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo xtask test`, which installs @anthropic-ai/claude-code and @openai/codex into {}",
        bin.display(),
        prefix.display()
    );
    bin
}

/// Exit status, stdout and stderr, for a failure message.
pub fn both(out: &Output) -> String {
    format!(
        "status {:?}\nstdout {}\nstderr {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

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

/// Copies an executable into place with `install -m 755`. The file is written
/// by that child process only: were this (multi-threaded) test process to
/// hold it open for writing, a fork in another test thread could inherit the
/// descriptor and make running it fail with "Text file busy".
pub fn install_exe(from: &Path, to: &Path) {
    let status = Command::new("install")
        .arg("-m")
        .arg("755")
        .arg(from)
        .arg(to)
        .status()
        .expect("run install");
    assert!(
        status.success(),
        "install {} {}",
        from.display(),
        to.display()
    );
}

/// Writes an executable file holding `bytes` (see `install_exe`).
pub fn write_exe(to: &Path, bytes: &[u8]) {
    let source = to.with_file_name(format!(
        ".{}.src",
        to.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&source, bytes).unwrap();
    install_exe(&source, to);
    std::fs::remove_file(source).unwrap();
}

/// Runs a command to completion, with a readable failure when it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "expected success, got {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
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

/// `n` bytes that do not compress (xorshift), so archives keep their size.
pub fn noise(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}
pub mod agents;
pub mod devplane;
pub mod mcp;

/// Says why a leg of a test cannot run here. Used only where the machine,
/// not the product, decides (root-only namespaces, say). Under CI
/// (`CI=true`) as root, where the test command installed everything,
/// nothing may be skipped: it fails instead, so no step is ever skipped
/// silently.
#[allow(clippy::print_stderr)]
#[track_caller]
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false") || !is_root(),
        "a leg of this test cannot run, and CI skips nothing: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// Is this process root? (Some tests need it to reach a code path.)
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
pub mod cli;

/// Is `program` on the usual PATH?
pub fn is_installed(program: &str) -> bool {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .any(|d| Path::new(d).join(program).is_file())
}
