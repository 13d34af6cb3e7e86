//! The forwards of a session: recorded in its directory (`forwards.json`),
//! carried by a master that lives as long as the session, and kept: a
//! keeper process per session (`runcode keep-forwards <id>`, started by
//! `forward`) looks at the master every second and, when a dropped link
//! took it away, opens a new one and adds every recorded forward again. It
//! ends with the last forward, the session or its directory.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::{self, Paths};
use crate::remote;
use crate::remote::ssh::{Control, Streams};
use crate::session::{self, Session};

/// Forwards are made over a session with a command's margin.
pub const POLICY: session::Policy = session::Policy::Command;

/// How often the keeper looks.
const EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    pub local: u16,
    pub to: String,
    pub port: u16,
}

fn record_path(s: &Session) -> std::path::PathBuf {
    s.config().with_file_name(session::FORWARDS)
}

pub fn recorded(s: &Session) -> Vec<Forward> {
    std::fs::read(record_path(s))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub fn save(s: &Session, list: &[Forward]) -> Result<()> {
    let bytes = serde_json::to_vec(list).map_err(Error::encode("forwards.json"))?;
    paths::write_private(&record_path(s), &bytes, 0o600)
}

/// Whether the builtin transport carries this machine's forwards.
pub fn builtin() -> bool {
    crate::remote::ssh::Transport::chosen() == crate::remote::ssh::Transport::Builtin
}

pub fn master_alive(s: &Session) -> bool {
    if builtin() {
        // The keeper's own connection stands in for the master.
        return crate::remote::builtin::forwards_report(s.dir()).is_some_and(|(up, _)| up);
    }
    let cmd = s
        .ssh()
        .control(Control::Check)
        .streams(Streams::Quiet)
        .command();
    remote::spawn_status(cmd).is_ok_and(|st| st.success())
}

/// A master that lives as long as the session: forwards have no client
/// connection of their own to keep an idle master alive.
pub fn ensure_master(s: &Session) -> Result<()> {
    if builtin() {
        // The keeper opens its own connection.
        return Ok(());
    }
    if master_alive(s) && !recorded(s).is_empty() {
        return Ok(());
    }
    s.close_master();
    let cmd = s
        .ssh()
        .control(Control::Lasting)
        .streams(Streams::Diagnostics)
        .run("true")
        .command();
    let status = remote::spawn_status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Network(format!(
            "could not open the session's master (ssh status {})",
            remote::exit_code(status)
        )))
    }
}

pub fn spec(f: &Forward) -> String {
    format!("{}:{}:{}", f.local, f.to, f.port)
}

/// Adds `f` to the session's master; ssh's complaint when it refuses.
pub fn add(s: &Session, f: &Forward) -> std::result::Result<(), String> {
    if builtin() {
        // The keeper listens once the forward is recorded; here, only
        // whether the port is free (`listening` waits for the keeper).
        let taken = crate::remote::builtin::forwards_report(s.dir())
            .is_some_and(|(_, ports)| ports.contains(&f.local));
        if taken {
            return Ok(());
        }
        return std::net::TcpListener::bind(("127.0.0.1", f.local))
            .map(drop)
            .map_err(|_| format!("port {} is already in use on this machine", f.local));
    }
    let spec = spec(f);
    let mut cmd = s
        .ssh()
        .control(Control::Forward(&spec))
        .streams(Streams::Diagnostics)
        .command();
    cmd.stderr(std::process::Stdio::piped());
    match cmd.output() {
        Ok(out) if out.status.success() => Ok(()),
        // ssh's own words (`mux_client_forward: ...`) say less than this.
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stderr);
            Err(
                if said.contains("forwarding request failed") || said.contains("in use") {
                    format!("port {} is already in use on this machine", f.local)
                } else {
                    crate::text::clean(said.trim(), false)
                },
            )
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Over the builtin transport: waits (10 s at most) until the keeper
/// listens on `local`, or no longer does (`on` false).
pub fn listening(s: &Session, local: u16, on: bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed = crate::remote::builtin::forwards_report(s.dir())
            .is_some_and(|(_, ports)| ports.contains(&local));
        if listed == on {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts the keeper of workspace `id`'s forwards, detached from this
/// command (its own process group: Ctrl-C in the terminal is not for it).
/// A keeper already running keeps the job; the new one ends at once.
pub fn start_keeper(id: u64) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    // It outlives the command that starts it: an MCP call's result,
    // progress and stop files are not its own.
    cmd.args(["keep-forwards", &id.to_string()])
        .env_remove(crate::output::RESULT_FILE_VAR)
        .env_remove(crate::output::PROGRESS_FILE_VAR)
        .env_remove(crate::remote::interrupt::STOP_FILE_VAR);
    let _ = crate::remote::interrupt::spawn_apart(&mut cmd);
}

/// The keeper's loop (see the module). One per session, under a lock.
pub fn keep(paths: &Paths, id: u64) -> Result<i32> {
    let dir = paths.session_dir(id);
    let lock_path = dir.join(".forwards.lock");
    let lock = paths::lock_file(&lock_path)?;
    if lock.try_lock().is_err() {
        return Ok(0);
    }
    paths::write_private(
        &dir.join(session::KEEPER),
        format!("{}\n", std::process::id()).as_bytes(),
        0o600,
    )?;
    if builtin() {
        return Ok(crate::remote::builtin::keep_forwards(paths, id, |s| {
            recorded(s)
                .into_iter()
                .map(|f| (f.local, f.to, f.port))
                .collect()
        }));
    }
    loop {
        std::thread::sleep(EVERY);
        let Some(s) = session::load(paths, id) else {
            return Ok(0);
        };
        let list = recorded(&s);
        if list.is_empty() || s.seconds_left() <= 0 {
            return Ok(0);
        }
        if master_alive(&s) {
            continue;
        }
        // The link dropped and took the master: a new one, every forward
        // again. One that cannot be added now is tried at the next look.
        // The record is read again around it: a disconnect removes it before
        // it closes the master, and a master opened meanwhile is closed.
        if recorded(&s).is_empty() || ensure_master(&s).is_err() {
            continue;
        }
        if recorded(&s).is_empty() {
            s.close_master();
            return Ok(0);
        }
        for f in &list {
            let _ = add(&s, f);
        }
    }
}
