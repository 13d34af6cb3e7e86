//! Runs recorded on the workspace, so that a command outlives a dropped
//! link and its client can pick it up again (docs/sessions.md, "Runs that
//! outlive a dropped link"). Every remote piece is POSIX sh and coreutils.
//!
//! Each run has a directory `~/.cache/runcode/runs/<run id>/` on the
//! workspace, made by the wrapper before the command starts: `pid` (the
//! wrapper's), `out` and `err` (every byte the command wrote to each
//! stream, also passed to ssh as it comes, through `tee -p`, which keeps
//! writing the file when the link is gone) and `status` once it ended. So
//! after a lost connection the client asks (`probe`) and knows exactly:
//! no directory, the command never started; else it continues each stream
//! from the byte it had (`attach`) and exits with the real status.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::remote::{RUN_ID_VAR, scripts};
use crate::session::Session;
use crate::text::shell_quote;

/// Acknowledged runs are removed on the workspace this many at a time:
/// the clean-up then costs the wrapper a process or two once every so many
/// runs, not on each (P4).
pub const ACK_BATCH: usize = 8;

/// The remote command line of a recorded run (`scripts/wrap.sh`): `line`
/// runs in the remote user's shell as it always did, with the run id
/// exported, its output kept in the run's files and passed on. When
/// `acked` names runs, those and the expired ones are removed in the
/// background afterwards.
pub fn wrap(
    run_id: &str,
    line: &str,
    timeout: Option<u64>,
    acked: &[String],
    secrets: bool,
) -> String {
    let timeout = timeout.map(|t| t.to_string()).unwrap_or_default();
    let mut args = vec![run_id, line, &timeout];
    args.extend(acked.iter().filter(|a| valid_id(a)).map(String::as_str));
    format!(
        "export {RUN_ID_VAR}={}; {}{}",
        shell_quote(run_id),
        // The wrapper reads the secrets from stdin first (wrap.sh).
        if secrets { "RUNCODE_SECRETS=1 " } else { "" },
        scripts::line(scripts::WRAP, &args)
    )
}

/// The remote command line that starts `line` as run `run_id` in the
/// background and returns once it is recorded (`scripts/detach.sh`),
/// ended by the workspace after `timeout` seconds when one is given.
pub fn detach_line(run_id: &str, line: &str, timeout: Option<u64>) -> String {
    let timeout = timeout.map(|t| t.to_string()).unwrap_or_default();
    format!(
        "export {RUN_ID_VAR}={}; {}",
        shell_quote(run_id),
        scripts::line(scripts::DETACH, &[scripts::WRAP, run_id, line, &timeout])
    )
}

/// What the workspace knows of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// No record: the command never started (the probe has just marked it
    /// so).
    Unknown,
    /// Marked as never started before this probe: by an earlier probe of
    /// this client whose answer was lost, or by a hostile workspace.
    Void,
    /// Its wrapper still runs.
    Running,
    /// It ended with this status.
    Done(i32),
    /// Its wrapper is gone without a status: it was ended on the workspace
    /// (a reboot, a kill) before it finished.
    Lost,
}

/// The remote line that prints one word of `State` for `run_id`
/// (`scripts/probe.sh`). A run with no record gets one that says it never
/// ran (`void`), in the same step: a request for it still on its way (a
/// link that came back) then finds the record taken and never starts the
/// command, and the client runs it again under a new id.
pub fn probe_line(run_id: &str) -> String {
    scripts::line(scripts::PROBE, &[run_id])
}

/// Reads `probe_line`'s answer.
pub fn parse_state(text: &str) -> Option<State> {
    let word = text.trim();
    match word {
        "unknown" => Some(State::Unknown),
        "void" => Some(State::Void),
        "running" => Some(State::Running),
        "lost" => Some(State::Lost),
        _ => word
            .strip_prefix("done ")
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .map(State::Done),
    }
}

/// The remote line that sends a run's stdout from byte `out` and its
/// stderr from byte `err` (counted from 0), following both until the run
/// ends or for `limit` seconds, as frames (`scripts/attach.sh`,
/// `remote::frames`).
pub fn attach_line(run_id: &str, out: u64, err: u64, limit: Option<u64>) -> String {
    let (out, err) = (out.to_string(), err.to_string());
    let limit = limit.map(|l| l.to_string()).unwrap_or_default();
    scripts::line(scripts::ATTACH, &[run_id, &out, &err, &limit])
}

/// The remote line that lists the runs on the workspace, newest first: one
/// `<id> <state> <status>` line each (`scripts/list.sh`).
pub fn list_line() -> String {
    scripts::line(scripts::LIST, &[])
}

/// The remote line that stops run `run_id` and prints its state
/// (`scripts/stop.sh`).
pub fn stop_line(run_id: &str) -> String {
    scripts::line(scripts::STOP, &[run_id, scripts::END])
}

/// A run id as the CLI makes them: digits and dashes only, so it is safe in
/// a remote path and a shell word.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// The runs of a session that finished with their client holding all of
/// their output: the next run's wrapper removes them on the workspace.
fn acked_file(s: &Session) -> PathBuf {
    s.dir().join("runs-acked")
}

/// The acknowledged runs a wrapper should remove: all of them once there
/// are `ACK_BATCH`, else none yet.
pub fn due(s: &Session) -> Vec<String> {
    let acked = acked(s);
    if acked.len() >= ACK_BATCH {
        acked
    } else {
        Vec::new()
    }
}

/// The acknowledged runs waiting to be removed.
fn acked(s: &Session) -> Vec<String> {
    std::fs::read_to_string(acked_file(s))
        .unwrap_or_default()
        .lines()
        .filter(|l| valid_id(l))
        .map(str::to_owned)
        .collect()
}

/// Records that the client has all of `run_id`.
pub fn ack(s: &Session, run_id: &str) {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    // Private from its first byte, as every file of the session directory.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    if let Ok(mut f) = options.open(acked_file(s)) {
        let _ = writeln!(f, "{run_id}");
    }
}

/// Forgets the acknowledgements a wrapper has carried to the workspace.
pub fn forget_acked(s: &Session, carried: &[String]) {
    if carried.is_empty() {
        return;
    }
    let left: Vec<String> = acked(s)
        .into_iter()
        .filter(|a| !carried.contains(a))
        .collect();
    let text: String = left.iter().map(|a| format!("{a}\n")).collect();
    let _ = crate::paths::write_private(&acked_file(s), text.as_bytes(), 0o600);
}

/// A run id given on the command line, checked.
pub fn parse_id(id: &str) -> Result<String> {
    if valid_id(id) {
        Ok(id.to_owned())
    } else {
        Err(Error::Usage(format!(
            "{:?} is not a run id (see `runcode runs`)",
            crate::text::clean(id, false)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_and_ids_are_plain() {
        assert_eq!(parse_state("unknown\n"), Some(State::Unknown));
        assert_eq!(parse_state("void\n"), Some(State::Void));
        assert_eq!(parse_state("done 7\n"), Some(State::Done(7)));
        assert_eq!(parse_state("running"), Some(State::Running));
        assert_eq!(parse_state("lost"), Some(State::Lost));
        assert_eq!(parse_state("done x"), None);
        assert_eq!(parse_state("done 143 already\n"), Some(State::Done(143)));
        assert!(valid_id("123-0-1795343400"));
        for bad in ["", "1;rm -rf /", "../x", "a b", &"1".repeat(65)] {
            assert!(!valid_id(bad), "{bad}");
        }
        // Only plain ids reach the wrapper's clean-up (which checks again).
        let line = wrap("1-2", "true", None, &["3-4".into(), "x;y".into()], false);
        assert!(
            line.ends_with(" '1-2' 'true' '' '3-4'") && !line.contains("x;y"),
            "{line}"
        );
        let fed = wrap("1-2", "true", None, &[], true);
        assert!(fed.contains("; RUNCODE_SECRETS=1 sh -c "), "{fed}");
    }
}
