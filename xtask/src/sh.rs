//! Running commands from tasks: `$CARGO` rather than `cargo`, the repository
//! root as working directory, and failures that say which command failed.

use std::path::PathBuf;
use std::process::Command;

/// The checkout tasks build: this one, or, while `elsewhere` runs, a copy
/// of it in another place (`dist::elsewhere`).
pub fn root() -> PathBuf {
    if let Some(other) = ELSEWHERE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
    {
        return other;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

static ELSEWHERE: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Runs `f` with `root()` answering `other`.
pub fn elsewhere<T>(other: &std::path::Path, f: impl FnOnce() -> T) -> T {
    struct Back;
    impl Drop for Back {
        fn drop(&mut self) {
            *ELSEWHERE
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }
    *ELSEWHERE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(other.to_path_buf());
    let _back = Back;
    f()
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd`, echoing it first; an error names it.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {}", show(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", show(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", show(cmd)))
    }
}

pub fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn on_path(program: &str) -> Option<PathBuf> {
    runcode_rules::program::find(program)
}
