//! Commands longer than the agent's patience (R19), through the real CLI
//! and `runcode mcp` against the devplane's sshd: `exec` hands a run back
//! at its wait and the run goes on; `run_output` and `attach` follow it
//! with nothing repeated and nothing lost, across a link reset; an ended
//! run answers the same again; `run_stop` and `runs --stop` leave nothing
//! running; hostile run ids run nothing; a run that prints 1 GiB keeps its
//! files within the cap on the workspace.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::mcp::Raw;
use crate::util::wait_until;
use crate::util::world::{attached_with, running, unique_sleep};

const WAIT: Duration = Duration::from_secs(60);

/// Changes the link in front of workspace 1001 (the devplane's relay).
fn link(dp: &crate::util::devplane::Devplane, change: Value) -> Value {
    dp.post("/_dev/link?workspace_id=1001", change)
}

fn server(cli: &crate::util::cli::Cli) -> Raw {
    let mut cmd = cli.cmd();
    cmd.arg("mcp");
    Raw::start(&mut cmd)
}

/// A tool's structured answer; panics on a tool error.
fn ok(raw: &mut Raw, tool: &str, args: &Value) -> Value {
    let result = raw.call(tool, args);
    assert_ne!(result["isError"], json!(true), "{tool}: {result}");
    result["structuredContent"].clone()
}

/// Run `run_id`'s row in a `runs` answer.
fn row_of(listed: &Value, run_id: &str) -> Value {
    listed["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|r| r["run_id"] == run_id).cloned())
        .unwrap_or_else(|| panic!("{run_id} in {listed}"))
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

/// The command every hand-back test runs: output on both streams before
/// and after its pauses, its own status, and a line in `once.txt` for
/// each time it started.
const LONG: &str = "echo run >> once.txt; echo first; echo e1 >&2; sleep 4; echo second; sleep 3; echo third; echo e2 >&2; exit 3";

#[test]
fn mcp_exec_hands_back_and_run_output_follows_to_the_end_across_a_reset() {
    let (dp, cli, workdir) = attached_with(&["--relay"]);
    let mut raw = server(&cli);
    let first = ok(
        &mut raw,
        "exec",
        &json!({"command": LONG, "wait_seconds": 2}),
    );
    assert_eq!(first["running"], true, "{first}");
    assert!(first.get("exit_status").is_none(), "{first}");
    let run_id = first["run_id"].as_str().unwrap().to_owned();
    let (mut out, mut err) = (String::new(), String::new());
    let mut take = |v: &Value| {
        out.push_str(v["stdout"].as_str().unwrap());
        err.push_str(v["stderr"].as_str().unwrap());
        assert_eq!(v["stdout_dropped_bytes"], 0, "{v}");
    };
    take(&first);
    // One short look while it sleeps: only what is new, if anything.
    let next = ok(
        &mut raw,
        "run_output",
        &json!({"run_id": run_id, "wait_seconds": 1}),
    );
    assert_eq!(next["running"], true, "{next}");
    take(&next);
    // The link resets between two calls: the agent sees no difference.
    link(&dp, json!({"reset": true}));
    let mut last = Value::Null;
    for _ in 0..10 {
        last = ok(
            &mut raw,
            "run_output",
            &json!({"run_id": run_id, "wait_seconds": 5}),
        );
        take(&last);
        if last["running"] == false {
            break;
        }
    }
    assert_eq!(last["running"], false, "{last}");
    assert_eq!(
        (&last["exit_status"], &last["ended"]),
        (&json!(3), &json!("exit"))
    );
    assert_eq!(out, "first\nsecond\nthird\n");
    assert_eq!(err, "e1\ne2\n");
    assert_eq!(lines(&workdir.join("once.txt")), 1, "it ran once");
    // An ended run answers the same again, with nothing repeated.
    let again = ok(&mut raw, "run_output", &json!({"run_id": run_id}));
    assert_eq!(
        (&again["running"], &again["exit_status"]),
        (&json!(false), &json!(3))
    );
    assert_eq!(
        (&again["stdout"], &again["stderr"]),
        (&json!(""), &json!(""))
    );
    // An offset re-reads older bytes.
    let reread = ok(
        &mut raw,
        "run_output",
        &json!({"run_id": run_id, "stdout_offset": 6, "stderr_offset": 0}),
    );
    assert_eq!(reread["stdout"], "second\nthird\n", "{reread}");
    assert_eq!(reread["stdout_offset"], 6, "{reread}");
    assert_eq!(reread["stderr"], "e1\ne2\n", "{reread}");
    // A short command needs no second call, and says its run.
    let short = ok(&mut raw, "exec", &json!({"command": "echo done; exit 4"}));
    assert_eq!(
        (&short["running"], &short["exit_status"]),
        (&json!(false), &json!(4))
    );
    assert_eq!(short["stdout"], "done\n");
    assert!(short["run_id"].is_string(), "{short}");
    raw.close();
}

#[test]
fn run_stop_leaves_nothing_running_and_hostile_run_ids_run_nothing() {
    let (_dp, cli, workdir) = attached_with(&[]);
    let mut raw = server(&cli);
    let sleep = unique_sleep(31);
    let line = format!("echo started; sleep {sleep}; echo never");
    let first = ok(
        &mut raw,
        "exec",
        &json!({"command": line, "wait_seconds": 1}),
    );
    assert_eq!(first["running"], true, "{first}");
    let run_id = first["run_id"].as_str().unwrap().to_owned();
    assert!(!running(&format!("sleep {sleep}")).is_empty());
    let listed = ok(&mut raw, "runs", &json!({}));
    let row = row_of(&listed, &run_id);
    assert_eq!(row["state"], "running", "{row}");
    assert!(
        row["command"].as_str().unwrap().contains("echo started"),
        "{row}"
    );

    let stopped = ok(&mut raw, "run_stop", &json!({"run_id": run_id}));
    assert_eq!(
        (&stopped["stopped"], &stopped["running"]),
        (&json!(true), &json!(false))
    );
    wait_until("the run's processes are gone", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
    let after = ok(&mut raw, "run_output", &json!({"run_id": run_id}));
    assert_eq!(
        (&after["running"], &after["ended"]),
        (&json!(false), &json!("interrupted"))
    );
    assert!(
        !after["stdout"].as_str().unwrap().contains("never"),
        "{after}"
    );
    let again = ok(&mut raw, "run_stop", &json!({"run_id": run_id}));
    assert_eq!(again["stopped"], false, "already ended: {again}");

    let runs = workdir.parent().unwrap().join("cache/runcode/runs");
    let before: Vec<_> = std::fs::read_dir(&runs).unwrap().flatten().collect();
    for hostile in [
        "../x".to_owned(),
        "$(touch pwned)".to_owned(),
        "1;touch pwned".to_owned(),
        String::new(),
        "1".repeat(5000),
    ] {
        for tool in ["run_output", "run_stop"] {
            let r = raw.call(tool, &json!({"run_id": hostile}));
            assert_eq!(r["isError"], true, "{tool} {hostile:?}: {r}");
            assert_eq!(r["structuredContent"]["error"], "usage", "{r}");
        }
    }
    assert!(!workdir.join("pwned").exists());
    let after: Vec<_> = std::fs::read_dir(&runs).unwrap().flatten().collect();
    assert_eq!(before.len(), after.len(), "nothing reached the workspace");
    raw.close();
}

#[test]
fn the_cli_hands_back_goes_on_from_an_offset_and_stops_a_run() {
    let (_dp, cli, workdir) = attached_with(&[]);
    // exec --wait: the output so far, still_running (75), the run named.
    let out = cli.run(&["--json", "exec", "--wait", "2", "--", LONG]);
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("first\n"), "{text}");
    let failure: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(failure["error"], "still_running", "{failure}");
    let run_id = failure["run_id"].as_str().unwrap().to_owned();
    assert_eq!(failure["stdout_next_offset"], 6, "{failure}");
    // attach from there: the rest only, and the command's own status.
    let out = cli.run(&[
        "attach",
        &run_id,
        "--stdout-offset",
        "6",
        "--stderr-offset",
        "3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "second\nthird\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "e2\n");
    assert_eq!(lines(&workdir.join("once.txt")), 1, "it ran once");

    // --timeout ends the command on the workspace, followed or not.
    let out = cli.run(&["exec", "--timeout", "1", "--", "sleep 30"]);
    assert_eq!(out.status.code(), Some(124), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timeout"),
        "{out:?}"
    );

    // runs --stop ends a detached run and everything it started.
    let sleep = unique_sleep(32);
    let started = cli.ok(&[
        "exec",
        "--detach",
        "--",
        &format!("sleep {sleep} & sleep {sleep}"),
    ]);
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    assert!(!running(&format!("sleep {sleep}")).is_empty());
    let stopped = cli.ok(&["runs", "--stop", &run_id]);
    assert_eq!(stopped["stopped"], true, "{stopped}");
    wait_until("the run's processes are gone", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
    let listed = cli.ok(&["runs"]);
    let row = row_of(&listed, &run_id);
    assert_eq!(row["state"], "interrupted", "{row}");
    cli.fails(&["runs", "--stop", "999-9-9"], "not_found", 2);
    cli.fails(&["runs", "--stop", "1;rm -rf /"], "usage", 2);
}

/// Sizes of the files under `dir`, in bytes.
fn size_of(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_run_that_prints_a_gibibyte_keeps_its_files_within_the_cap() {
    let (_dp, cli, workdir) = attached_with(&[]);
    let started = cli.ok(&[
        "exec",
        "--detach",
        "--",
        "head -c 1073741824 /dev/zero; echo end >&2",
    ]);
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    let record = workdir
        .parent()
        .unwrap()
        .join("cache/runcode/runs")
        .join(&run_id);
    let cap = 64 << 20;
    let mut largest = 0;
    wait_until("the run ends", Duration::from_secs(300), || {
        largest = largest.max(size_of(&record));
        assert!(largest <= cap + (1 << 20), "{largest} bytes kept");
        record.join("status").exists()
    });
    // The whole of it printed, the kept part is the newest.
    let out = cli.run(&["attach", &run_id]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.len() <= cap as usize && out.stdout.len() >= 56 << 20);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.starts_with("end\n"), "{said}");
    assert!(said.contains("no longer kept"), "{said}");
}
