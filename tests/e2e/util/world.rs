//! The test context most suites start from, written once: a scratch folder
//! of the test's own, a devplane with workspace #1001 attached in a scratch
//! HOME, and the questions tests ask of the workspace's processes.

use std::path::PathBuf;

use super::cli::Cli;
use super::devplane::Devplane;

/// A scratch folder of the test's own, removed when dropped; `prefix`
/// names the suite, so a leftover says whose it was.
pub fn scratch(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("rc-{prefix}-"))
        .tempdir()
        .unwrap()
}

/// A devplane, a CLI in a scratch HOME, and workspace #1001 attached: the
/// devplane, the CLI and the workspace's project folder.
pub fn attached() -> (Devplane, Cli, PathBuf) {
    attached_with(&[])
}

/// `attached`, with the devplane started with `args`.
pub fn attached_with(args: &[&str]) -> (Devplane, Cli, PathBuf) {
    let dp = Devplane::start(args);
    let cli = Cli::new(&dp);
    let workdir = PathBuf::from(cli.ok(&["connect", "1001"])["workdir"].as_str().unwrap());
    (dp, cli, workdir)
}

/// Processes on the workspace side whose command line holds `needle` (not
/// the CLI, nor its ssh).
pub fn running(needle: &str) -> Vec<String> {
    runcode_e2e::procs::mentioning(&[needle])
        .into_iter()
        .filter(|p| !p.contains("/runcode ") && !p.contains(": ssh "))
        .collect()
}

/// A `sleep` argument no other test (nor another run of this suite)
/// starts, since the process table is the whole machine's: `salt` tells
/// the callers in one test binary apart.
pub fn unique_sleep(salt: u32) -> String {
    format!("{salt}{}", std::process::id())
}
