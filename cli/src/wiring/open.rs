//! Handing something to the desktop: a program found on PATH the way the OS
//! finds it (`which`, so PATHEXT's `.exe`/`.cmd` on Windows), and a URL
//! opened with its registered handler (the browser for `https://`).

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The program `name` on PATH, or `ProgramMissing` with `hint` saying what
/// to install or run instead.
pub fn program(name: &str, hint: String) -> Result<PathBuf> {
    which::which(name).map_err(|_| Error::ProgramMissing {
        program: name.to_owned(),
        hint,
    })
}

/// The program and arguments that open `url` with its registered handler.
pub fn url_command(url: &str) -> (&'static str, Vec<String>) {
    if cfg!(target_os = "macos") {
        ("open", vec![url.to_owned()])
    } else if cfg!(windows) {
        // `start`'s first quoted argument is a window title: an empty one
        // keeps a quoted URL from being taken for it.
        let args = ["/C", "start", "", url];
        ("cmd", args.map(str::to_owned).to_vec())
    } else {
        ("xdg-open", vec![url.to_owned()])
    }
}

/// Opens `url` in the browser (or its handler); whether that worked.
pub fn url(url: &str) -> bool {
    let (program, args) = url_command(url);
    let mut cmd = std::process::Command::new(program);
    crate::remote::interrupt::quiet(cmd.args(args))
        .status()
        .is_ok_and(|s| s.success())
}
