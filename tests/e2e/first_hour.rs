//! What a newcomer meets in the first hour, in their words: names typed
//! as people type them, an honest login, `exec` without `--`, and errors
//! that say what happened once.

use std::process::Stdio;

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;

/// A login is honest: a token the control plane refuses is `unauthorized`
/// and nothing is saved (the audit saw "logged in" for `garbage`); a token
/// that overrides the saved one is named; `doctor` fails with a refused
/// token instead of saying ok.
#[test]
fn a_refused_token_is_never_saved_and_an_override_is_named() {
    let dp = Devplane::start(&[]);
    let cli = Cli::bare(&dp.api);
    let out = cli.run_fed(&["--json", "login", "--paste"], b"garbage\n");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), &v["error"]),
        (Some(2), &serde_json::json!("unauthorized")),
        "{v}"
    );
    assert!(
        !cli.home.join(".config/runcode/token").exists(),
        "nothing saved"
    );

    // A good token saved while RUNCODE_TOKEN holds another: said so.
    let out = cli
        .cmd()
        .env("RUNCODE_TOKEN", "deadbeef")
        .args(["--json", "login", "--paste"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{}\n", dp.token).as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", crate::util::both(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["overridden_by"], "RUNCODE_TOKEN", "{v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUNCODE_TOKEN is set"));

    let doctor = cli
        .cmd()
        .env("RUNCODE_TOKEN", "deadbeef")
        .args(["--json", "doctor"])
        .output()
        .unwrap();
    assert_eq!(
        doctor.status.code(),
        Some(1),
        "a refused token fails doctor"
    );
    let v: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let api = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "api")
        .unwrap()
        .clone();
    assert_eq!(api["status"], "fail", "{api}");
}

/// Names as people type them: a unique prefix of a title is enough (as
/// docker takes one), a near miss suggests the name it could mean, and
/// `ssh` without a workspace uses the attached one, as `exec` does.
#[test]
fn names_take_a_unique_prefix_a_miss_suggests_and_ssh_defaults_to_the_attached() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let list = cli.ok(&["list", "--all"]);
    let titles: Vec<(u64, String)> = list["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["id"].as_u64().unwrap(),
                w["title"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let title = titles.iter().find(|(id, _)| *id == 1001).unwrap().1.clone();
    let prefix = (3..title.len())
        .map(|n| &title[..n])
        .find(|p| titles.iter().filter(|(_, t)| t.starts_with(p)).count() == 1)
        .unwrap()
        .to_owned();
    let v = cli.ok(&["connect", &prefix]);
    assert_eq!(v["workspace_id"], 1001, "{prefix} -> {v}");
    // One key names a workspace in every object.
    assert!(
        list["workspaces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["workspace_id"] == w["id"])
    );
    assert_eq!(cli.ok(&["status"])["workspace_id"], 1001);
    // Output names it by its title, the id beside it.
    let out = cli.run(&["current"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.starts_with(&format!("{title} (#1001) attached")),
        "{shown}"
    );
    assert_eq!(cli.ok(&["current"])["title"], title.as_str());
    let status = String::from_utf8_lossy(&cli.run(&["status"]).stdout).into_owned();
    assert!(status.contains(&format!("{title} (#1001)")), "{status}");
    // The harness's RUNCODE_TOKEN wins over any saved token, and status
    // says so.
    assert_eq!(cli.ok(&["status"])["token_overridden_by"], "RUNCODE_TOKEN");

    let typo = format!("{}x", &title[..title.len() - 1]);
    let failure = cli.fails(&["connect", &typo], "not_found", 2);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("did you mean {title}")),
        "{message}"
    );

    let out = cli.run(&["ssh", "--", "pwd"]);
    assert!(out.status.success(), "{}", crate::util::both(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        v["workdir"].as_str().unwrap()
    );
}

/// `exec ls -la` works without `--`, as `docker exec` does; when a word
/// after the command is one of runcode's own flags, the form with `--` is
/// asked for instead of guessing whose flag it is.
#[test]
fn exec_takes_a_command_without_dashes_unless_a_flag_is_ambiguous() {
    let (_dp, cli, workdir) = crate::util::world::attached();
    std::fs::write(workdir.join("marker.txt"), "").unwrap();
    let out = cli.run(&["exec", "ls", "-la"]);
    assert!(out.status.success(), "{}", crate::util::both(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("marker.txt"));
    let failure = cli.fails(&["exec", "echo", "--home"], "usage", 2);
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("-- echo --home"),
        "{failure}"
    );
    let out = cli.run(&["exec", "--", "echo", "--home"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "--home\n");
}

/// Errors in the user's words, one per failure: a missing remote file is
/// said once; a local port in use is named as that (not ssh's mux
/// internals); a control plane that is not running is named with its
/// address.
#[test]
fn errors_say_what_happened_once_in_plain_words() {
    let (_dp, cli, _workdir) = crate::util::world::attached();
    let out = cli.run(&["get", "missing.txt"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missing.txt"), "{err}");

    // Taken on both loopbacks, as ssh binds `localhost` on each.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let _busy6 = std::net::TcpListener::bind(("::1", port)).ok();
    let port = port.to_string();
    let free = crate::util::free_port().to_string();
    let failure = cli.fails(&["forward", &free, "--local", &port], "conflict", 2);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("already in use on this machine") && !message.contains("mux"),
        "{message}"
    );

    let dead = crate::util::free_port();
    let mut gone = Cli::bare(&format!("http://127.0.0.1:{dead}"));
    gone.token = Some("t".to_owned());
    let failure = gone.fails(&["list"], "network", 2);
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("refused the connection") && message.contains(&dead.to_string()),
        "{message}"
    );
}

/// A command longer than an agent's shell timeout: `exec --detach` hands
/// back its run id at once, `attach --wait` gives the output so far and
/// `still_running` (exit 75) while it goes on, and a later `attach` the
/// whole output and the command's own status. It ran once.
#[test]
fn exec_detach_and_attach_wait_follow_a_long_command() {
    let (_dp, cli, workdir) = crate::util::world::attached();
    let sleep = crate::util::world::unique_sleep(61);
    let line = format!("echo run >> runs.txt; echo first; sleep {sleep}; echo never");
    let started = cli.ok(&["exec", "--detach", "--", &line]);
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    assert_eq!(started["running"], true, "{started}");
    let out = cli.run(&["--json", "attach", &run_id, "--wait", "2"]);
    assert_eq!(out.status.code(), Some(75), "{}", crate::util::both(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("first\n"), "the output so far: {text}");
    assert!(text.contains("\"still_running\""), "{text}");
    let listed = cli.ok(&["runs"]);
    assert_eq!(listed["runs"][0]["state"], "running", "{listed}");

    // A short one: attach gives everything and its own status.
    let done = cli.ok(&["exec", "--detach", "--", "echo out; echo err >&2; exit 4"]);
    let done_id = done["run_id"].as_str().unwrap();
    let out = cli.run(&["attach", done_id]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "err\n");

    let _ = cli.run(&["exec", "--", &format!("pkill -f '^sleep {sleep}$'")]);
    assert_eq!(
        std::fs::read_to_string(workdir.join("runs.txt")).unwrap(),
        "run\n",
        "it ran once"
    );
}
