//! One tool call of `runcode mcp` is one run of this same CLI, as
//! `runcode --json <command> ...`, with its result object sent to a file of
//! its own (`RUNCODE_RESULT_FILE`) so that its stdout is only the command's
//! bytes, and its progress lines to another (`RUNCODE_PROGRESS_FILE`) so
//! that its stderr is only the command's too. That child keeps every rule the CLI has (a session renewed once, a
//! command never run twice, Ctrl-C ending the remote command, nothing left
//! half-written), and a call that goes wrong cannot take the server down.
//!
//! Ending a call early (the client's cancellation, the timeout of `exec`, the
//! server shutting down) is the CLI's own Ctrl-C, which ends the remote
//! command and removes its temporary files before it exits: the child's stop
//! file (`RUNCODE_STOP_FILE`) appears, and on Unix SIGINT comes with it.
//! Windows has no signal for one process, so there the stop file is the way;
//! a child that has not ended 20 s later is killed with what it started.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::output::{PROGRESS_FILE_VAR, RESULT_FILE_VAR};
use crate::remote::interrupt::STOP_FILE_VAR;

/// How the server starts its children.
pub struct Runner {
    exe: PathBuf,
    dir: PathBuf,
    next: AtomicU64,
    env: Vec<(&'static str, String)>,
}

/// What one call asks for.
pub struct Call {
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    /// Bytes of stdout (and of stderr) kept; the rest is counted.
    pub keep: usize,
    pub timeout: Option<Duration>,
}

impl Call {
    /// `runcode --json <args>`, no stdin, no timeout, the first 64 KiB of
    /// its output kept.
    pub fn new(args: &[&str]) -> Call {
        Call {
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            stdin: None,
            keep: super::READ_KEEP,
            timeout: None,
        }
    }
}

/// Bytes kept from a stream, and how many more there were.
#[derive(Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub dropped: u64,
}

/// How the child ended.
pub struct Outcome {
    /// Its exit status (128 + signal when a signal ended it).
    pub status: i32,
    /// The result or failure object it wrote, if any.
    pub result: Option<Value>,
    pub stdout: Captured,
    pub stderr: Captured,
    pub timed_out: bool,
}

impl Runner {
    /// `exe` is this CLI; `dir` a private directory for the result files;
    /// `env` what the children need from the server's own flags.
    pub fn new(exe: PathBuf, dir: PathBuf, env: Vec<(&'static str, String)>) -> Runner {
        Runner {
            exe,
            dir,
            next: AtomicU64::new(0),
            env,
        }
    }

    /// Runs one call to its end. `lines` gets each of the CLI's progress
    /// lines as it comes; `cancel` ends the call early.
    pub async fn run(
        &self,
        call: Call,
        cancel: CancellationToken,
        mut lines: impl FnMut(String),
    ) -> std::io::Result<Outcome> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let file = CallFile(self.dir.join(format!("{n}.json")));
        let progress = CallFile(self.dir.join(format!("{n}.progress")));
        let stop = self.dir.join(format!("{n}.stop"));
        let mut cmd = tokio::process::Command::new(&self.exe);
        cmd.arg("--json")
            .args(&call.args)
            .env(RESULT_FILE_VAR, &file.0)
            .env(PROGRESS_FILE_VAR, &progress.0)
            .env(STOP_FILE_VAR, &stop)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if call.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn()?;
        let mut guard = Running {
            pid: child.id(),
            stop,
        };
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), call.stdin) {
            tokio::spawn(async move {
                let _ = pipe.write_all(&bytes).await;
                // Dropping the pipe closes it: the remote side sees EOF.
            });
        }
        let mut stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let keep = call.keep;
        let out_task = tokio::spawn(async move { capture(&mut stdout, keep).await });
        let mut stderr = stderr;
        let err_task = tokio::spawn(async move { capture(&mut stderr, keep).await });
        let mut tail = Tail::default();
        let mut poll = tokio::time::interval(Duration::from_millis(100));
        let sleep = async {
            match call.timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(sleep);
        let mut timed_out = false;
        let mut interrupted = false;
        let mut killed = false;
        // Armed once the call is interrupted: the child's time to clean up.
        let grace = tokio::time::sleep(Duration::MAX);
        tokio::pin!(grace);
        let status = loop {
            tokio::select! {
                status = child.wait() => break status?,
                _ = poll.tick() => tail.read(&progress.0, &mut lines),
                () = cancel.cancelled(), if !interrupted => {
                    interrupted = true;
                    guard.interrupt();
                    grace.as_mut().reset(tokio::time::Instant::now() + GRACE);
                }
                () = &mut sleep, if !interrupted => {
                    interrupted = true;
                    timed_out = true;
                    guard.interrupt();
                    grace.as_mut().reset(tokio::time::Instant::now() + GRACE);
                }
                () = &mut grace, if interrupted && !killed => {
                    killed = true;
                    guard.kill();
                }
            }
        };
        guard.pid = None;
        let _ = std::fs::remove_file(&guard.stop);
        let stdout = out_task.await.unwrap_or_default();
        let stderr = err_task.await.unwrap_or_default();
        tail.read(&progress.0, &mut lines);
        let result = std::fs::read(&file.0)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        Ok(Outcome {
            status: crate::remote::exit_code(status),
            result,
            stdout,
            stderr,
            timed_out,
        })
    }
}

/// The complete lines appended to a file since the last read.
#[derive(Default)]
struct Tail {
    offset: u64,
}

impl Tail {
    fn read(&mut self, path: &Path, lines: &mut impl FnMut(String)) {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut f) = std::fs::File::open(path) else {
            return;
        };
        let mut fresh = Vec::new();
        if f.seek(SeekFrom::Start(self.offset)).is_err() || f.read_to_end(&mut fresh).is_err() {
            return;
        }
        let Some(end) = fresh.iter().rposition(|b| *b == b'\n') else {
            return;
        };
        self.offset += end as u64 + 1;
        for line in fresh[..end].split(|b| *b == b'\n') {
            lines(String::from_utf8_lossy(line).trim_end().to_owned());
        }
    }
}

/// Reads a stream to its end, keeping the first `keep` bytes.
async fn capture(stream: &mut (impl AsyncReadExt + Unpin), keep: usize) -> Captured {
    let mut captured = Captured::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return captured,
            Ok(n) => keep_bytes(&mut captured, &buf[..n], keep),
        }
    }
}

fn keep_bytes(captured: &mut Captured, chunk: &[u8], keep: usize) {
    let room = keep.saturating_sub(captured.bytes.len()).min(chunk.len());
    captured.bytes.extend_from_slice(&chunk[..room]);
    captured.dropped += (chunk.len() - room) as u64;
}

/// A file of one call (its result, its progress), removed when the call is
/// over.
struct CallFile(PathBuf);

impl Drop for CallFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// How long an interrupted child has to end the remote command and clean up
/// (its own bound on that is 15 s) before it is killed.
const GRACE: Duration = Duration::from_secs(20);

/// The running child and its stop file. A child still running when its call
/// is dropped (the server shutting down, a client that went away) is
/// interrupted, never left to run on.
struct Running {
    pid: Option<u32>,
    stop: PathBuf,
}

impl Running {
    /// The CLI's Ctrl-C, for this child: its stop file appears, and on Unix
    /// SIGINT comes with it.
    fn interrupt(&self) {
        if let Some(pid) = self.pid {
            let _ = std::fs::write(&self.stop, b"");
            signal(pid);
        }
    }

    /// The child did not end in its grace period: ended with what it started.
    fn kill(&self) {
        if let Some(pid) = self.pid {
            kill_tree(pid);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.interrupt();
    }
}

#[cfg(unix)]
fn signal(pid: u32) {
    crate::remote::interrupt::send(pid, rustix::process::Signal::INT);
}

/// Windows has no signal for one process without a shared console: the
/// stop file alone asks.
#[cfg(not(unix))]
fn signal(_pid: u32) {}

/// A last resort, for a child stuck past its own bounds: on Unix SIGKILL
/// ends the child alone; on Windows the child and what it started.
#[cfg(unix)]
fn kill_tree(pid: u32) {
    crate::remote::interrupt::send(pid, rustix::process::Signal::KILL);
}

#[cfg(not(unix))]
fn kill_tree(pid: u32) {
    crate::remote::interrupt::taskkill(pid, true);
}

/// A private directory for the result files (mode 0700 on Unix).
pub fn private_dir(base: &Path) -> std::io::Result<PathBuf> {
    let dir = base.join(runcode_rules::temp::name("runcode-mcp-", ""));
    #[cfg(unix)]
    let builder = {
        use std::os::unix::fs::DirBuilderExt;
        let mut builder = std::fs::DirBuilder::new();
        builder.mode(0o700);
        builder
    };
    #[cfg(not(unix))]
    let builder = std::fs::DirBuilder::new();
    builder.create(&dir)?;
    Ok(dir)
}
