//! The OpenSSH master, opened ahead of the first command: `connect` starts
//! `runcode warm-master <id>` apart from itself and returns; that process
//! holds `master.lock` in the session directory while `ssh -N -f` opens the
//! master (ssh goes to the background once the master's socket listens).
//! An OpenSSH command that comes meanwhile waits for the lock to free
//! instead of opening a second connection, then finds the master up; if the
//! master could not be opened it goes on as it always did and opens one of
//! its own. docs/sessions.md ("The first command is warm").

use std::path::Path;
use std::time::{Duration, Instant};

use crate::paths::{self, Paths};
use crate::remote::ssh::{self, Control, Streams};
use crate::session::{self, Session};

/// How long `connect` waits for the warmer to take its lock: a process
/// start, a few milliseconds; past this the first command simply opens the
/// master itself.
const TAKEN_WAIT: Duration = Duration::from_secs(2);

/// Starts opening the session's master in the background, unless one runs
/// already; returns once the warmer holds its lock (or gave no sign of it
/// within `TAKEN_WAIT`).
pub fn start(session: &Session) {
    let Some(socket) = session.meta.control_path.as_deref() else {
        return;
    };
    if socket.exists() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("warm-master")
        .arg(session.meta.ws_id.to_string())
        .env_remove(crate::output::RESULT_FILE_VAR)
        .env_remove(crate::output::PROGRESS_FILE_VAR)
        .env_remove(crate::remote::interrupt::STOP_FILE_VAR);
    // As `interrupt::spawn_apart` starts a process (only ever on Unix
    // here: Windows has no master), keeping its handle to see it end.
    crate::remote::interrupt::quiet(&mut cmd);
    crate::remote::interrupt::detach(&mut cmd);
    let Ok(mut child) = cmd.spawn() else {
        return;
    };
    let deadline = Instant::now() + TAKEN_WAIT;
    while Instant::now() < deadline {
        // Holding the lock, or already done (the master up, or ssh failed
        // at once: nothing to wait for).
        if ssh::opening(session.dir()) || !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// `runcode warm-master <id>`: opens the master of session `id` and exits
/// once it listens (or once ssh gave up). Its status is ssh's; nobody reads
/// it, since the first command opens the master itself when this failed.
pub fn run(paths: &Paths, id: u64) -> crate::error::Result<i32> {
    let Some(session) = session::load(paths, id) else {
        return Ok(0);
    };
    let lock = paths::lock_file(&session.dir().join(ssh::MASTER_LOCK))?;
    if lock.try_lock().is_err() {
        return Ok(0);
    }
    let ssh = session.ssh().alone().streams(Streams::Quiet);
    if session
        .meta
        .control_path
        .as_deref()
        .is_some_and(Path::exists)
        && ssh
            .clone()
            .control(Control::Check)
            .command()
            .status()
            .is_ok_and(|s| s.success())
    {
        return Ok(0);
    }
    let status = ssh.control(Control::Open).command().status();
    drop(lock);
    Ok(status.ok().and_then(|s| s.code()).unwrap_or(255))
}
