//! Running something on the workspace over ssh, once. Every remote command
//! goes through `attempt`: stdio passes through untouched and the command's
//! own status comes back; when ssh fails (255) *before* the remote command
//! could have started (refused key, refused or closed connection during the
//! handshake, host key mismatch), one fresh session is minted and the command
//! tried once more. A connection that drops after that point, or Ctrl-C, is
//! never retried: the command may have run. On Ctrl-C the remote command is
//! ended too, since ssh without a terminal leaves it running.
//! docs/sessions.md has the rules.
//!
//! The room around it holds every other way runcode reaches the workspace:
//! the ssh command line (`ssh`) and the session's config (`sshconfig`),
//! recorded runs and their resumption (`runs`, `resume`), transfers,
//! forwards, Ctrl-C (`interrupt`), progress, and the shell scripts the
//! workspace runs (`scripts`).

pub mod builtin;
pub mod forwards;
pub mod frames;
pub mod interrupt;
pub mod progress;
pub mod resume;
pub mod runs;
pub mod scripts;
pub mod ssh;
pub mod sshconfig;
pub mod transfer;
pub mod warm;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::ssh::Streams;
use crate::session::{self, Request, Session};
use crate::text::shell_quote;

/// The variable that marks a remote command and everything it starts, so
/// that Ctrl-C can end exactly those processes.
pub const RUN_ID_VAR: &str = "RUNCODE_RUN_ID";

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

/// The most bytes kept of the workspace's answer to one of runcode's own
/// questions (a probe, the run listing, a listener table, a written
/// file's path). The workspace may be hostile: whatever it sends, the CLI
/// holds this much and no more (docs/security.md).
pub const ANSWER_LIMIT: usize = 1 << 20;

/// Reads at most `limit` bytes of `from`: the bytes, and whether there
/// was more.
pub fn read_bounded(from: &mut impl std::io::Read, limit: usize) -> (Vec<u8>, bool) {
    use std::io::Read;
    let mut bytes = Vec::new();
    let _ = from
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut bytes);
    let over = bytes.len() > limit;
    bytes.truncate(limit);
    (bytes, over)
}

/// Runs `cmd` (an ssh to workspace `id`) to completion with Ctrl-C
/// handled as the module says, its stdout read up to `ANSWER_LIMIT`:
/// ssh's status and that text.
pub fn output(mut cmd: Command, id: u64) -> Result<(ExitStatus, String)> {
    cmd.stdout(std::process::Stdio::piped());
    let (mut child, _guard) = interrupt::spawn(&mut cmd, "ssh")?;
    answer(&mut child, id)
}

/// What a child (an ssh to workspace `id`) printed on its (piped)
/// stdout, and its status. One that says more than `ANSWER_LIMIT` is ended
/// there, and that is `OversizedAnswer`: no script of runcode's says so
/// much.
pub fn answer(child: &mut std::process::Child, id: u64) -> Result<(ExitStatus, String)> {
    let mut bytes = Vec::new();
    if let Some(mut out) = child.stdout.take() {
        let (kept, over) = read_bounded(&mut out, ANSWER_LIMIT);
        if over {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::OversizedAnswer { id });
        }
        bytes = kept;
    }
    let status = child.wait().map_err(Error::spawn("ssh"))?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Runs `cmd` to completion with Ctrl-C handled as the module says.
pub fn spawn_status(mut cmd: Command) -> Result<ExitStatus> {
    let (mut child, _guard) = interrupt::spawn(&mut cmd, "ssh")?;
    child.wait().map_err(Error::spawn("ssh"))
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

/// One ssh invocation of a remote command: its own log file (ssh's `-E`, so
/// that its diagnostics can be read to decide on a retry; the remote
/// command's stderr is not affected) and its own run id.
pub struct Call {
    log: PathBuf,
    run_id: String,
}

static CALLS: AtomicU32 = AtomicU32::new(0);

impl Call {
    pub fn new(s: &Session) -> Call {
        let n = CALLS.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        Call {
            log: s.dir().join(format!(".ssh-{pid}-{n}.log")),
            run_id: format!("{pid}-{n}-{}", session::now()),
        }
    }

    /// `ssh -F <config> -E <log> <alias> <line>`, the line marked with the
    /// run id.
    pub fn ssh(&self, s: &Session, line: &str) -> Command {
        s.ssh()
            .log(&self.log)
            .run(format!("export {RUN_ID_VAR}={}; {line}", self.run_id))
            .command()
    }

    /// `ssh -F <config> -E <log> <alias> <line>`, the line as it is (it
    /// exports the run id itself, or runs nothing that needs it).
    pub fn ssh_raw(&self, s: &Session, line: &str) -> Command {
        s.ssh().log(&self.log).run(line).command()
    }

    /// The id the remote command of this call is known by.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// What ssh said about itself (not the remote command's stderr).
    pub fn diagnostics(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The line of ssh's diagnostics that shows it failed before a remote
/// command could start, if there is one. These are OpenSSH's messages for a
/// refused key, a refused or failed TCP connection, a connection closed or
/// reset during the handshake, a host key that does not match, and a master
/// that refused to open a session. A connection lost later reads differently
/// ("Connection to ... closed by remote host", "client_loop: ..."), or ssh
/// says nothing at all, as when a master dies under its client.
pub fn failed_before_start(diagnostics: &str) -> Option<&str> {
    const STARTS: &[&str] = &[
        "ssh: connect to host ",
        "ssh: Could not resolve hostname",
        "kex_exchange_identification:",
        "Connection closed by ",
        "Connection reset by ",
        "Connection timed out during banner exchange",
        "banner exchange:",
        "Host key verification failed",
        "Unable to negotiate with ",
        "Received disconnect from ",
        "Too many authentication failures",
    ];
    const CONTAINS: &[&str] = &[
        ": Permission denied (",
        "session request failed",
        "Session open refused by peer",
    ];
    diagnostics.lines().map(str::trim).find(|line| {
        STARTS.iter().any(|s| line.starts_with(s)) || CONTAINS.iter().any(|c| line.contains(c))
    })
}

/// Runs one remote operation on `session` with the retry rule of this
/// module. `op` starts ssh through the `Call` it is given, does its I/O and
/// returns ssh's status and its own result; `retry` says whether running it
/// a second time is possible at all (a stream read from stdin is not).
/// Returns the session last used, the status and the result. A 255 that is
/// not retried is `ssh_failed`.
pub fn attempt<T>(
    ctx: &Ctx,
    req: Request,
    session: Session,
    retry: bool,
    mut op: impl FnMut(&Session, &Call) -> Result<(ExitStatus, T)>,
) -> Result<(Session, i32, T)> {
    let id = session.meta.ws_id;
    let mut session = session;
    let mut retries = u8::from(retry);
    // Ctrl-C from here on is ours to handle: the remote command must be
    // ended before the CLI exits.
    let _handled = interrupt::handled();
    loop {
        let call = Call::new(&session);
        let outcome = op(&session, &call);
        finish_interrupted(&session, &call)?;
        let (status, value) = outcome?;
        let code = exit_code(status);
        if code != 255 {
            return Ok((session, code, value));
        }
        let said = call.diagnostics();
        let Some(reason) = failed_before_start(&said).map(str::to_owned) else {
            replay(ctx, &session, &said);
            return Err(Error::SshDropped {
                id,
                reason: dropped_reason(&said),
            });
        };
        if retries == 0 {
            replay(ctx, &session, &said);
            return Err(Error::unreachable(id, reason));
        }
        retries -= 1;
        drop(call);
        session = fresh_session(ctx, &session, req, &reason)?;
    }
}

/// The one more try after ssh could not connect at all (`reason`, from
/// `failed_before_start`): says so, closes the old master and mints.
pub fn fresh_session(ctx: &Ctx, old: &Session, req: Request, reason: &str) -> Result<Session> {
    let what = if reason.contains("Permission denied") {
        "the workspace refused this session's key (revoked or expired)"
    } else {
        "ssh could not connect"
    };
    ctx.out.progress(&format!(
        "runcode: {what} ({}): starting a new session and trying once more",
        crate::text::clean(reason, false)
    ));
    session::replace(ctx, old, req)
}

/// ` (<ssh's first line>)`, for the message of a dropped connection.
pub fn dropped_reason(said: &str) -> String {
    said.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| format!(" ({})", crate::text::clean(l, false)))
        .unwrap_or_default()
}

/// ssh's own words, kept for whoever wants them: written to
/// `<session dir>/ssh-error.log` (0600) and named in one line on stderr,
/// so the failure itself is said once, in runcode's words.
pub fn replay(ctx: &Ctx, s: &Session, said: &str) {
    let said = said.trim_end();
    if said.is_empty() {
        return;
    }
    let log = s.dir().join("ssh-error.log");
    let text = format!("{}\n", crate::text::clean(said, true));
    if crate::paths::write_private(&log, text.as_bytes(), 0o600).is_ok() {
        ctx.out.progress(&format!(
            "runcode: ssh's own messages are in {}",
            log.display()
        ));
    }
}

/// After Ctrl-C: end what the call started on the workspace, then report
/// `interrupted`.
fn finish_interrupted(s: &Session, call: &Call) -> Result<()> {
    if !interrupt::interrupted() {
        return Ok(());
    }
    end_remote(s, &call.run_id);
    Err(Error::Interrupted)
}

/// Ends what the call started on the workspace: the shell that ran the
/// command line (it names the run id; sshd made it a process group leader,
/// so its whole group goes) and every process whose environment carries the
/// run id, wherever it moved. Twice, a second apart, so that a process
/// started during the first pass goes too. A second, short ssh through the
/// master (which the terminal's Ctrl-C does not reach: it runs in its own
/// session), bounded in time. Linux workspaces list processes in /proc.
pub fn end_remote(s: &Session, run_id: &str) {
    let script = scripts::line(scripts::END, &[run_id]);
    let mut cmd = s
        .ssh()
        .connect_timeout(5)
        .streams(Streams::Quiet)
        .run(script)
        .command();
    let Ok((mut child, _guard)) = interrupt::spawn_cleanup(&mut cmd, "ssh") else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::failed_before_start;

    #[test]
    fn only_failures_before_a_command_could_start_are_retried() {
        for before in [
            "root@127.0.0.1: Permission denied (publickey).",
            "ssh: connect to host 127.0.0.1 port 1: Connection refused",
            "kex_exchange_identification: read: Connection reset by peer\nConnection reset by 127.0.0.1 port 45999",
            "Connection closed by 127.0.0.1 port 45998",
            "No ED25519 host key is known for [127.0.0.1]:44545 and you have requested strict checking.\nHost key verification failed.",
            "mux_client_request_session: session request failed: Session open refused by peer",
        ] {
            assert!(failed_before_start(before).is_some(), "{before}");
        }
        for after in [
            "",
            "Connection to 127.0.0.1 closed by remote host.",
            "client_loop: send disconnect: Broken pipe",
            "Read from remote host 127.0.0.1: Connection reset by peer",
            "Timeout, server 127.0.0.1 not responding.",
            "Killed by signal 2.",
        ] {
            assert!(failed_before_start(after).is_none(), "{after}");
        }
    }
}
