//! `cargo xtask test`: the README's test command and what `.ci/run` calls.
//! Installs what is missing (OpenSSH, Ruby, and Claude Code and Codex from
//! npm into a cache outside the repository), checks formatting and lints,
//! builds every binary and `dist/` (the suites run the real ones), then runs
//! every test.

use crate::{prereq, sh};

pub fn run(args: &[String]) -> Result<(), String> {
    prereq::openssh()?;
    prereq::ruby()?;
    let npm = prereq::agent_clients()?;
    sh::run(sh::cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh::run(sh::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))?;
    sh::run(sh::cargo().args(["build", "--workspace", "--bins", "--quiet"]))?;
    // The plugin and release suites check what `dist` builds.
    crate::dist::run(&[])?;
    let nextest = sh::cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = sh::cargo();
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        cmd.args(["test", "--workspace", "--no-fail-fast"]);
    }
    // The plugin suite finds the clients through this variable.
    cmd.env("RUNCODE_TEST_NPM", &npm);
    sh::run(cmd.args(args))
}
