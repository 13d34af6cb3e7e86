//! Running ssh for a command: stdio passed through untouched, the command's
//! own exit status returned, and one fresh mint and retry when ssh itself
//! fails with 255 (the gateway dropped or the key was reaped).

use std::ffi::OsString;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::{self, Session};
use crate::text::shell_quote;

/// While ssh runs, Ctrl-C belongs to it (the terminal sends it to both); the
/// CLI waits and passes on ssh's status. Otherwise Ctrl-C ends the CLI (130).
static CHILD: AtomicBool = AtomicBool::new(false);

pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if !CHILD.load(Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// The remote command line: `cd <workdir> && <words>`, the words joined by
/// spaces as `ssh host cmd...` does, so the remote shell sees what was typed.
pub fn command_line(workdir: Option<&str>, words: &[OsString]) -> String {
    let words: Vec<String> = words
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let joined = words.join(" ");
    match workdir {
        Some(dir) => format!("cd {} && {joined}", shell_quote(dir)),
        None => joined,
    }
}

pub fn spawn_status(mut cmd: Command) -> Result<ExitStatus> {
    CHILD.store(true, Ordering::SeqCst);
    let status = cmd.status();
    CHILD.store(false, Ordering::SeqCst);
    status.map_err(ssh_error)
}

/// An ssh that could not be started: not installed (`ssh_missing`), or
/// another local failure.
pub fn ssh_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        Error::SshMissing
    } else {
        Error::Io {
            path: "ssh".into(),
            source: e,
        }
    }
}

/// The process exit code for a child's status (128 + signal when killed).
pub fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

/// Runs `line` on the workspace of `session`; on ssh's 255, mints afresh and
/// tries once more. A second 255, or any other status, is returned as is.
pub fn run(ctx: &Ctx, session: &Session, line: &str) -> Result<i32> {
    let attempt = |s: &Session| {
        let mut cmd = s.ssh();
        cmd.arg(s.alias()).arg(line);
        spawn_status(cmd)
    };
    let status = attempt(session)?;
    if exit_code(status) != 255 {
        return Ok(exit_code(status));
    }
    ctx.out
        .progress("runcode: ssh failed (255): minting a fresh session and trying once more");
    session.close_master();
    let fresh = session::mint(ctx, session.meta.ws_id)?;
    Ok(exit_code(attempt(&fresh)?))
}
