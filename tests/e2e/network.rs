//! Real networks (R15): the devplane's relay between the CLI and the
//! gateway's real sshd freezes, resets or black-holes the link on demand,
//! and the CLI must never hang, run a command twice, or lose a byte: an idle
//! master on a dead link is replaced, a run the link dropped under is picked
//! up where the client stopped with its real exit status, a link that
//! stays down ends in `disconnected` naming the run, which `runcode runs`
//! and `runcode attach` find later; and nothing a workspace ran outlives
//! the devplane.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use crate::util::{wait_for, wait_until};

/// The command the mid-run tests drop the link under: a line on each
/// stream, a pause, another line on each, and its own status.
const RUN: &str = "echo a; echo A >&2; sleep 3; echo b; echo B >&2; exit 7";

/// The longest a test waits for a fault to be noticed (the keepalives give
/// up within 15 s) and the run to end.
const WAIT: Duration = Duration::from_secs(90);

fn with_relay() -> (Devplane, Cli) {
    let dp = Devplane::start(&["--relay"]);
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    (dp, cli)
}

/// Changes the link in front of workspace 1001.
fn link(dp: &Devplane, change: Value) -> Value {
    dp.post("/_dev/link?workspace_id=1001", change)
}

/// The workspace's project directory (on this machine: the devplane's).
fn workdir(dp: &Devplane) -> std::path::PathBuf {
    std::path::PathBuf::from(dp.gateway(1001)["workdir"].as_str().unwrap())
}

/// A `runcode exec` of `RUN` under way.
struct Running {
    child: Child,
    /// The rest of its stdout, read as it comes.
    rest: std::thread::JoinHandle<String>,
}

/// Starts `runcode exec` of `RUN` (with `extra` flags of exec) and waits
/// until its first line has arrived, which it answers.
fn exec_until_first_line(cli: &Cli, extra: &[&str]) -> (Running, String) {
    let mut cmd = cli.cmd();
    cmd.arg("exec").args(extra).args(["--", RUN]);
    first_line(cmd)
}

/// Starts `cmd` with its streams piped and waits until its first line of
/// stdout has arrived, which it answers.
fn first_line(mut cmd: std::process::Command) -> (Running, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        rest
    });
    (Running { child, rest }, first)
}

/// Waits for the run; answers its status, all of its stdout after the
/// first line, the lines of its stderr that are the command's (not the
/// CLI's own `runcode:` progress), and the whole stderr.
fn finish(mut run: Running) -> (Option<i32>, String, Vec<String>, String) {
    let mut stderr = String::new();
    run.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = run.child.wait().unwrap();
    let rest = run.rest.join().unwrap();
    let commands: Vec<String> = stderr
        .lines()
        .filter(|l| !l.starts_with("runcode:"))
        .map(str::to_owned)
        .collect();
    (status.code(), rest, commands, stderr)
}

/// Processes anywhere whose environment carries `RUNCODE_RUN_ID=<run_id>`.
fn processes_of_run(run_id: &str) -> usize {
    processes_with(&format!("RUNCODE_RUN_ID={run_id}"))
}

/// Processes anywhere whose environment holds exactly `entry`.
fn processes_with(entry: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .is_ok_and(|raw| raw.split(|b| *b == 0).any(|v| v == entry.as_bytes()))
        })
        .count()
}

#[test]
fn an_idle_master_on_a_frozen_link_is_replaced_and_the_command_runs_once() {
    let (dp, cli) = with_relay();
    // A master is up, idle; then the laptop sleeps and wakes on another
    // network: the open connection is dead, new ones go through.
    assert!(cli.run(&["exec", "--", "true"]).status.success());
    link(&dp, json!({"freeze": true}));
    let out = cli.run(&["exec", "--", "echo ran >> runs.txt; echo alive"]);
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref()
        ),
        (Some(0), "alive\n"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs = std::fs::read_to_string(workdir(&dp).join("runs.txt")).unwrap();
    assert_eq!(runs, "ran\n", "run exactly once");
}

/// `RUN` with the link changed by `fault` after its first line: every
/// byte of each stream arrives once, in order, and the status is its own.
fn fault_mid_command(fault: Value) {
    let (dp, cli) = with_relay();
    let (child, first) = exec_until_first_line(&cli, &[]);
    assert_eq!(first, "a\n");
    link(&dp, fault);
    let (code, rest, commands, stderr) = finish(child);
    assert_eq!(code, Some(7), "{stderr}");
    assert_eq!(rest, "b\n", "stdout continues where it stopped: {stderr}");
    assert_eq!(commands, ["A", "B"], "stderr, once each: {stderr}");
}

#[test]
fn a_link_frozen_mid_command_delivers_every_byte_once_and_the_real_status() {
    fault_mid_command(json!({"freeze": true}));
}

#[test]
fn a_link_reset_mid_command_delivers_every_byte_once_and_the_real_status() {
    fault_mid_command(json!({"reset": true}));
}

#[test]
fn no_resume_keeps_the_old_rule_a_reset_is_ssh_failed() {
    let (dp, cli) = with_relay();
    let (child, first) = exec_until_first_line(&cli, &["--json", "--no-resume"]);
    link(&dp, json!({"reset": true}));
    let (code, rest, _, stderr) = finish(child);
    assert_eq!(code, Some(255), "{stderr}");
    // Under --json the failure is one object after what the command printed.
    let failure: Value = serde_json::from_str(rest.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {first}{rest}"));
    assert_eq!(failure["error"], "ssh_failed", "{failure}");
}

#[test]
fn a_link_down_for_good_is_disconnected_naming_the_run_which_attach_picks_up_later() {
    let (dp, cli) = with_relay();
    let mut cmd = cli.cmd();
    // The bound, 5 minutes for users, in seconds here.
    cmd.env("RUNCODE_RESUME_SECS", "2")
        .args(["--json", "exec", "--", RUN]);
    let (run, first) = first_line(cmd);
    assert_eq!(first, "a\n");
    link(&dp, json!({"reset": true, "down": true}));
    let (code, rest, _, stderr) = finish(run);
    assert_eq!(code, Some(255), "{stderr}");
    let failure: Value =
        serde_json::from_str(rest.trim()).unwrap_or_else(|e| panic!("{e}: {rest}"));
    assert_eq!(failure["error"], "disconnected", "{failure}");
    let message = failure["message"].as_str().unwrap();
    let run_id = message
        .split_whitespace()
        .skip_while(|w| *w != "run")
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(
        message.contains(&format!("runcode attach {run_id}")),
        "{message}"
    );

    // The network comes back: the run is listed, and attach gives its whole
    // output and its status.
    link(&dp, json!({"down": false}));
    let listed = wait_for("the run is listed as done", WAIT, || {
        let v = cli.ok(&["runs"]);
        let runs = v["runs"].as_array().cloned().unwrap_or_default();
        runs.into_iter()
            .find(|r| r["run_id"] == run_id.as_str() && r["state"] == "done")
    });
    assert_eq!(listed["exit_status"], 7);
    let out = cli.run(&["attach", &run_id]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\nb\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "A\nB\n");
    assert_eq!(processes_of_run(&run_id), 0, "nothing of the run is left");
    cli.fails(&["attach", "999-9-9"], "not_found", 2);
}

#[test]
fn every_run_is_recorded_and_finished_ones_are_removed_in_batches() {
    let (dp, cli) = with_relay();
    let out = cli.run(&["exec", "--", "printf out; printf err >&2; exit 3"]);
    assert_eq!(
        (
            out.status.code(),
            out.stdout.as_slice(),
            out.stderr.as_slice()
        ),
        (Some(3), &b"out"[..], &b"err"[..])
    );
    let runs = dp.data_dir.join("ws-1001/cache/runcode/runs");
    let first: Vec<_> = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(
        std::fs::read_to_string(runs.join(&first[0]).join("out.000000")).unwrap(),
        "out"
    );
    // The client had all of it. Once eight runs are acknowledged, the
    // next run's wrapper removes them.
    for _ in 0..8 {
        assert!(cli.run(&["exec", "--", "true"]).status.success());
    }
    wait_until("the acknowledged runs are removed", WAIT, || {
        !runs.join(&first[0]).exists()
    });
    let left = std::fs::read_dir(&runs).unwrap().count();
    assert!(left <= 2, "only the runs since: {left}");
}

#[test]
fn stopping_the_devplane_ends_what_its_workspaces_started() {
    let (mut dp, cli) = with_relay();
    // A server started the way the docs say, detached from its session.
    let out = cli.run(&[
        "exec",
        "--",
        "(sleep 300 &) </dev/null >/dev/null 2>&1; echo started",
    ]);
    assert!(out.status.success());
    let marker = format!("RUNCODE_GATEWAY={}", dp.data_dir.join("ws-1001").display());
    let marked = || processes_with(&marker);
    wait_until("the detached sleep runs", WAIT, || marked() > 0);
    assert!(dp.stop().success());
    wait_until("nothing the workspace started is left", WAIT, || {
        marked() == 0
    });
}

/// What an HTTP GET of `/` on the local port answers, if anything.
fn fetch(port: u16) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    std::io::Write::write_all(&mut stream, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").ok()?;
    let mut page = String::new();
    stream.read_to_string(&mut page).ok()?;
    page.contains("200 OK").then_some(page)
}

#[test]
fn a_forward_comes_back_by_itself_after_the_link_resets() {
    let (dp, cli) = with_relay();
    std::fs::write(workdir(&dp).join("page.txt"), "through the forward\n").unwrap();
    let (remote, local) = (crate::util::free_port(), crate::util::free_port());
    let server = format!(
        "(exec python3 -m http.server {remote} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1"
    );
    assert!(cli.run(&["exec", "--", &server]).status.success());
    let forwarded = cli.ok(&[
        "forward",
        &remote.to_string(),
        "--local",
        &local.to_string(),
    ]);
    assert_eq!(forwarded["local"], local);
    let page = wait_for("the forward answers", WAIT, || fetch(local));
    assert!(page.contains("page.txt"), "{page}");

    // The link resets under the master: no command is run, and the forward
    // is back within the keeper's reach.
    link(&dp, json!({"reset": true}));
    wait_for("the forward answers again", WAIT, || {
        fetch(local).filter(|p| p.contains("page.txt"))
    });
    let listed = cli.ok(&["forward", "--list"]);
    assert_eq!(listed["forwards"][0]["local"], local);
    assert_eq!(listed["forwards"][0]["state"], "up", "{listed}");

    let keeper = std::fs::read_to_string(cli.session_dir(1001).join("forwards.pid")).unwrap();
    let keeper = std::path::PathBuf::from(format!("/proc/{}", keeper.trim()));
    assert!(keeper.exists(), "the keeper runs");
    let _ = cli.run(&["exec", "--", &format!("pkill -f 'http.server {remote}'")]);
    cli.ok(&["disconnect"]);
    wait_until("the local end is closed", WAIT, || fetch(local).is_none());
    // disconnect ends the keeper itself, not at its next look.
    wait_until("the keeper is gone", Duration::from_millis(500), || {
        !keeper.exists()
            || std::fs::read_to_string(keeper.join("stat")).is_ok_and(|s| s.contains(") Z "))
    });
}

#[test]
fn context_whose_link_freezes_mid_probe_is_asked_again_on_a_new_connection() {
    let (dp, cli) = with_relay();
    assert!(cli.run(&["exec", "--", "true"]).status.success());
    // A slow link, so the probe is still in flight when the link freezes
    // under the master: the drop comes after the probe started.
    link(&dp, json!({"delay_ms": 2000}));
    let probe = cli
        .cmd()
        .args(["--json", "context"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The remote probe has started once a process of the workspace runs
    // (its shell waits there for the script, a round trip away); then the
    // link freezes under it.
    let marker = format!("RUNCODE_GATEWAY={}", dp.data_dir.join("ws-1001").display());
    wait_until("the probe runs on the workspace", WAIT, || {
        processes_with(&marker) > 0
    });
    link(&dp, json!({"freeze": true, "delay_ms": 0}));
    let out = probe.wait_with_output().unwrap();
    let digest: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(digest["os"], "Linux", "{digest}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("asking again"),
        "the drop came mid-probe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_mcp_exec_tool_picks_its_run_up_after_a_reset() {
    let (dp, cli) = with_relay();
    let runs = dp.data_dir.join("ws-1001/cache/runcode/runs");
    let printed = move || {
        std::fs::read_dir(&runs).ok().is_some_and(|dir| {
            dir.flatten().any(|run| {
                std::fs::read_to_string(run.path().join("out.000000")).is_ok_and(|o| o == "a\n")
            })
        })
    };
    std::thread::scope(|scope| {
        let call = scope.spawn(|| crate::mcp::call(&cli, "exec", &[("command", json!(RUN))]));
        wait_until("the run printed its first line", WAIT, printed);
        link(&dp, json!({"reset": true}));
        let result = call.join().unwrap();
        let value = &result["structuredContent"];
        assert_eq!(value["exit_status"], 7, "{result}");
        assert_eq!(value["stdout"], "a\nb\n", "{result}");
        assert_eq!(value["stderr"], "A\nB\n", "{result}");
    });
}

#[test]
fn a_reader_that_goes_away_ends_the_run_on_the_workspace() {
    // `runcode exec -- yes | head -2`: the command's output has nowhere to
    // go, and on the workspace it writes into its run's files, so the CLI
    // must end it rather than let it fill the disk.
    let (dp, cli) = with_relay();
    let mut child = cli
        .cmd()
        .args(["exec", "--", "yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 4];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader is gone now (dropped with the pipe).
    wait_for("the CLI ends", WAIT, || child.try_wait().unwrap());
    let marker = format!("RUNCODE_GATEWAY={}", dp.data_dir.join("ws-1001").display());
    wait_until("nothing of the run is left on the workspace", WAIT, || {
        processes_with(&marker) == 0
    });
}

#[test]
fn a_command_that_exits_255_itself_is_its_own_status_without_a_word() {
    let (_dp, cli) = with_relay();
    let out = cli.run(&["exec", "--", "echo out; exit 255"]);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "no note of a drop"
    );
}
