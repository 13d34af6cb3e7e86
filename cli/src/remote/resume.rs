//! A command that outlives a dropped link: `exec`, `ssh <ws> -- cmd` and
//! the MCP exec tool run it as a recorded run (`runs`), and when the link
//! drops mid-run the CLI reconnects, asks the workspace about the run and
//! either runs it (it never started: once, under a new id) or continues its
//! stdout and stderr from the byte the client had and exits with its real
//! status. The rules (docs/sessions.md):
//!
//! - a failure that certainly came before the command could start keeps
//!   the old rule: one fresh session, one more try;
//! - a run whose stdin carried bytes is not resumed (the workspace cannot
//!   tell a finished stream from a cut one): its drop is `ssh_failed`, as is
//!   every drop with `--no-resume`;
//! - Ctrl-C ends the remote command, and nothing is ever run twice;
//! - after `bound()` (`tuning::RESUME`) without reaching the workspace, the CLI stops with
//!   `disconnected`, naming the run and how to look at it.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::runs::{self, State};
use crate::remote::{self, Call};
use crate::remote::{frames, interrupt};
use crate::session::{self, Request, Session};

/// How long the CLI keeps trying to reach the workspace again
/// (`tuning::RESUME`, 5 minutes).
pub fn bound() -> Duration {
    crate::tuning::RESUME.get()
}

/// The first pause between two tries to reach the workspace; it doubles up
/// to 5 s.
const FIRST_PAUSE: Duration = Duration::from_millis(250);

/// Where a run's bytes go, and what it reads.
pub struct Io<'a> {
    /// Forward the CLI's own stdin (else the command reads nothing). A
    /// terminal is never forwarded: a command without a terminal of its own
    /// cannot use one, and its input would keep the run from resuming.
    pub stdin: bool,
    /// Bytes sent before the CLI's stdin, which the wrapper reads first:
    /// the secrets the command is given (wrap.sh). Never counted as input.
    pub preamble: Option<&'a [u8]>,
    pub stdout: &'a mut (dyn Write + Send),
    pub stderr: &'a mut (dyn Write + Send),
}

pub use crate::remote::frames::{Got, How};

/// What the local streams did during one ssh.
#[derive(Debug, Default)]
struct Fed {
    /// Bytes of the CLI's stdin sent.
    bytes: u64,
    /// The CLI's stdin reached its end.
    ended: bool,
    /// Whoever reads the CLI's stdout or stderr went away (`| head`).
    closed: bool,
    /// The wait ran out: the CLI ended its ssh and left the run going.
    let_go: bool,
}

/// How a run is run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Follow it again after a dropped link (`--no-resume` turns it off).
    pub resume: bool,
    /// Follow it this long, then leave it going (`exec --wait`).
    pub wait: Option<Duration>,
    /// The workspace ends the command after this many seconds (`exec
    /// --timeout`).
    pub timeout: Option<u64>,
}

impl Plan {
    /// To its end, resumed after a dropped link, no timeout.
    pub fn resumed(resume: bool) -> Plan {
        Plan {
            resume,
            wait: None,
            timeout: None,
        }
    }
}

/// What running a command came to.
pub struct Ran {
    /// The run's id (the last one, when it had to be started again).
    pub run_id: String,
    /// Where each stream stands.
    pub got: Got,
    /// How it ended: its status and how; None when it still runs.
    pub ended: Option<(i32, How)>,
}

/// `cmd` words on the workspace with the CLI's own streams, as a recorded
/// run that outlives a dropped link (unless `resume` is off): the shape
/// `exec` and `ssh <ws> -- cmd` share.
pub fn run_line(ctx: &Ctx, req: Request, session: Session, line: &str, plan: Plan) -> Result<Ran> {
    run_line_given(ctx, req, session, line, plan, &Given::default())
}

/// What a command is given besides its line: secrets in its environment
/// (their preamble, sent ahead of stdin) and the values to hide in its
/// output.
#[derive(Default)]
pub struct Given {
    pub preamble: Option<Vec<u8>>,
    pub hide: crate::redact::Secrets,
}

/// `run_line` with secrets: the command gets them, its output is redacted.
pub fn run_line_given(
    ctx: &Ctx,
    req: Request,
    session: Session,
    line: &str,
    plan: Plan,
    given: &Given,
) -> Result<Ran> {
    let mut stdout = crate::redact::Stream::new(given.hide.clone(), std::io::stdout());
    let mut stderr = crate::redact::Stream::new(given.hide.clone(), std::io::stderr());
    let mut io = Io {
        stdin: true,
        preamble: given.preamble.as_deref(),
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let ran = run(ctx, req, session, line, plan, &mut io);
    let _ = stdout.finish();
    let _ = stderr.finish();
    ran
}

/// Runs `line` on the workspace as a recorded run, followed to its end or
/// for the plan's wait.
pub fn run(
    ctx: &Ctx,
    req: Request,
    session: Session,
    line: &str,
    plan: Plan,
    io: &mut Io<'_>,
) -> Result<Ran> {
    let ws = session.meta.ws_id;
    let mut s = session;
    let mut got = Got::default();
    let mut retries = 1u8;
    let mut restarts = 0u8;
    let _handled = interrupt::handled();
    loop {
        let until = plan.wait.map(|w| Instant::now() + w);
        let call = Call::new(&s);
        let run_id = call.run_id().to_owned();
        let acked = runs::due(&s);
        let wrapped = runs::wrap(&run_id, line, plan.timeout, &acked, io.preamble.is_some());
        let cmd = call.ssh_raw(&s, &wrapped);
        let (status, fed) = stream(&s, &run_id, cmd, io, &mut got, until)?;
        // `stream` has ended the run on the workspace after Ctrl-C.
        interrupt::check()?;
        let code = remote::exit_code(status);
        let ran = |_: Session, got, ended| Ran {
            run_id: run_id.clone(),
            got,
            ended,
        };
        if fed.closed {
            // Its output had nowhere to go: `stream` ended it, as a
            // command whose pipe closed ends.
            return Ok(ran(s, got, Some((code, How::Exit))));
        }
        if !fed.let_go && code != 255 {
            runs::forget_acked(&s, &acked);
            runs::ack(&s, &run_id);
            let how = if plan.timeout.is_some() && code == 124 {
                How::Timeout
            } else {
                How::Exit
            };
            return Ok(ran(s, got, Some((code, how))));
        }
        let said = call.diagnostics();
        if let Some(reason) = remote::failed_before_start(&said)
            .filter(|_| !fed.let_go)
            .map(str::to_owned)
        {
            // The command certainly never started.
            if retries == 0 {
                remote::replay(ctx, &s, &said);
                return Err(Error::unreachable(ws, reason));
            }
            retries -= 1;
            drop(call);
            s = remote::fresh_session(ctx, &s, req, &reason)?;
            continue;
        }
        if !fed.let_go && (!plan.resume || fed.bytes > 0 || (io.stdin && !fed.ended)) {
            remote::replay(ctx, &s, &said);
            return Err(Error::SshDropped {
                id: ws,
                reason: remote::dropped_reason(&said),
            });
        }
        // The run's fate decides: never started, run it; else follow it
        // (for what is left of the wait, when there is one).
        let how = Following {
            after_drop: !fed.let_go,
            until,
        };
        match follow(ctx, req, s, &run_id, &mut got, io, how)? {
            Followed::NeverStarted(back) => {
                // A run that printed had started, whatever the workspace
                // says; and however often it says so, a command is
                // started again a bounded number of times.
                let why = if got.out + got.err > 0 {
                    Some(format!(
                        "it had already sent {} bytes of output",
                        got.out + got.err
                    ))
                } else if restarts >= MAX_RESTARTS {
                    Some(format!(
                        "the command was already started {} times",
                        restarts + 1
                    ))
                } else {
                    None
                };
                if let Some(why) = why {
                    return Err(Error::RunDisputed {
                        id: ws,
                        run_id,
                        why,
                    });
                }
                restarts += 1;
                s = back;
            }
            Followed::Ended(back, code, how) => return Ok(ran(back, got, Some((code, how)))),
            Followed::StillRunning(back) => return Ok(ran(back, got, None)),
        }
    }
}

/// How many times a command whose runs the workspace says never started
/// is started again, at most: a dropped link before the start is rare, a
/// workspace that says so every time is hostile.
const MAX_RESTARTS: u8 = 2;

/// What following a run came to.
pub enum Followed {
    /// The workspace has no record of it: it never started (and now never
    /// will under that id).
    NeverStarted(Session),
    /// It ended with this status, as its record says, every byte passed
    /// on.
    Ended(Session, i32, How),
    /// The wait ran out first: every byte so far passed on, and the run
    /// goes on (`attach --wait`, `exec --wait`).
    StillRunning(Session),
}

/// How `follow` follows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Following {
    /// It follows after a dropped link (and says so).
    pub after_drop: bool,
    /// It stops waiting then, leaving the run going.
    pub until: Option<Instant>,
}

/// Follows run `run_id` on the workspace until it ends: reconnects as long
/// as the bound allows, continues each stream from the bytes in `got`, and
/// answers the run's own status.
pub fn follow(
    ctx: &Ctx,
    req: Request,
    session: Session,
    run_id: &str,
    got: &mut Got,
    io: &mut Io<'_>,
    how: Following,
) -> Result<Followed> {
    let after_drop = how.after_drop;
    let ws = session.meta.ws_id;
    let mut s = session;
    let mut minted = false;
    let mut lost = false;
    let mut done_seen = false;
    let _handled = interrupt::handled();
    // (A command that exited 255 itself, or ended as the link did, is
    // found done: its last bytes are fetched without a word.)
    match reach(ctx, req, &mut s, run_id, &mut minted)? {
        State::Unknown | State::Void => return Ok(Followed::NeverStarted(s)),
        State::Lost => lost = true,
        // Found running when the wait has run out already (`exec --wait`
        // let go of it): nothing more to wait for.
        State::Running if past(&how) => return Ok(Followed::StillRunning(s)),
        // Said only when a link did drop: `runcode attach` just follows.
        State::Running if after_drop => ctx.out.progress(&format!(
            "runcode: the connection to #{ws} dropped during run {run_id}; reconnected, following it"
        )),
        State::Running | State::Done(_) => {}
    }
    loop {
        let call = Call::new(&s);
        // With a wait, the workspace stops sending then.
        let limit = how
            .until
            .map(|u| u.saturating_duration_since(Instant::now()).as_secs().max(1));
        let line = runs::attach_line(run_id, got.out, got.err, limit);
        let cmd = call.ssh_raw(&s, &line);
        let (status, read) = stream_frames(&s, run_id, cmd, io, got)?;
        interrupt::check()?;
        if read.closed {
            return Ok(Followed::Ended(s, remote::exit_code(status), How::Exit));
        }
        let dropped = remote::exit_code(status) == 255;
        if let Some((code, ended)) = read.ended.filter(|_| !dropped) {
            runs::ack(&s, run_id);
            return Ok(Followed::Ended(s, code, ended));
        }
        if dropped {
            ctx.out.progress(&format!(
                "runcode: lost #{ws} again; reconnecting to run {run_id}"
            ));
        } else if lost {
            return Err(Error::RunLost {
                id: ws,
                run_id: run_id.to_owned(),
            });
        }
        match reach(ctx, req, &mut s, run_id, &mut minted)? {
            // Ended after the following stopped (its wait ran out): once
            // more, for the last bytes and the ending. A workspace that
            // says done and never sends the ending is taken at its word.
            State::Done(_) if !dropped && !done_seen => done_seen = true,
            State::Done(code) if !dropped => {
                runs::ack(&s, run_id);
                return Ok(Followed::Ended(s, code, How::Exit));
            }
            State::Running if past(&how) => return Ok(Followed::StillRunning(s)),
            State::Done(_) | State::Running => {}
            State::Lost | State::Unknown | State::Void => lost = true,
        }
    }
}

/// The wait given to `follow` has run out.
fn past(how: &Following) -> bool {
    how.until.is_some_and(|u| Instant::now() >= u)
}

/// Runs one ssh that reads run `run_id`'s frames (`scripts/attach.sh`),
/// their bytes passed through `io` and counted into `got`. Returns ssh's
/// status and what the frames said. After Ctrl-C the run is ended on the
/// workspace, which ends the frames too.
fn stream_frames(
    s: &Session,
    run_id: &str,
    mut cmd: Command,
    io: &mut Io<'_>,
    got: &mut Got,
) -> Result<(ExitStatus, frames::Read)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let (mut child, _guard) = interrupt::spawn(&mut cmd, "ssh")?;
    let out = child.stdout.take().expect("piped");
    let (stdout, stderr) = (&mut *io.stdout, &mut *io.stderr);
    let (status, read) = std::thread::scope(|scope| {
        // The reader's end of the pipe goes when it stops (a refusal, a
        // reader gone), which ends ssh too.
        let reader = scope.spawn(move || {
            let mut from = std::io::BufReader::new(out);
            let read = frames::read(&mut from, stdout, stderr, got);
            if read.as_ref().is_ok_and(|r| r.closed) {
                // Its output has nowhere to go: the run ends, as a command
                // whose pipe closed ends.
                remote::end_remote(s, run_id);
            }
            read
        });
        let status = child.wait();
        if interrupt::interrupted() {
            remote::end_remote(s, run_id);
        }
        (status, reader.join())
    });
    let status = status.map_err(Error::spawn("ssh"))?;
    match read {
        Ok(Ok(read)) => Ok((status, read)),
        Ok(Err(frames::Malformed(why))) => Err(Error::RunDisputed {
            id: s.meta.ws_id,
            run_id: run_id.to_owned(),
            why: format!("its output came with {why}, which runcode never sends"),
        }),
        Err(_) => Err(Error::Interrupted),
    }
}

/// Asks the workspace about `run_id` until it answers, for at most the
/// bound: a refused key is replaced once by a fresh session; anything else
/// (no route, a timeout, a reset) is tried again after a pause that grows to
/// 5 s.
fn reach(
    ctx: &Ctx,
    req: Request,
    s: &mut Session,
    run_id: &str,
    minted: &mut bool,
) -> Result<State> {
    let ws = s.meta.ws_id;
    let deadline = Instant::now() + bound();
    let mut pause = FIRST_PAUSE;
    // Probes of this run sent so far: a `void` mark found by the first one
    // was not made by this client.
    let mut probes = 0u32;
    loop {
        probes += 1;
        let call = Call::new(s);
        let mut cmd = call.ssh_raw(s, &runs::probe_line(run_id));
        cmd.stdin(Stdio::null()).stderr(Stdio::null());
        let (status, text) = remote::output(cmd, ws)?;
        finish_interrupted(s, run_id)?;
        if status.success()
            && let Some(state) = runs::parse_state(&text)
        {
            if state == State::Void && probes == 1 {
                return Err(Error::RunDisputed {
                    id: ws,
                    run_id: run_id.to_owned(),
                    why: "its never-started mark was not made by this client".to_owned(),
                });
            }
            return Ok(state);
        }
        let said = call.diagnostics();
        if pause == FIRST_PAUSE {
            ctx.out.progress(&format!(
                "runcode: lost the connection to #{ws} during run {run_id}; reconnecting"
            ));
        }
        if said.contains(": Permission denied (") && !*minted {
            *minted = true;
            drop(call);
            *s = session::replace(ctx, s, req)?;
            continue;
        }
        if Instant::now() >= deadline {
            return Err(Error::Disconnected {
                id: ws,
                run_id: run_id.to_owned(),
                waited: bound().as_secs(),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// After Ctrl-C: the run is ended on the workspace, and the CLI stops.
fn finish_interrupted(s: &Session, run_id: &str) -> Result<()> {
    if interrupt::interrupted() {
        remote::end_remote(s, run_id);
        return Err(Error::Interrupted);
    }
    Ok(())
}

/// Runs one ssh of run `run_id` with its streams passed through `io`,
/// counting the bytes of each into `got`. Returns ssh's status and what the
/// local streams did. After Ctrl-C the run is ended on the workspace before
/// the streams are read to their end: a mux client hands its pipes to the
/// master, which holds them until the remote command is gone.
fn stream(
    s: &Session,
    run_id: &str,
    mut cmd: Command,
    io: &mut Io<'_>,
    got: &mut Got,
    until: Option<Instant>,
) -> Result<(ExitStatus, Fed)> {
    let forward = io.stdin && !std::io::IsTerminal::is_terminal(&std::io::stdin());
    let preamble = io.preamble.map(<[u8]>::to_vec);
    cmd.stdin(if forward || preamble.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // With a wait, the reads must be able to end when the wait does: a
    // master holds a mux client's pipes open until the remote command
    // ends, so they are sockets that the CLI shuts.
    let ends = until.map(|_| Ends::new(&mut cmd)).transpose()?.flatten();
    let (mut child, _guard) = interrupt::spawn(&mut cmd, "ssh")?;
    drop(cmd);
    let fed_bytes = Arc::new(AtomicU64::new(0));
    let fed_end = Arc::new(AtomicBool::new(!forward));
    if let Some(mut to) = child.stdin.take() {
        let (bytes, end) = (Arc::clone(&fed_bytes), Arc::clone(&fed_end));
        // Not joined: a stdin that never ends must not keep the CLI alive
        // once the command has.
        std::thread::spawn(move || {
            // The secrets first, whole, before any byte of stdin.
            if let Some(p) = preamble
                && to.write_all(&p).is_err()
            {
                return;
            }
            if !forward {
                return;
            }
            let mut from = std::io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match from.read(&mut buf) {
                    Ok(0) => {
                        end.store(true, Ordering::SeqCst);
                        break;
                    }
                    Ok(n) => {
                        bytes.fetch_add(n as u64, Ordering::SeqCst);
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
    }
    let (mut out, mut err): (Box<dyn Read + Send>, Box<dyn Read + Send>) = match &ends {
        Some(ends) => ends.readers()?,
        None => (
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        ),
    };
    let (stdout, stderr) = (&mut *io.stdout, &mut *io.stderr);
    let mut let_go = false;
    let (status, (out_n, out_closed), (err_n, err_closed)) = std::thread::scope(|scope| {
        // A reader that went away (`| head`) ends the run at once: with a
        // master holding the pipes, nothing else would, and the command
        // would write into its run's files for ever.
        let end = || remote::end_remote(s, run_id);
        let o = scope.spawn(move || pass(&mut out, stdout, end));
        let e = scope.spawn(move || pass(&mut err, stderr, end));
        let status = match until {
            None => child.wait(),
            Some(until) => wait_until(&mut child, until, &mut let_go),
        };
        if let (true, Some(ends)) = (let_go, &ends) {
            ends.shut();
        }
        if interrupt::interrupted() {
            remote::end_remote(s, run_id);
        }
        let passed =
            |h: std::thread::ScopedJoinHandle<'_, (u64, bool)>| h.join().unwrap_or((0, true));
        (status, passed(o), passed(e))
    });
    got.out += out_n;
    got.err += err_n;
    let status = status.map_err(Error::spawn("ssh"))?;
    let fed = Fed {
        bytes: fed_bytes.load(Ordering::SeqCst),
        ended: fed_end.load(Ordering::SeqCst),
        closed: out_closed || err_closed,
        let_go,
    };
    Ok((status, fed))
}

/// The CLI's ends of a command's stdout and stderr as sockets (Unix), so
/// that their reads can be ended early (`shut`).
struct Ends {
    #[cfg(unix)]
    out: std::os::unix::net::UnixStream,
    #[cfg(unix)]
    err: std::os::unix::net::UnixStream,
}

impl Ends {
    /// Gives `cmd` the other ends; None where pipes end with ssh itself
    /// (Windows has no multiplexing).
    #[cfg(unix)]
    fn new(cmd: &mut Command) -> Result<Option<Ends>> {
        use std::os::unix::net::UnixStream;
        let pair = || UnixStream::pair().map_err(Error::spawn("ssh"));
        let ((out, out_theirs), (err, err_theirs)) = (pair()?, pair()?);
        cmd.stdout(Stdio::from(std::os::fd::OwnedFd::from(out_theirs)))
            .stderr(Stdio::from(std::os::fd::OwnedFd::from(err_theirs)));
        Ok(Some(Ends { out, err }))
    }

    #[cfg(not(unix))]
    fn new(_: &mut Command) -> Result<Option<Ends>> {
        Ok(None)
    }

    #[cfg(unix)]
    fn readers(&self) -> Result<(Box<dyn Read + Send>, Box<dyn Read + Send>)> {
        let clone = |s: &std::os::unix::net::UnixStream| s.try_clone().map_err(Error::spawn("ssh"));
        Ok((Box::new(clone(&self.out)?), Box::new(clone(&self.err)?)))
    }

    #[cfg(not(unix))]
    fn readers(&self) -> Result<(Box<dyn Read + Send>, Box<dyn Read + Send>)> {
        unreachable!("no Ends off Unix")
    }

    /// Ends the reads: what is not read yet stays in the run's record.
    fn shut(&self) {
        #[cfg(unix)]
        for s in [&self.out, &self.err] {
            let _ = s.shutdown(std::net::Shutdown::Read);
        }
    }
}

/// Waits for `child` until `until`; then ends it (the ssh, not the run,
/// which its record keeps going) and sets `let_go`.
fn wait_until(
    child: &mut std::process::Child,
    until: Instant,
    let_go: &mut bool,
) -> std::io::Result<ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() >= until {
            *let_go = true;
            let _ = child.kill();
            return child.wait();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Copies `from` to `to` as it comes (each chunk flushed: an agent reading
/// the output sees it at once); returns the bytes passed on, and whether
/// `to` went away (a closed pipe), which stops the copy after `on_close`.
fn pass(from: &mut impl Read, to: &mut (dyn Write + Send), on_close: impl FnOnce()) -> (u64, bool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match from.read(&mut buf) {
            Ok(0) => return (total, false),
            Ok(n) => {
                if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
                    on_close();
                    return (total, true);
                }
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return (total, false),
        }
    }
}

/// What `exec` and `attach` tell of a run they followed from `start` to
/// `got`: its id, whether it still runs, its status and how it ended, and
/// where each stream stands (`Output::details`: the MCP tools read it). The
/// CLI's exit status is the command's own; a run left going is
/// `still_running` (75).
pub fn report(
    ctx: &Ctx,
    ws: u64,
    run_id: &str,
    start: Got,
    got: Got,
    ended: Option<(i32, How)>,
    waited: u64,
) -> Result<i32> {
    let mut value = serde_json::json!({
        "workspace_id": ws,
        "run_id": run_id,
        "running": ended.is_none(),
        "stdout_offset": start.out,
        "stdout_next_offset": got.out,
        "stdout_skipped_bytes": got.out_dropped - start.out_dropped,
        "stderr_offset": start.err,
        "stderr_next_offset": got.err,
        "stderr_skipped_bytes": got.err_dropped - start.err_dropped,
    });
    if let Some((status, how)) = ended {
        value["exit_status"] = status.into();
        value["ended"] = how.word().into();
    }
    ctx.out.details(value);
    for (name, skipped) in [
        ("stdout", got.out_dropped - start.out_dropped),
        ("stderr", got.err_dropped - start.err_dropped),
    ] {
        if skipped > 0 {
            ctx.out.progress(&format!(
                "runcode: {skipped} bytes of run {run_id}'s {name} were no longer kept on the workspace (it keeps the last {} MiB of each stream)",
                frames::PIECE * frames::PIECES / (1024 * 1024)
            ));
        }
    }
    match ended {
        None => Err(Error::StillRunning {
            run_id: run_id.to_owned(),
            waited,
        }),
        Some((status, How::Exit)) => Ok(status),
        Some((status, how)) => {
            ctx.out.progress(&format!(
                "runcode: run {run_id} was ended on the workspace ({}), status {status}",
                match how {
                    How::Timeout => "its timeout ran out",
                    _ => "it was stopped",
                }
            ));
            Ok(status)
        }
    }
}
