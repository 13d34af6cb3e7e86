//! The one place an `ssh` command line is put together. Every ssh the CLI
//! starts (a remote command, a shell, a master's check, exit or forward, a
//! connection test) is an `Ssh` built from the session's target, a control
//! behaviour, its streams and, for remote commands, a diagnostics log. What
//! every connection needs lives in the session's config file (rendered by
//! `sshconfig::render`) or is added here once: the config itself (`-F`) and
//! a `ControlPersist` never longer than the session has left.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::remote::sshconfig;

/// The OpenSSH client, found on PATH.
pub const PROGRAM: &str = "ssh";

/// The variable that chooses the transport.
pub const TRANSPORT_VAR: &str = "RUNCODE_TRANSPORT";

/// Which SSH client carries runcode's remote commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The OpenSSH client, through the session's master where it can.
    OpenSsh,
    /// runcode's own client (`ssh-builtin`).
    Builtin,
}

impl Transport {
    /// `RUNCODE_TRANSPORT` when it is `builtin` or `openssh`; else builtin
    /// on Windows and where no OpenSSH client is on PATH, openssh
    /// elsewhere.
    pub fn chosen() -> Transport {
        // Asked for every ssh command: PATH is looked at once.
        static CHOSEN: std::sync::OnceLock<Transport> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(Transport::choose)
    }

    fn choose() -> Transport {
        match std::env::var(TRANSPORT_VAR).as_deref() {
            Ok("builtin") => Transport::Builtin,
            Ok("openssh") => Transport::OpenSsh,
            _ if cfg!(windows) => Transport::Builtin,
            _ if which::which(PROGRAM).is_err() => Transport::Builtin,
            _ => Transport::OpenSsh,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::OpenSsh => "openssh",
            Transport::Builtin => "builtin",
        }
    }
}

/// What ssh needs to know of a session to reach it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The session's own config file, which names every option.
    pub config: &'a Path,
    /// The `Host` of that config.
    pub alias: &'a str,
    /// The master's socket; None where ssh cannot multiplex (Windows).
    pub control_path: Option<&'a Path>,
    /// Seconds until the session's key stops being accepted.
    pub seconds_left: i64,
}

/// How this ssh relates to the session's multiplexing master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control<'a> {
    /// Use the master, starting one when there is none; an idle master
    /// lingers at most `sshconfig::persist_secs` (never past the session).
    Shared,
    /// Start (or use) a master that lives as long as the session itself:
    /// forwards have no client of their own to keep an idle master alive.
    Lasting,
    /// `-N -f`: open the master and go to the background once it listens,
    /// running nothing (`remote::warm`).
    Open,
    /// `-O check`: is a master running?
    Check,
    /// `-O exit`: tell the master to exit.
    Exit,
    /// `-O forward -L <spec>`: add a local forward to the master.
    Forward(&'a str),
    /// `-O cancel -L <spec>`: remove one.
    Cancel(&'a str),
}

/// Where a child's three standard streams go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    /// The CLI's own: the user sees and types into the remote command.
    Inherit,
    /// None at all: a control request or a probe whose only answer is its
    /// exit status.
    Quiet,
    /// No input or output, but ssh's own complaints reach the user.
    Diagnostics,
}

/// An ssh invocation being described; `command()` makes the `Command`.
#[derive(Debug, Clone)]
pub struct Ssh<'a> {
    target: Target<'a>,
    control: Control<'a>,
    streams: Streams,
    log: Option<&'a Path>,
    connect_timeout: Option<u32>,
    tty: bool,
    remote: Option<String>,
    /// Waits for a master being opened ahead of it (`remote::warm`); off
    /// only for the opener's own commands.
    joins: bool,
    /// The client that carries it, when not the chosen transport's: a
    /// connection opened under the other one is ended by its own client.
    via: Option<Transport>,
}

impl<'a> Ssh<'a> {
    /// A connection to `target` through its shared master, the CLI's own
    /// streams, no remote command (`run` adds one).
    pub fn to(target: Target<'a>) -> Ssh<'a> {
        Ssh {
            target,
            control: Control::Shared,
            streams: Streams::Inherit,
            log: None,
            connect_timeout: None,
            tty: false,
            remote: None,
            joins: true,
            via: None,
        }
    }

    /// Carried by `transport`'s client whatever `RUNCODE_TRANSPORT` says.
    pub fn via(mut self, transport: Transport) -> Self {
        self.via = Some(transport);
        self
    }

    /// Does not wait for a master being opened: the opener's own commands.
    pub fn alone(mut self) -> Self {
        self.joins = false;
        self
    }

    pub fn control(mut self, control: Control<'a>) -> Self {
        self.control = control;
        self
    }

    pub fn streams(mut self, streams: Streams) -> Self {
        self.streams = streams;
        self
    }

    /// ssh's own diagnostics go to this file (`-E`), where they can be read
    /// to tell a connection that never started from one that dropped; the
    /// remote command's stderr is not affected.
    pub fn log(mut self, path: &'a Path) -> Self {
        self.log = Some(path);
        self
    }

    /// Gives up on a new TCP connection after this many seconds.
    pub fn connect_timeout(mut self, secs: u32) -> Self {
        self.connect_timeout = Some(secs);
        self
    }

    /// Asks for a terminal on the workspace (`-t`).
    pub fn tty(mut self) -> Self {
        self.tty = true;
        self
    }

    /// The remote command line, as the remote user's shell will read it.
    pub fn run(mut self, line: impl Into<String>) -> Self {
        self.remote = Some(line.into());
        self
    }

    /// The arguments after the program name, in ssh's order: options, the
    /// host, then the remote command.
    pub fn args(&self) -> Vec<OsString> {
        let t = &self.target;
        let mut args: Vec<OsString> = vec!["-F".into(), t.config.into()];
        let option = |args: &mut Vec<OsString>, value: String| {
            args.push("-o".into());
            args.push(value.into());
        };
        if t.control_path.is_some() {
            let persist = match self.control {
                Control::Lasting => u64::try_from(t.seconds_left.max(1)).unwrap_or(1),
                _ => sshconfig::persist_secs(t.seconds_left),
            };
            option(&mut args, format!("ControlPersist={persist}"));
        }
        if let Some(secs) = self.connect_timeout {
            option(&mut args, format!("ConnectTimeout={secs}"));
        }
        if let Some(log) = self.log {
            args.push("-E".into());
            args.push(log.into());
        }
        if self.tty {
            args.push("-t".into());
        }
        match self.control {
            Control::Shared | Control::Lasting => {}
            Control::Open => args.extend(["-N".into(), "-f".into()]),
            Control::Check => args.extend(["-O".into(), "check".into()]),
            Control::Exit => args.extend(["-O".into(), "exit".into()]),
            Control::Forward(spec) => {
                args.extend(["-O".into(), "forward".into(), "-L".into(), spec.into()]);
            }
            Control::Cancel(spec) => {
                args.extend(["-O".into(), "cancel".into(), "-L".into(), spec.into()]);
            }
        }
        args.push(t.alias.into());
        if let Some(line) = &self.remote {
            args.push(line.into());
        }
        args
    }

    /// The `Command`, its streams set as asked (a caller that pipes one
    /// sets it on the result). With the builtin transport, a remote command
    /// and the master's check and exit go to runcode's own client instead;
    /// a terminal and forwards stay with OpenSSH.
    pub fn command(&self) -> Command {
        let mut cmd = match self.builtin() {
            Some(args) => {
                let exe = std::env::current_exe().unwrap_or_else(|_| "runcode".into());
                let mut cmd = Command::new(exe);
                // The CLI's own files (an MCP call's result, progress and
                // stop files) are not the client's.
                cmd.args(args)
                    .env_remove(crate::output::RESULT_FILE_VAR)
                    .env_remove(crate::output::PROGRESS_FILE_VAR)
                    .env_remove(crate::remote::interrupt::STOP_FILE_VAR);
                cmd
            }
            None => {
                if self.joins
                    && self.target.control_path.is_some()
                    && let Some(dir) = self.target.config.parent()
                {
                    wait_opened(dir);
                }
                let mut cmd = Command::new(PROGRAM);
                cmd.args(self.args());
                cmd
            }
        };
        match self.streams {
            Streams::Inherit => {}
            Streams::Quiet => {
                crate::remote::interrupt::quiet(&mut cmd);
            }
            Streams::Diagnostics => {
                cmd.stdin(Stdio::null()).stdout(Stdio::null());
            }
        }
        cmd
    }
}

impl Ssh<'_> {
    /// The arguments of `runcode ssh-builtin` for this invocation, when the
    /// builtin transport carries it.
    fn builtin(&self) -> Option<Vec<OsString>> {
        if self.tty || self.via.unwrap_or_else(Transport::chosen) != Transport::Builtin {
            return None;
        }
        let dir = self.target.config.parent()?;
        let mut args: Vec<OsString> = vec!["ssh-builtin".into(), "--session".into(), dir.into()];
        if let Some(log) = self.log {
            args.extend(["--log".into(), log.into()]);
        }
        if let Some(secs) = self.connect_timeout {
            args.extend(["--connect-timeout".into(), secs.to_string().into()]);
        }
        match (self.control, &self.remote) {
            (Control::Shared | Control::Lasting, Some(line)) => {
                args.extend(["--".into(), line.into()]);
            }
            (Control::Check, _) => args.extend(["--control".into(), "check".into()]),
            (Control::Exit, _) => args.extend(["--control".into(), "exit".into()]),
            _ => return None,
        }
        Some(args)
    }
}

// A master opened ahead of the first command (`remote::warm`).

/// The file whose lock says "a master is being opened".
pub const MASTER_LOCK: &str = "master.lock";

/// The longest a command waits for a master being opened: the handshake's
/// own limit (ConnectTimeout, twice: the TCP connect and the banner) and a
/// margin. A warmer never holds the lock past its ssh, which has the same
/// limits.
const OPEN_WAIT: Duration = Duration::from_secs(2 * sshconfig::CONNECT_TIMEOUT as u64 + 5);

/// True while a warmer holds the session's lock.
pub fn opening(dir: &Path) -> bool {
    let path = dir.join(MASTER_LOCK);
    if !path.exists() {
        return false;
    }
    match std::fs::File::open(&path) {
        Ok(file) => matches!(
            file.try_lock_shared(),
            Err(std::fs::TryLockError::WouldBlock)
        ),
        Err(_) => false,
    }
}

/// Waits (at most `OPEN_WAIT`) while a master of session `dir` is being
/// opened. Nothing to wait for costs one failed `stat`.
pub fn wait_opened(dir: &Path) {
    let path = dir.join(MASTER_LOCK);
    if !path.exists() {
        return;
    }
    let Ok(file) = std::fs::File::open(&path) else {
        return;
    };
    let deadline = Instant::now() + OPEN_WAIT;
    loop {
        match file.try_lock_shared() {
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            // Free (the master is up, or the opener gave up), or the wait
            // is over: the command goes on as it always did.
            _ => return,
        }
    }
}

/// `ssh -V`: the client's version, which it prints on stderr.
pub fn version() -> Command {
    let mut cmd = Command::new(PROGRAM);
    cmd.arg("-V").stdin(Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(control: bool) -> Target<'static> {
        Target {
            config: Path::new("/c/ws-1/config"),
            alias: "runcode-dev",
            control_path: control.then(|| Path::new("/c/ws-1/ctl")),
            seconds_left: 1000,
        }
    }

    fn text(ssh: &Ssh<'_>) -> String {
        ssh.args()
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn every_shape_is_the_config_plus_what_it_asks_for() {
        let t = target(true);
        assert_eq!(
            text(&Ssh::to(t).run("true")),
            "-F /c/ws-1/config -o ControlPersist=300 runcode-dev true"
        );
        assert_eq!(
            text(&Ssh::to(t).control(Control::Lasting).run("true")),
            "-F /c/ws-1/config -o ControlPersist=1000 runcode-dev true"
        );
        assert_eq!(
            text(&Ssh::to(t).control(Control::Forward("8080:localhost:80"))),
            "-F /c/ws-1/config -o ControlPersist=300 -O forward -L 8080:localhost:80 runcode-dev"
        );
        assert_eq!(
            text(
                &Ssh::to(t)
                    .log(Path::new("/l"))
                    .connect_timeout(5)
                    .tty()
                    .run("ls")
            ),
            "-F /c/ws-1/config -o ControlPersist=300 -o ConnectTimeout=5 -E /l -t runcode-dev ls"
        );
        assert_eq!(
            text(&Ssh::to(target(false)).control(Control::Check)),
            "-F /c/ws-1/config -O check runcode-dev"
        );
    }
}
