//! A devplane for the demo and the benchmarks: the release binary, built
//! first, run by the test-support crate's runner (`runcode_e2e::plane`).

use std::path::Path;
use std::process::Command;

pub use runcode_e2e::plane::Plane;

use crate::sh;

/// Builds and starts `runcode-devplane serve --data-dir <data> <args>`.
pub fn start(data: &Path, args: &[&str]) -> Result<Plane, String> {
    sh::run(sh::cargo().args([
        "build",
        "--locked",
        "--quiet",
        "--release",
        "-p",
        "runcode-devplane",
    ]))?;
    crate::prereq::openssh()?;
    Plane::spawn(
        Command::new(sh::root().join("target/release/runcode-devplane")),
        data,
        args,
    )
}
