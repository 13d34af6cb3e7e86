//! A remote command runs at most once (R12): a retry happens only when ssh
//! failed before the command could start; Ctrl-C and a connection dropped
//! mid-command are reported, never re-run, and leave nothing running. All
//! against the devplane's real sshd, with Ctrl-C sent as a terminal sends
//! it: SIGINT to the whole foreground process group.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use crate::util::wait_until;
use crate::util::world::{attached, running, unique_sleep};
use serde_json::Value;

/// A `runcode --json <args>` in a process group of its own, like a job a
/// shell started in the foreground.
fn spawn_job(cli: &Cli, args: &[&str]) -> Child {
    spawn_job_from(&mut cli.cmd(), args)
}

fn spawn_job_from(cmd: &mut Command, args: &[&str]) -> Child {
    cmd.arg("--json")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap()
}

/// Ctrl-C at a terminal: SIGINT to every process of the job's group.
fn ctrl_c(job: &Child) {
    let status = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", job.id())])
        .status()
        .unwrap();
    assert!(status.success());
}

/// The lines of a file the remote command appends to at each run.
fn runs(workdir: &Path, name: &str) -> usize {
    std::fs::read_to_string(workdir.join(name))
        .unwrap_or_default()
        .lines()
        .count()
}

/// Ctrl-C, then the outcome every interrupted command has: exit 130 and
/// the `interrupted` object.
fn interrupt(job: Child) {
    ctrl_c(&job);
    let (code, value, stderr) = finish(job);
    assert_eq!(
        (code, value["error"].as_str()),
        (130, Some("interrupted")),
        "{stderr}"
    );
}

/// Waits for the job's first line on stderr (the rest is drained and lost).
fn first_stderr_line(job: &mut Child) -> String {
    use std::io::BufRead;
    let mut reader = std::io::BufReader::new(job.stderr.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    line
}

fn finish(job: Child) -> (i32, Value, String) {
    let out = job.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    let value = serde_json::from_str(&last).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or_else(|| {
            use std::os::unix::process::ExitStatusExt;
            -out.status.signal().unwrap_or(1000)
        }),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An attached workspace, the mints so far, and an `exec` whose remote
/// command has started (it notes its run in runs.txt, then sleeps).
fn exec_under_way(sleep: &str) -> (Devplane, Cli, PathBuf, u64, Child) {
    let (dp, cli, workdir) = attached();
    let before = dp.mints();
    let line = format!("echo run >> runs.txt; sleep {sleep}");
    let job = spawn_job(&cli, &["exec", "--", &line]);
    wait_until("the remote command", WAIT, || {
        runs(&workdir, "runs.txt") == 1
    });
    (dp, cli, workdir, before, job)
}

/// The longest a test waits for the other side to get somewhere.
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn ctrl_c_during_exec_ends_the_remote_command_and_never_reruns_it() {
    let sleep = unique_sleep(43);
    let (dp, cli, workdir, before, job) = exec_under_way(&sleep);
    ctrl_c(&job);
    let (code, value, stderr) = finish(job);
    assert_eq!(code, 130, "{value} {stderr}");
    assert_eq!(value["error"], "interrupted", "{stderr}");
    wait_until("the remote command to end", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
    assert_eq!(runs(&workdir, "runs.txt"), 1, "run once");
    assert_eq!(dp.mints(), before, "no retry, no mint");
    assert!(!stderr.contains("trying once more"), "{stderr}");
    // The session is still good for the next command.
    let out = cli.run(&["exec", "--", "echo", "next"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "next");
    // `runs` tells them apart: the interrupted one, the command's first
    // line, a start time; under a header without --json.
    let listed = cli.ok(&["runs"]);
    let rows = listed["runs"].as_array().unwrap().clone();
    let stopped = rows
        .iter()
        .find(|r| r["command"].as_str().unwrap_or_default().contains(&sleep))
        .unwrap_or_else(|| panic!("the interrupted run: {listed}"));
    assert_eq!(stopped["state"], "interrupted", "{stopped}");
    assert!(stopped["started_at"].is_string(), "{stopped}");
    let next = rows
        .iter()
        .find(|r| r["command"] == "echo next")
        .unwrap_or_else(|| panic!("the next run: {listed}"));
    assert_eq!(
        (&next["state"], &next["exit_status"]),
        (&serde_json::json!("done"), &serde_json::json!(0))
    );
    let shown = String::from_utf8_lossy(&cli.run(&["runs"]).stdout).into_owned();
    assert!(shown.lines().next().unwrap().starts_with("RUN"), "{shown}");
    assert!(
        shown.contains("interrupted") && shown.contains("exit 0"),
        "{shown}"
    );
}

/// `attach` to a run whose client was killed follows it and says nothing
/// about a dropped connection: none dropped.
#[test]
fn attach_to_a_run_whose_client_died_reports_no_drop() {
    let sleep = unique_sleep(44);
    let (dp, cli, _workdir, _before, mut job) =
        exec_under_way(&format!("2; echo late; sleep {sleep}"));
    let _ = job.kill();
    let _ = job.wait();
    let listed = cli.ok(&["runs"]);
    let run_id = listed["runs"][0]["run_id"].as_str().unwrap().to_owned();
    let mut attach = cli
        .cmd()
        .args(["attach", &run_id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = attach.stdout.take().unwrap();
    let seen = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut text);
        text
    });
    let recorded = dp
        .data_dir
        .join(format!("ws-1001/cache/runcode/runs/{run_id}/out.000000"));
    wait_until("the run prints late", WAIT, || {
        std::fs::read_to_string(&recorded).is_ok_and(|t| t.contains("late"))
    });
    // The run goes on (`sleep`): end it, and attach ends with it.
    let _ = cli.run(&["exec", "--", &format!("pkill -f '^sleep {sleep}$'")]);
    let status = crate::util::poll(WAIT, || attach.try_wait().ok().flatten());
    assert!(status.is_some(), "attach ends with its run");
    let mut stderr = String::new();
    if let Some(mut e) = attach.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(!stderr.contains("dropped"), "{stderr}");
    assert!(seen.join().unwrap().contains("late"));
}

#[test]
fn a_connection_dropped_mid_command_is_reported_and_not_rerun() {
    let sleep = unique_sleep(43);
    let (dp, _cli, workdir, before, job) = exec_under_way(&sleep);
    dp.post("/_dev/drop?workspace_id=1001", serde_json::json!({}));
    let (code, value, stderr) = finish(job);
    assert_eq!(code, 255, "{value} {stderr}");
    assert_eq!(value["error"], "ssh_failed", "{stderr}");
    assert!(
        value["message"].as_str().unwrap().contains("not run again"),
        "{value}"
    );
    assert_eq!(runs(&workdir, "runs.txt"), 1, "run once");
    assert_eq!(dp.mints(), before, "no retry, no mint");
    wait_until("nothing left", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
}

#[test]
fn a_key_revoked_before_the_command_gets_one_remint_and_one_run() {
    let (dp, cli, workdir) = attached();
    cli.ok(&["disconnect", "--keep"]); // no connection: the next one authenticates
    // Revoked before `connect`, which reuses the session and opens its
    // connection in the background: that connection is refused too, and
    // the command, joining it, hears of the refusal once.
    dp.post("/_dev/revoke?workspace_id=1001", serde_json::json!({}));
    cli.ok(&["connect", "1001"]);
    let before = dp.mints();
    let out = cli.run(&["--json", "exec", "--", "echo run >> runs.txt; echo done"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "done");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Said once, in runcode's words, with what it did about it.
    assert_eq!(stderr.matches("Permission denied").count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused this session's key") && stderr.contains("starting a new session"),
        "{stderr}"
    );
    assert_eq!(dp.mints(), before + 1, "one re-mint");
    assert_eq!(runs(&workdir, "runs.txt"), 1, "one run");
}

#[test]
fn ctrl_c_during_put_get_and_write_leaves_nothing_half_written() {
    let (_dp, cli, workdir) = attached();
    let sleep = unique_sleep(43);
    // put: the local file is a FIFO whose writer stays open, so the upload is
    // under way (its temporary file on the workspace) when Ctrl-C comes.
    let fifo = cli.tmp.path().join("pipe.bin");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let job = spawn_job(&cli, &["put", fifo.to_str().unwrap(), "pipe.bin"]);
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    std::io::Write::write_all(&mut writer, &[b'p'; 100_000]).unwrap();
    let temporary = || {
        std::fs::read_dir(&workdir).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pipe.bin.runcode-tmp")
        })
    };
    wait_until("the upload", WAIT, temporary);
    interrupt(job);
    drop(writer);
    wait_until("the temporary file to go", WAIT, || !temporary());
    assert!(
        !workdir.join("pipe.bin").exists(),
        "nothing under the real name"
    );

    // write: stdin stays open, so the stream is being read when Ctrl-C comes.
    let mut job = cli
        .cmd()
        .args(["--json", "write", "half.txt"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut stdin = job.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &[b'x'; 100_000]).unwrap();
    let spooled = || {
        std::fs::read_dir(cli.session_dir(1001))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".spool"))
    };
    wait_until("the stream being read", WAIT, spooled);
    ctrl_c(&job);
    let (code, value, stderr) = finish(job);
    drop(stdin);
    assert_eq!(
        (code, value["error"].as_str()),
        (130, Some("interrupted")),
        "{stderr}"
    );
    assert!(!spooled(), "the local spool is gone");
    assert!(
        std::fs::read_dir(&workdir)
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("half")),
        "nothing on the workspace"
    );

    // get: the remote file is a FIFO whose writer never finishes.
    let slow = format!("slow{sleep}");
    cli.ok(&[
        "exec",
        "--",
        &format!("mkfifo {slow} && ((printf abc; sleep {sleep}) > {slow} &) </dev/null >/dev/null 2>&1; echo {{}}"),
    ]);
    let out_dir = cli.tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let job = spawn_job(
        &cli,
        &[
            "get",
            &slow,
            "--out",
            out_dir.join("slow.txt").to_str().unwrap(),
        ],
    );
    // The reader on the workspace is blocked on the FIFO: the get is under
    // way. The process table is the whole machine's, and other tests run
    // `get` too, so only a reader of this test's FIFO counts: a Ctrl-C sent
    // before this CLI is running its ssh would find no handler yet.
    wait_until("the remote reader", WAIT, || {
        running(&slow).iter().any(|p| p.contains("wc -c"))
    });
    interrupt(job);
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "nothing local, not even a temporary file"
    );
    let _ = cli.run(&[
        "exec",
        "--",
        &format!("pkill -f 'sleep {sleep}'; rm -f {slow}"),
    ]);
    wait_until("nothing left", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
}

#[test]
fn ctrl_c_while_waiting_for_a_start_or_a_login_exits_130_with_json() {
    let dp = Devplane::start(&["--boot-delay", "60"]);
    let cli = Cli::new(&dp);
    let job = spawn_job(&cli, &["connect", "1002", "--start", "--wait"]);
    wait_until("the start", WAIT, || dp.state(1002) == "starting");
    interrupt(job);

    let bare = Cli::bare(&dp.api);
    let mut job = spawn_job(&bare, &["login", "--no-browser", "--timeout", "60"]);
    let said = first_stderr_line(&mut job);
    assert!(said.contains("open this URL"), "{said}");
    interrupt(job);
    assert!(!bare.home.join(".config/runcode/token").exists());
}

/// `runcode mcp` on Windows cannot signal one process: it interrupts a call
/// by making the call's stop file appear, or, when the server is gone, by
/// its directory vanishing. Either is the CLI's Ctrl-C, with everything
/// Ctrl-C does: the remote command ended and never re-run, exit 130.
#[test]
fn a_stop_file_is_ctrl_c_for_a_parent_that_cannot_signal() {
    let sleep = unique_sleep(43);
    let (dp, cli, workdir) = attached();
    let before = dp.mints();
    let scratch = crate::util::world::scratch("stop");
    let stop = scratch.path().join("call.stop");
    let line = format!("echo run >> runs.txt; sleep {sleep}");
    let job = spawn_job_from(
        cli.cmd().env("RUNCODE_STOP_FILE", &stop),
        &["exec", "--", &line],
    );
    wait_until("the remote command", WAIT, || {
        runs(&workdir, "runs.txt") == 1
    });
    std::fs::write(&stop, "").unwrap();
    let (code, value, stderr) = finish(job);
    assert_eq!(
        (code, value["error"].as_str()),
        (130, Some("interrupted")),
        "{stderr}"
    );
    wait_until("the remote command to end", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
    assert_eq!(runs(&workdir, "runs.txt"), 1, "run once");
    assert_eq!(dp.mints(), before, "no retry, no mint");

    // The server's directory gone: the same.
    let gone = scratch.path().join("server");
    std::fs::create_dir(&gone).unwrap();
    let dp = Devplane::start(&["--boot-delay", "60"]);
    let cli = Cli::new(&dp);
    let job = spawn_job_from(
        cli.cmd().env("RUNCODE_STOP_FILE", gone.join("1.stop")),
        &["connect", "1002", "--start", "--wait"],
    );
    wait_until("the start", WAIT, || dp.state(1002) == "starting");
    std::fs::remove_dir(&gone).unwrap();
    let (code, value, stderr) = finish(job);
    assert_eq!(
        (code, value["error"].as_str()),
        (130, Some("interrupted")),
        "{stderr}"
    );
}
