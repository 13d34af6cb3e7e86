//! The suites' small harness: where the built binaries are, a scratch
//! directory per test with a plugin bundle laid out as users get it, and a
//! command builder with a scrubbed environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use runcode_e2e::release;

pub use launcher::{World, assert_refused, assert_refused_json, payload, payload_args};

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
mod launcher;
pub mod mcp;

/// How often the waits below look again.
const POLL: Duration = Duration::from_millis(25);

/// Polls `check` until it gives a value, for at most `within`; None when it
/// never did.
pub fn poll<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until `check` holds; after `within`, the test fails, naming `what`.
#[track_caller]
pub fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    wait_for(what, within, || check().then_some(()));
}

/// Waits until `check` gives a value and returns it; after `within`, the
/// test fails, naming `what`.
#[track_caller]
pub fn wait_for<T>(what: &str, within: Duration, check: impl FnMut() -> Option<T>) -> T {
    match poll(within, check) {
        Some(value) => value,
        None => panic!("gave up after {within:?} waiting until {what}"),
    }
}

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
pub mod world;

/// Is `program` on the usual PATH?
pub fn is_installed(program: &str) -> bool {
    runcode_rules::program::find_in(program, ["/usr/bin", "/bin", "/usr/local/bin"]).is_some()
}

/// A port free on this machine's loopback now. The devplane's workspaces
/// share this loopback, so a forward's two ends must differ: bytes reaching
/// the local port then went through ssh.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
