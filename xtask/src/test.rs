//! `cargo xtask test`: the README's test command and what `.ci/run` calls.
//! Installs what is missing, checks formatting and lints, builds every binary
//! (the suites run the real ones), then runs every test.

use crate::{prereq, sh};

pub fn run(args: &[String]) -> Result<(), String> {
    prereq::openssh()?;
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
    let nextest = sh::cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if nextest {
        sh::run(
            sh::cargo()
                .args(["nextest", "run", "--workspace", "--no-fail-fast"])
                .args(args),
        )
    } else {
        sh::run(
            sh::cargo()
                .args(["test", "--workspace", "--no-fail-fast"])
                .args(args),
        )
    }
}
