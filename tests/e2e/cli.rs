//! The runcode CLI against the devplane: real HTTP, real sshd, real ssh.
//! Connect, exec (workdir, exit status, stdin/stdout, 255 retry), start and
//! stop, re-mint after revocation, a control plane that stops answering,
//! context, the browser login, disconnect, and the generated ssh config.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::util::cli::{Cli, ssh_g};
use crate::util::devplane::{Devplane, call, processes_mentioning};
use serde_json::Value;

fn mints(dp: &Devplane) -> u64 {
    dp.mints()
}

#[test]
fn connect_by_name_and_id_then_exec_in_the_workdir_with_exit_statuses() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let title = dp.workspace(1001)["title"].as_str().unwrap().to_owned();
    let first = cli.ok(&["connect", &title.to_uppercase()]);
    assert_eq!(first["workspace_id"], 1001);
    assert_eq!(first["reused"], false);
    assert_eq!(first["started"], false);
    for field in [
        "alias",
        "config",
        "command",
        "host",
        "port",
        "user",
        "web_url",
        "workdir",
        "expires_at",
        "statusline_installed",
    ] {
        assert!(first.get(field).is_some(), "{field}: {first}");
    }
    let again = cli.ok(&["connect", "1001"]);
    assert_eq!(again["reused"], true, "a valid session is reused");
    assert_eq!(mints(&dp), 1);
    let by_custom = cli.ok(&["connect", "project 1"]);
    assert_eq!(by_custom["workspace_id"], 1001);

    let workdir = first["workdir"].as_str().unwrap();
    let out = cli.run(&["exec", "--", "pwd"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), workdir);
    assert_eq!(cli.run(&["exec", "--", "exit", "3"]).status.code(), Some(3));
    let out = cli.run(&[
        "exec",
        "--",
        "echo",
        "one two",
        "'three  four'",
        "&&",
        "echo",
        "$HOME",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next(),
        Some("one two three  four"),
        "the words reach the remote shell as typed: {text}"
    );

    // 255 once the command ran (its own, or a dropped connection): never
    // retried, since the command may have run.
    let before = mints(&dp);
    let out = cli.run(&["exec", "--", "exit", "255"]);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(mints(&dp), before, "no retry");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("trying once more"));
    // The command's own failure is never retried.
    let before = mints(&dp);
    assert_eq!(cli.run(&["exec", "--", "false"]).status.code(), Some(1));
    assert_eq!(mints(&dp), before);

    // --home runs in the login user's home.
    let home = cli.run(&["exec", "--home", "--", "pwd"]);
    let expected = String::from_utf8(
        Command::new("sh")
            .args(["-c", "getent passwd \"$(id -un)\" | cut -d: -f6"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&home.stdout).trim(),
        expected.trim()
    );
    cli.fails(&["exec"], "usage", 2);
}

#[test]
fn exec_moves_bytes_exactly_both_ways() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let workdir = cli.ok(&["connect", "1001"])["workdir"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = crate::util::noise(1 << 20);
    std::fs::write(std::path::Path::new(&workdir).join("blob.bin"), &bytes).unwrap();
    let out = cli.run(&["exec", "--", "cat", "blob.bin"]);
    assert!(out.status.success());
    assert!(
        out.stdout == bytes,
        "binary-safe stdout ({} bytes back)",
        out.stdout.len()
    );

    // stdin reaches the remote command and its end ends it.
    let out = cli.run_fed(&["exec", "--", "wc", "-c"], &bytes);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        (1 << 20).to_string()
    );
    let out = cli.run_fed(&["exec", "--", "cat", ">", "copy.bin"], &bytes);
    assert!(out.status.success());
    assert!(std::fs::read(std::path::Path::new(&workdir).join("copy.bin")).unwrap() == bytes);
}

#[test]
fn start_wait_on_a_stopped_workspace_then_stop_detaches() {
    let dp = Devplane::start(&["--boot-delay", "1"]);
    let cli = Cli::new(&dp);
    cli.fails(&["connect", "1002"], "conflict", 2);
    let out = cli
        .cmd()
        .args(["--json", "connect", "Project 2", "--start", "--wait"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (value["started"].as_bool(), value["reused"].as_bool()),
        (Some(true), Some(false))
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("starting workspace #1002...") && err.contains("waiting for #1002 to start"),
        "progress on stderr: {err}"
    );
    assert_eq!(dp.state(1002), "running");
    assert!(cli.run(&["exec", "--", "true"]).status.success());

    let stopped = cli.ok(&["stop"]);
    assert_eq!(
        (
            stopped["workspace_id"].as_u64(),
            stopped["detached"].as_bool()
        ),
        (Some(1002), Some(true))
    );
    assert_eq!(dp.state(1002), "stopped");
    cli.fails(&["current"], "not_attached", 1);
    cli.fails(&["exec", "--", "true"], "not_attached", 1);
    assert!(
        !cli.session_dir(1002).exists(),
        "the session went with the workspace"
    );

    // start without attaching.
    let started = cli.ok(&["start", "1002"]);
    assert_eq!(started["state"], "running");
    assert_eq!(cli.ok(&["start", "1002"])["started"], false);
    let quick = cli.ok(&["start", "Notebook", "--no-wait"]);
    assert_eq!(quick["state"], "starting");
    // A workspace that is not SSH-capable cannot be connected.
    cli.fails(&["connect", "Notebook"], "conflict", 2);
    // Timed out while starting.
    dp.get("/api/rc/workspace/stop?workspace_id=1002");
    let slow = Devplane::start(&["--boot-delay", "30"]);
    let slow_cli = Cli::new(&slow);
    slow_cli.fails(
        &["connect", "1002", "--start", "--timeout", "1"],
        "not_ready",
        2,
    );
}

#[test]
fn revoked_keys_make_exec_remint_once() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    assert!(cli.run(&["exec", "--", "true"]).status.success());
    cli.ok(&["disconnect", "--keep"]); // close the master, keep the session files
    // Revoked before `connect`, whose connection (opened in the background)
    // must not authenticate ahead of the revocation.
    dp.post("/_dev/revoke?workspace_id=1001", serde_json::json!({}));
    cli.ok(&["connect", "1001"]);
    let before = mints(&dp);
    let out = cli.run(&["exec", "--", "echo", "again"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "again");
    assert_eq!(mints(&dp), before + 1, "one re-mint");
    let before = mints(&dp);
    assert_eq!(cli.run(&["exec", "--", "exit", "7"]).status.code(), Some(7));
    assert_eq!(mints(&dp), before, "a command's own failure is not retried");
}

#[test]
fn exec_needs_no_control_plane_while_the_session_is_valid() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    let pid = dp.pid().to_string();
    // Freeze the control plane: a request to it would hang for 20 s and fail.
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = cli.run(&["exec", "--", "echo", "still here"]);
    let current = cli.json(&["current"]);
    let status = cli.json(&["status"]);
    let local = cli.tmp.path().join("offline.txt");
    std::fs::write(&local, "no control plane needed\n").unwrap();
    let put = cli.run(&["put", local.to_str().unwrap(), "offline.txt"]);
    let get = cli.run(&["get", "offline.txt"]);
    assert!(
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        put.status.success(),
        "put: {}",
        String::from_utf8_lossy(&put.stderr)
    );
    assert_eq!(get.stdout, b"no control plane needed\n");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "still here",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(current.0, 0);
    assert_eq!(status.1["sessions"][0]["valid"], true);
}

#[test]
fn context_reports_git_markers_and_tools() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let workdir = cli.ok(&["connect", "1001"])["workdir"]
        .as_str()
        .unwrap()
        .to_owned();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@e",
                "-c",
                "init.defaultBranch=trunk",
            ])
            .args(args)
            .current_dir(&workdir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    std::fs::write(
        std::path::Path::new(&workdir).join("Cargo.toml"),
        "[package]\n",
    )
    .unwrap();
    std::fs::write(std::path::Path::new(&workdir).join("Makefile"), "all:\n").unwrap();
    git(&["add", "Cargo.toml"]);
    git(&["commit", "-q", "-m", "first commit"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://someone:secret@example.com/repo.git",
    ]);
    let v = cli.ok(&["context"]);
    assert_eq!(v["cwd"], workdir.as_str());
    assert_eq!(v["os"], "Linux");
    assert_eq!(v["git"]["branch"], "trunk");
    assert_eq!(v["git"]["dirty"], true, "Makefile is untracked");
    assert_eq!(
        v["git"]["remote"], "https://example.com/repo.git",
        "credentials stripped"
    );
    assert!(v["git"]["head"].as_str().unwrap().ends_with("first commit"));
    let markers: Vec<&str> = v["markers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(markers, ["Cargo.toml", "Makefile"]);
    assert!(
        v["tools"]["git"]
            .as_str()
            .unwrap()
            .starts_with("git version")
    );
    assert!(v["disk"].as_str().unwrap().contains("free of"));
    let human = cli.run(&["context", "1001"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("trunk"));
}

#[test]
fn the_browser_login_saves_the_token() {
    let dp = Devplane::start(&[]);
    let cli = Cli::bare(&dp.api);
    cli.fails(&["list"], "no_token", 1);
    let mut child = cli
        .cmd()
        .args(["--json", "login", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "the CLI printed no URL"
        );
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_owned();
        }
    };
    assert!(
        url.starts_with(&format!("{}/auth/cli-login/?port=", dp.api)),
        "{url}"
    );
    // The browser: the consent page, then the Authorize button, which
    // redirects to the CLI's loopback callback.
    let (status, page) = call("GET", &url, None, None);
    assert_eq!(status, 200);
    assert!(page.as_str().unwrap().contains("Authorize"));
    let authorize = url.replace("/auth/cli-login/?", "/auth/cli-login/authorize?");
    let (status, done) = call("GET", &authorize, None, None);
    assert_eq!(status, 200, "{done}");
    assert!(done.as_str().unwrap().contains("close this tab"));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (value["logged_in"].as_bool(), value["verified"].as_bool()),
        (Some(true), Some(true))
    );
    let token_file = cli.home.join(".config/runcode/token");
    assert_eq!(
        std::fs::read_to_string(&token_file).unwrap().trim(),
        dp.token
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(token_file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    assert_eq!(cli.ok(&["list"])["workspaces"].as_array().unwrap().len(), 3);
    assert_eq!(cli.ok(&["logout"])["logged_out"], true);
    cli.fails(&["list"], "no_token", 1);
}

#[test]
fn a_callback_with_another_state_is_refused() {
    let dp = Devplane::start(&[]);
    let cli = Cli::bare(&dp.api);
    let mut child = cli
        .cmd()
        .args(["--json", "login", "--no-browser", "--timeout", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0);
        if let Some(i) = line.find("http://") {
            break line[i..].trim().to_owned();
        }
    };
    let port = url
        .split("port=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let (status, _) = call(
        "GET",
        &format!("http://127.0.0.1:{port}/elsewhere"),
        None,
        None,
    );
    assert_eq!(
        status, 404,
        "other paths get 404 and the listener keeps waiting"
    );
    let (status, _) = call(
        "GET",
        &format!("http://127.0.0.1:{port}/callback?state=forged&token=evil"),
        None,
        None,
    );
    assert_eq!(status, 400);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["error"], "login_failed");
    assert!(
        !cli.home.join(".config/runcode/token").exists(),
        "nothing saved"
    );
}

#[test]
fn paste_reads_the_token_from_stdin() {
    let dp = Devplane::start(&[]);
    let cli = Cli::bare(&dp.api);
    let out = cli.run_fed(
        &["--json", "login", "--paste"],
        format!("{}\n", dp.token).as_bytes(),
    );
    assert!(out.status.success());
    assert_eq!(cli.ok(&["list"])["workspaces"].as_array().unwrap().len(), 3);
}

#[test]
fn disconnect_leaves_no_master_and_the_config_is_exactly_as_documented() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let v = cli.ok(&["connect", "1001"]);
    let config = std::path::PathBuf::from(v["config"].as_str().unwrap());
    let alias = v["alias"].as_str().unwrap();
    let dir = cli.session_dir(1001);
    let g = ssh_g(&config, alias);
    let expect = [
        ("hostname", "127.0.0.1".to_owned()),
        ("port", v["port"].to_string()),
        ("user", v["user"].as_str().unwrap().to_owned()),
        ("identityfile", dir.join("id_ed25519").display().to_string()),
        ("identitiesonly", "yes".to_owned()),
        (
            "userknownhostsfile",
            dir.join("known_hosts").display().to_string(),
        ),
        ("globalknownhostsfile", "/dev/null".to_owned()),
        ("stricthostkeychecking", "true".to_owned()),
        ("batchmode", "yes".to_owned()),
        ("controlmaster", "auto".to_owned()),
        ("controlpath", dir.join("ctl").display().to_string()),
        ("forwardagent", "no".to_owned()),
        ("forwardx11", "no".to_owned()),
        ("proxycommand", String::new()),
        ("permitlocalcommand", "no".to_owned()),
        // A dead link is noticed within 15 s of silence (docs/sessions.md).
        ("serveraliveinterval", "5".to_owned()),
        ("serveralivecountmax", "2".to_owned()),
        ("connecttimeout", "10".to_owned()),
    ];
    for (key, value) in expect {
        if value.is_empty() {
            assert!(
                !g.contains_key(key),
                "{key} must not be set: {:?}",
                g.get(key)
            );
        } else {
            assert_eq!(g.get(key), Some(&value), "{key}");
        }
    }
    let persist: u64 = g["controlpersist"].parse().unwrap();
    assert!(
        (1..=300).contains(&persist),
        "ControlPersist capped: {persist}"
    );
    assert!(!g.contains_key("remoteforward") && !g.contains_key("localcommand"));
    for file in [
        "id_ed25519",
        "id_ed25519.pub",
        "known_hosts",
        "config",
        "meta.json",
    ] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(dir.join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600,
            "{file}"
        );
    }
    assert!(
        !std::fs::read_to_string(dir.join("meta.json"))
            .unwrap()
            .contains("PRIVATE KEY")
    );

    assert!(cli.run(&["exec", "--", "true"]).status.success());
    assert!(dir.join("ctl").exists(), "a master is running");
    // Every file a command adds (the acknowledged runs among them) is
    // private too.
    assert!(dir.join("runs-acked").is_file());
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        use std::os::unix::fs::PermissionsExt;
        let meta = entry.metadata().unwrap();
        if meta.is_file() {
            assert_eq!(
                meta.permissions().mode() & 0o077,
                0,
                "{:?}",
                entry.file_name()
            );
        }
    }
    assert!(!processes_mentioning(&dir).is_empty());
    let out = cli.ok(&["disconnect"]);
    assert_eq!(out["detached"], 1001);
    assert!(
        processes_mentioning(&dir).is_empty(),
        "no ssh master survives disconnect: {:?}",
        processes_mentioning(&dir)
    );
    assert!(!dir.exists());
    assert_eq!(cli.ok(&["disconnect"])["detached"], Value::Null);
}

#[test]
fn a_long_home_puts_the_socket_in_a_short_private_directory() {
    let dp = Devplane::start(&[]);
    let mut cli = Cli::new(&dp);
    cli.home = cli
        .tmp
        .path()
        .join("a-very-long-directory-name-for-a-home-that-pushes-the-socket-path-past-its-limit");
    std::fs::create_dir_all(&cli.home).unwrap();
    let v = cli.ok(&["connect", "1001"]);
    let g = ssh_g(
        std::path::Path::new(v["config"].as_str().unwrap()),
        v["alias"].as_str().unwrap(),
    );
    let control = &g["controlpath"];
    assert!(
        control.len() <= 90 && control.starts_with("/tmp/runcode-"),
        "{control}"
    );
    assert!(cli.run(&["exec", "--", "true"]).status.success());
    cli.ok(&["clean"]);
    assert!(
        !std::path::Path::new(control).exists(),
        "the socket went with the session"
    );
}

#[test]
fn status_current_and_clean_report_cached_sessions() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.fails(&["current"], "not_attached", 1);
    cli.ok(&["connect", "1001", "--ttl", "600"]);
    let current = cli.ok(&["current"]);
    assert_eq!(current["workspace_id"], 1001);
    let left = current["seconds_left"].as_i64().unwrap();
    assert!(left > 500 && left <= 600, "the ttl was asked for: {left}");
    assert_eq!(current["scope"], cli.tmp.path().display().to_string());
    let status = cli.ok(&["status"]);
    assert_eq!(status["attached"], 1001);
    assert_eq!(status["sessions"].as_array().unwrap().len(), 1);
    let forced = cli.ok(&["connect", "1001", "--force"]);
    assert_eq!(forced["reused"], false);
    assert_eq!(
        cli.ok(&["clean", "--all"])["removed"],
        serde_json::json!([1001])
    );
    cli.fails(&["current"], "not_attached", 1);
    cli.fails(&["clean", "1001", "--all"], "usage", 2);
}

#[test]
fn doctor_reports_every_check() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let v = cli.ok(&["doctor"]);
    assert_eq!(v["ok"], true);
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ssh",
            "transport",
            "token",
            "api_base",
            "platform",
            "statusline",
            "api",
            "socket"
        ]
    );
    let mut insecure = Cli::new(&dp);
    insecure.api = "http://example.com".to_owned();
    let (code, v) = insecure.json(&["doctor"]);
    assert_eq!((code, v["ok"].as_bool()), (1, Some(false)));
}

/// A session written by an older runcode (no `format` field) is used as it
/// is; one written by a newer runcode (a format this one does not know) is
/// replaced by a fresh mint, with a warning, never a crash.
#[test]
fn sessions_carry_their_format_and_a_newer_one_is_replaced_not_misread() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    let meta_path = cli.session_dir(1001).join("meta.json");
    let mut meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert_eq!(meta["format"], 1, "{meta}");

    meta.as_object_mut().unwrap().remove("format");
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    assert_eq!(cli.ok(&["connect", "1001"])["reused"], true);
    assert_eq!(mints(&dp), 1);

    meta["format"] = serde_json::json!(99);
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let out = cli.run(&["exec", "--", "echo", "fine"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "fine");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("session format 99"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mints(&dp), 2);
    let meta: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert_eq!(meta["format"], 1);
}
