//! `runcode mcp` against the devplane: the MCP Inspector from npm lists the
//! tools and calls each one, every result checked on the workspace; a
//! JSON-RPC client cancels and times out a long `exec` and finds nothing
//! left running; hostile input gets the CLI's refusals; with the control
//! plane frozen, a valid session still works (R6); the CLI's own words come
//! as progress, never in a command's stderr.

use crate::util::world::{running, unique_sleep};
use std::process::Command;
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use crate::util::mcp::{Raw, inspector};
use crate::util::{wait_for, wait_until};
use serde_json::{Value, json};

/// `runcode mcp` in the scratch HOME.
fn server(cli: &Cli) -> Command {
    let mut cmd = cli.cmd();
    cmd.arg("mcp");
    cmd
}

/// `tools/call` through the Inspector: the result object.
pub(crate) fn call(cli: &Cli, tool: &str, args: &[(&str, Value)]) -> Value {
    let mut method = vec![
        "--method".to_owned(),
        "tools/call".to_owned(),
        "--tool-name".to_owned(),
        tool.to_owned(),
    ];
    for (k, v) in args {
        method.push("--tool-arg".to_owned());
        method.push(format!("{k}={v}"));
    }
    let method: Vec<&str> = method.iter().map(String::as_str).collect();
    inspector(&server(cli), &method)
}

#[track_caller]
pub(crate) fn ok(result: &Value) -> &Value {
    assert_ne!(result["isError"], true, "{result}");
    &result["structuredContent"]
}

#[track_caller]
pub(crate) fn refused(result: &Value, code: &str) {
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(result["structuredContent"]["error"], code, "{result}");
    assert!(
        result["structuredContent"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{result}"
    );
}

pub(crate) const TOOLS: [&str; 19] = [
    "connect",
    "context",
    "current",
    "disconnect",
    "doctor",
    "edit_file",
    "exec",
    "forward",
    "get",
    "list",
    "list_files",
    "put",
    "read_file",
    "run_output",
    "run_stop",
    "runs",
    "search",
    "secrets",
    "write_file",
];

/// The longest a test waits for the other side to get somewhere.
const WAIT: Duration = Duration::from_secs(30);

#[test]
fn the_inspector_lists_the_tools_and_calls_each_against_the_devplane() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let listed = inspector(&server(&cli), &["--method", "tools/list"]);
    let tools = listed["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    let mut want: Vec<&str> = TOOLS.to_vec();
    want.sort_unstable();
    assert_eq!(names, want);
    for tool in tools {
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 40),
            "a description a model can act on: {tool}"
        );
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        let a = &tool["annotations"];
        assert!(a["title"].as_str().is_some_and(|t| !t.is_empty()), "{tool}");
        for hint in [
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
            "openWorldHint",
        ] {
            assert!(
                a[hint].is_boolean(),
                "every hint decided (docs/mcp.md): {tool}"
            );
        }
        let looks = [
            "list",
            "current",
            "context",
            "read_file",
            "doctor",
            "search",
            "list_files",
            "run_output",
            "runs",
            "secrets",
        ];
        assert_eq!(
            a["readOnlyHint"] == true,
            looks.contains(&tool["name"].as_str().unwrap()),
            "only the tools that only look say so: {tool}"
        );
    }

    let list = call(&cli, "list", &[]);
    assert!(
        ok(&list)["workspaces"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["id"] == 1001)),
        "{list}"
    );
    // An id as a JSON number, as models send it.
    let connected = call(&cli, "connect", &[("workspace", json!(1001))]);
    assert_eq!(ok(&connected)["workspace_id"], 1001);
    let workdir = std::path::PathBuf::from(ok(&connected)["workdir"].as_str().unwrap());
    assert_eq!(ok(&call(&cli, "current", &[]))["workspace_id"], 1001);
    assert!(ok(&call(&cli, "context", &[])).is_object());

    let ran = call(
        &cli,
        "exec",
        &[(
            "command",
            json!("echo hi > from-exec.txt; cat from-exec.txt; echo oops >&2; exit 3"),
        )],
    );
    let ran = ok(&ran);
    assert_eq!(
        (&ran["exit_status"], &ran["stdout"], &ran["stderr"]),
        (&json!(3), &json!("hi\n"), &json!("oops\n")),
        "{ran}"
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("from-exec.txt")).unwrap(),
        "hi\n"
    );
    let fed = call(
        &cli,
        "exec",
        &[
            ("command", json!("wc -c")),
            ("stdin", json!("twelve bytes")),
        ],
    );
    assert_eq!(ok(&fed)["stdout"].as_str().unwrap().trim(), "12");
    let binary = call(&cli, "exec", &[("command", json!("printf 'a\\377\\000b'"))]);
    assert_eq!(
        (&ok(&binary)["stdout_encoding"], &ok(&binary)["stdout"]),
        (&json!("base64"), &json!("Yf8AYg==")),
        "binary output is marked and kept byte for byte"
    );
    let big = call(
        &cli,
        "exec",
        &[("command", json!("yes x | head -c 100000"))],
    );
    assert_eq!(ok(&big)["stdout"].as_str().unwrap().len(), 32 * 1024);
    assert_eq!(ok(&big)["stdout_dropped_bytes"], 100_000 - 32 * 1024);

    ok(&call(
        &cli,
        "write_file",
        &[
            ("path", json!("notes/todo.txt")),
            ("content", json!("- ship it\n")),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(workdir.join("notes/todo.txt")).unwrap(),
        "- ship it\n"
    );
    ok(&call(
        &cli,
        "write_file",
        &[
            ("path", json!("bin.dat")),
            ("content", json!("AP8B")),
            ("base64", json!(true)),
        ],
    ));
    assert_eq!(std::fs::read(workdir.join("bin.dat")).unwrap(), [0, 255, 1]);
    let read = call(&cli, "read_file", &[("path", json!("notes/todo.txt"))]);
    assert_eq!(
        (&ok(&read)["content"], &ok(&read)["encoding"]),
        (&json!("- ship it\n"), &json!("utf-8"))
    );

    std::fs::write(cli.tmp.path().join("local.txt"), "from here\n").unwrap();
    ok(&call(
        &cli,
        "put",
        &[
            ("local", json!("local.txt")),
            ("remote", json!("up/put.txt")),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(workdir.join("up/put.txt")).unwrap(),
        "from here\n"
    );
    ok(&call(
        &cli,
        "get",
        &[
            ("remote", json!("notes/todo.txt")),
            ("local", json!("got.txt")),
        ],
    ));
    assert_eq!(
        std::fs::read_to_string(cli.tmp.path().join("got.txt")).unwrap(),
        "- ship it\n"
    );

    // The workspace shares this machine's loopback: the forward listens on
    // another local port, so the page provably came through it.
    let (port, local) = (crate::util::free_port(), crate::util::free_port());
    ok(&call(
        &cli,
        "exec",
        &[(
            "command",
            json!(format!(
                "(python3 -m http.server {port} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1"
            )),
        )],
    ));
    ok(&call(
        &cli,
        "forward",
        &[("port", json!(port)), ("local_port", json!(local))],
    ));
    let page = wait_for(
        "the forwarded server answers",
        Duration::from_secs(20),
        || {
            ureq::get(&format!("http://127.0.0.1:{local}/"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
        },
    );
    assert!(page.contains("from-exec.txt"), "{page}");
    let forwards = call(&cli, "forward", &[("action", json!("list"))]);
    assert!(
        ok(&forwards).to_string().contains(&port.to_string()),
        "{forwards}"
    );
    ok(&call(
        &cli,
        "forward",
        &[("action", json!("cancel")), ("port", json!(port))],
    ));
    let _ = call(
        &cli,
        "exec",
        &[(
            "command",
            json!(format!("pkill -f 'http[.]server {port}'; true")),
        )],
    );

    assert!(ok(&call(&cli, "doctor", &[]))["checks"].is_array());
    ok(&call(&cli, "disconnect", &[]));
    refused(&call(&cli, "current", &[]), "not_attached");
    refused(
        &call(&cli, "exec", &[("command", json!("true"))]),
        "not_attached",
    );
}

/// A connected scratch HOME, and a JSON-RPC client on `runcode mcp`.
pub(crate) fn attached() -> (Devplane, Cli, std::path::PathBuf, Raw) {
    let (dp, cli, workdir) = crate::util::world::attached();
    let raw = Raw::start(&mut server(&cli));
    (dp, cli, workdir, raw)
}

#[test]
fn a_cancelled_or_timed_out_exec_leaves_nothing_running_on_the_workspace() {
    let (_dp, _cli, workdir, mut raw) = attached();
    // The client cancels a long exec (a user pressing Esc): the remote
    // command is ended, and it ran once.
    let sleep = unique_sleep(51);
    let (id, answer) = raw.start_request(
        "tools/call",
        &json!({"name": "exec", "arguments": {"command": format!("echo run >> runs.txt; sleep {sleep}")}}),
    );
    // Its shell's command line names the sleep before its `echo` has run:
    // wait for the run it notes, so a quick cancel cannot come before it.
    wait_until("the remote command", WAIT, || {
        std::fs::read_to_string(workdir.join("runs.txt")).is_ok_and(|r| r == "run\n")
            && !running(&format!("sleep {sleep}")).is_empty()
    });
    raw.cancel(id);
    wait_until("the remote command to end", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
    assert!(
        answer.recv_timeout(Duration::from_secs(2)).is_err(),
        "a cancelled call gets no answer"
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("runs.txt")).unwrap(),
        "run\n"
    );

    // A timeout: the `timeout` error with what the command printed, and
    // nothing left running.
    let sleep = unique_sleep(52);
    let result = raw.call(
        "exec",
        &json!({"command": format!("echo started; sleep {sleep}"), "timeout_seconds": 2}),
    );
    refused(&result, "timeout");
    assert_eq!(
        result["structuredContent"]["stdout"], "started\n",
        "{result}"
    );
    wait_until("the timed-out command to end", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });

    // The session is still good, and the server still answers.
    let next = raw.call("exec", &json!({"command": "echo next"}));
    assert_eq!(ok(&next)["stdout"], "next\n");

    // The client going away (stdin closed) ends the server and interrupts
    // a call still running.
    let sleep = unique_sleep(53);
    let _ = raw.start_request(
        "tools/call",
        &json!({"name": "exec", "arguments": {"command": format!("sleep {sleep}")}}),
    );
    wait_until("the last remote command", WAIT, || {
        !running(&format!("sleep {sleep}")).is_empty()
    });
    assert!(raw.close().success());
    wait_until("the last remote command to end", WAIT, || {
        running(&format!("sleep {sleep}")).is_empty()
    });
}

/// Each hostile input gets, through the tool, the code the CLI gives it,
/// and nothing reaches the workspace.
#[test]
fn hostile_input_through_the_tools_gets_the_clis_refusals() {
    let (_dp, cli, workdir, mut raw) = attached();
    let cases: [(&str, Value, &[&str]); 6] = [
        // Not a name or an id: one that looks like a flag stays a name.
        (
            "connect",
            json!({"workspace": "--api-base=http://127.0.0.1:9"}),
            &["connect", "--", "--api-base=http://127.0.0.1:9"],
        ),
        (
            "connect",
            json!({"workspace": "99999999999999999999999"}),
            &["connect", "99999999999999999999999"],
        ),
        ("connect", json!({"workspace": " "}), &["connect", " "]),
        // Paths: empty, and one that looks like a flag stays a path.
        ("read_file", json!({"path": ""}), &["get", ""]),
        (
            "read_file",
            json!({"path": "--out=/tmp/stolen"}),
            &["get", "--", "--out=/tmp/stolen"],
        ),
        (
            "write_file",
            json!({"path": "", "content": "x"}),
            &["write", ""],
        ),
    ];
    for (tool, arguments, cli_args) in cases {
        let (_, expected) = cli.json(cli_args);
        let code = expected["error"]
            .as_str()
            .unwrap_or_else(|| panic!("the CLI refuses {cli_args:?}: {expected}"));
        let result = raw.call(tool, &arguments);
        refused(&result, code);
    }
    assert!(!std::path::Path::new("/tmp/stolen").exists());

    // Oversized stdin and content: refused before anything runs.
    let big = "x".repeat(8 * 1024 * 1024 + 1);
    refused(
        &raw.call("exec", &json!({"command": "cat > big.txt", "stdin": big})),
        "usage",
    );
    refused(
        &raw.call("write_file", &json!({"path": "big.txt", "content": big})),
        "usage",
    );
    refused(
        &raw.call(
            "write_file",
            &json!({"path": "b.txt", "content": "not base64!", "base64": true}),
        ),
        "usage",
    );
    assert!(!workdir.join("big.txt").exists() && !workdir.join("b.txt").exists());
    // A wrong type is the client's mistake: an error that says so.
    let wrong = raw.call("exec", &json!({"command": 7}));
    assert_eq!(wrong["isError"], true, "{wrong}");
}

/// R6: with the control plane frozen, a valid session still runs `exec`,
/// `read_file`, `current`; and stdout carries protocol messages only (the
/// client panics on any other line).
#[test]
fn a_valid_session_works_through_the_tools_with_the_control_plane_frozen() {
    let (dp, _cli, _workdir, mut raw) = attached();
    let frozen = Command::new("kill")
        .args(["-STOP", &dp.pid().to_string()])
        .status()
        .unwrap();
    assert!(frozen.success());
    let ran = raw.call(
        "exec",
        &json!({"command": "echo works > r6.txt; echo works"}),
    );
    let read = raw.call("read_file", &json!({"path": "r6.txt"}));
    let current = raw.call("current", &json!({}));
    let _ = Command::new("kill")
        .args(["-CONT", &dp.pid().to_string()])
        .status();
    assert_eq!(ok(&ran)["stdout"], "works\n");
    assert_eq!(ok(&read)["content"], "works\n");
    assert_eq!(ok(&current)["workspace_id"], 1001);
}

/// A boot reported as progress: `connect` to a stopped workspace sends
/// progress notifications to a client that asked for them.
#[test]
fn connect_reports_a_boot_as_progress() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    dp.get("/api/rc/workspace/stop?workspace_id=1001");
    dp.wait_state(1001, "stopped");
    let mut raw = Raw::start(&mut server(&cli));
    let answer = raw.request(
        "tools/call",
        &json!({"name": "connect", "arguments": {"workspace": "1001"}, "_meta": {"progressToken": "boot"}}),
    );
    assert_eq!(
        answer["result"]["structuredContent"]["workspace_id"], 1001,
        "{answer}"
    );
    // Notifications and the answer share the pipe but not an order.
    let mut notes = Vec::new();
    wait_until("progress during the boot", WAIT, || {
        notes.extend(raw.notes());
        notes.iter().any(|n| {
            n["method"] == "notifications/progress"
                && n["params"]["progressToken"] == "boot"
                && n["params"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
        })
    });
    assert_eq!(dp.state(1001), "running");
}

/// The CLI's own words about a call (here: a revoked key, one fresh
/// session) come as progress notifications, never inside the command's
/// `stderr`.
#[test]
fn exec_stderr_is_the_commands_own_and_a_renewal_is_progress() {
    let (dp, cli, _workdir, mut raw) = attached();
    let warm = raw.call("exec", &json!({"command": "true"}));
    assert_eq!(ok(&warm)["exit_status"], 0, "{warm}");
    cli.ok(&["disconnect", "--keep"]);
    // Revoked before `connect`, whose connection (opened in the background)
    // must not authenticate ahead of the revocation.
    dp.post("/_dev/revoke?workspace_id=1001", json!({}));
    cli.ok(&["connect", "1001"]);
    let before = dp.mints();
    let answer = raw.request(
        "tools/call",
        &json!({"name": "exec", "arguments": {"command": "echo out; echo err >&2"}, "_meta": {"progressToken": "renew"}}),
    );
    let ran = ok(&answer["result"]);
    assert_eq!(
        (&ran["exit_status"], &ran["stdout"], &ran["stderr"]),
        (&json!(0), &json!("out\n"), &json!("err\n")),
        "{answer}"
    );
    assert_eq!(dp.mints(), before + 1, "one fresh session");
    let mut notes = Vec::new();
    wait_until("the renewal as progress", WAIT, || {
        notes.extend(raw.notes());
        notes.iter().any(|n| {
            n["method"] == "notifications/progress"
                && n["params"]["progressToken"] == "renew"
                && n["params"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("starting a new session"))
        })
    });
}

/// Clients stop a stdio server with SIGTERM after closing stdin, and with
/// SIGKILL after that: a call running then has its remote command ended
/// either way, and ran once.
#[test]
fn sigterm_or_sigkill_of_the_server_ends_the_remote_command_of_a_running_call() {
    for (salt, signal) in [(3, "TERM"), (4, "KILL")] {
        let (_dp, _cli, workdir, mut raw) = attached();
        let sleep = unique_sleep(51 + salt);
        let (_id, _answer) = raw.start_request(
            "tools/call",
            &json!({"name": "exec", "arguments": {"command": format!("echo run >> runs.txt; sleep {sleep}")}}),
        );
        wait_until("the remote command", WAIT, || {
            std::fs::read_to_string(workdir.join("runs.txt")).is_ok_and(|r| r == "run\n")
                && !running(&format!("sleep {sleep}")).is_empty()
        });
        let sent = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(raw.pid().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        assert!(raw.wait().is_some(), "the server ends at SIG{signal}");
        wait_until("the remote command to end", WAIT, || {
            running(&format!("sleep {sleep}")).is_empty()
        });
        assert_eq!(
            std::fs::read_to_string(workdir.join("runs.txt")).unwrap(),
            "run\n",
            "SIG{signal}: run once"
        );
    }
}

/// `put` and `get` report a long copy as progress notifications when the
/// call carries a progress token, and the copies are exact.
#[test]
fn put_and_get_report_progress_to_a_client_that_asks() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let connected = cli.ok(&["connect", "1001"]);
    let workdir = std::path::PathBuf::from(connected["workdir"].as_str().unwrap());
    let mut cmd = server(&cli);
    // Loopback moves the file in well under the usual second.
    cmd.env("RUNCODE_PROGRESS_AFTER_MS", "0");
    let mut raw = Raw::start(&mut cmd);
    let local = cli.tmp.path().join("big.bin");
    let bytes: Vec<u8> = (0..32u32 << 20).map(|i| (i >> 9) as u8).collect();
    std::fs::write(&local, &bytes).unwrap();
    for (tool, args) in [
        ("put", json!({"local": local, "remote": "big.bin"})),
        (
            "get",
            json!({"remote": "big.bin", "local": cli.tmp.path().join("back.bin")}),
        ),
    ] {
        let answer = raw.request(
            "tools/call",
            &json!({"name": tool, "arguments": args, "_meta": {"progressToken": tool}}),
        );
        assert_ne!(answer["result"]["isError"], true, "{answer}");
        let mut notes = Vec::new();
        wait_until("progress of the copy", WAIT, || {
            notes.extend(raw.notes());
            notes.iter().any(|n| {
                n["method"] == "notifications/progress"
                    && n["params"]["progressToken"] == tool
                    && n["params"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("MiB"))
            })
        });
    }
    assert_eq!(std::fs::read(workdir.join("big.bin")).unwrap(), bytes);
    assert_eq!(
        std::fs::read(cli.tmp.path().join("back.bin")).unwrap(),
        bytes
    );
    raw.close();
}
