//! Handing over to the resolved CLI. On Unix the launcher becomes it (`exec`),
//! so signals, the terminal and the exit status are the CLI's own. On Windows
//! it runs the CLI as a child with inherited stdio and exits with its code.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// Runs `path` with `args` untouched. `guard` is set as `RUNCODE_LAUNCHER`
/// when the target came from `PATH`, so a launcher found there never looks
/// on `PATH` again. Returns only on failure (Unix) or with the child's exit
/// code (Windows).
pub fn run(path: &Path, args: &[OsString], guard: Option<&Path>) -> Result<i32> {
    let mut command = Command::new(path);
    command.args(args);
    if let Some(guard) = guard {
        command.env("RUNCODE_LAUNCHER", guard);
    }
    platform_run(path, command)
}

#[cfg(unix)]
fn platform_run(path: &Path, mut command: Command) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let source = command.exec();
    Err(Error::Exec {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(windows)]
fn platform_run(path: &Path, mut command: Command) -> Result<i32> {
    // Ctrl-C reaches every process on the console, the CLI included; the
    // launcher only has to outlive it to pass on its exit code.
    let _ = ctrlc::set_handler(|| {});
    let status = command.status().map_err(|source| Error::Exec {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(status.code().unwrap_or(1))
}
