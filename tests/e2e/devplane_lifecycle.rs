//! runcode-devplane's lifecycle, with the real binary: a restart keeps the
//! state, a shutdown leaves no sshd (even with a session open), it runs as an
//! ordinary user, and a machine without sshd gets a message naming the fix.

use crate::util::world::scratch;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::devplane::{Devplane, Key, pid_alive, processes_mentioning, ssh, ssh_opts};
use serde_json::json;

#[test]
fn a_restart_keeps_token_workspaces_states_and_host_keys() {
    let mut dp = Devplane::start(&["--boot-delay", "0"]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let created = dp.call("POST", "/api/rc/workspaces", Some(json!({"name": "Kept"})));
    assert_eq!(created.0, 201, "{}", created.1);
    let new_id = created.1["data"]["workspace"]["id"].as_u64().unwrap();
    dp.get("/api/rc/workspace/start?workspace_id=1002");
    dp.wait_state(1002, "running");
    dp.wait_state(new_id, "running");
    let pinned = dp.mint(1002, &key, 300)["known_hosts"]
        .as_str()
        .unwrap()
        .split_once(' ')
        .unwrap()
        .1
        .to_owned();
    let token = dp.token.clone();
    assert!(dp.stop().success());
    assert!(
        processes_mentioning(&dp.data_dir).is_empty(),
        "{:?}",
        processes_mentioning(&dp.data_dir)
    );

    let data_dir = dp.data_dir.clone();
    let again = Devplane::start_in(&data_dir, &[]);
    assert_eq!(again.token, token);
    assert_eq!(again.state(1002), "running");
    assert_eq!(again.state(1001), "running");
    assert_eq!(again.workspace(new_id)["custom_title"], "Kept");
    let bundle = again.mint(1002, &key, 300);
    assert_eq!(
        bundle["known_hosts"]
            .as_str()
            .unwrap()
            .split_once(' ')
            .unwrap()
            .1,
        pinned,
        "same host key"
    );
    assert!(ssh(&bundle, &key, dir.path(), "true").status.success());
    drop(again);
    drop(dp);
}

#[test]
fn shutting_down_leaves_no_sshd_even_with_a_session_open() {
    let mut dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    let mut session = Command::new("ssh")
        .args(ssh_opts(&bundle, &key, dir.path()))
        .args(["-p", &bundle["port"].to_string()])
        .arg(format!("{}@127.0.0.1", bundle["user"].as_str().unwrap()))
        .arg("echo up; sleep 60")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(session.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "up\n");
    assert!(!processes_mentioning(&dp.data_dir).is_empty());
    assert!(dp.stop().success());
    let status = session.wait().unwrap();
    assert!(
        !status.success(),
        "the open session ends with the workspace"
    );
    crate::util::wait_until(
        "nothing the devplane started is left",
        Duration::from_secs(5),
        || processes_mentioning(&dp.data_dir).is_empty(),
    );
    assert!(
        !dp.data_dir.join("ws-1001/sshd.pid").exists(),
        "no stale pid file"
    );
}

/// As an ordinary user, sshd runs unprivileged and logs in only that user.
/// Run as root, the test makes a throwaway system account for it (the other
/// tests then cover root, privilege-separation directory included); run as
/// an ordinary user, every test already does.
#[test]
fn an_ordinary_user_runs_the_devplane_and_logs_in_as_itself() {
    let root = crate::util::is_root();
    let user = "runcode-dpt";
    let mut dp = if root {
        let exists = Command::new("id")
            .arg(user)
            .output()
            .unwrap()
            .status
            .success();
        if !exists {
            let made = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/bin/sh",
                    "-p",
                    "*",
                    user,
                ])
                .status()
                .expect("useradd (from passwd) is needed to test as an ordinary user");
            assert!(
                made.success()
                    || Command::new("id")
                        .arg(user)
                        .output()
                        .unwrap()
                        .status
                        .success()
            );
        }
        Devplane::start_as(user, &[])
    } else {
        Devplane::start(&[])
    };
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 120);
    let expected = if root {
        user.to_owned()
    } else {
        String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned()
    };
    assert_eq!(bundle["user"], expected.as_str());
    let out = ssh(
        &bundle,
        &key,
        dir.path(),
        "id -un && cd \"$HOME\" 2>/dev/null; pwd >/dev/null",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some(expected.as_str())
    );
    let pid = dp.gateway(1001)["pid"].as_u64().unwrap();
    let owner = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid_line = owner
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .unwrap()
        .to_owned();
    if root {
        assert!(
            !uid_line.split_whitespace().nth(1).unwrap().eq("0"),
            "sshd runs unprivileged: {uid_line}"
        );
    }
    assert!(dp.stop().success());
    assert!(!pid_alive(pid));
}

/// A machine without sshd gets a message naming the package. The test hides
/// /usr/sbin in a private mount namespace, which needs root; as an ordinary
/// user it says so and does nothing.
#[test]
fn a_missing_sshd_is_reported_with_what_to_install() {
    let root = crate::util::is_root();
    if !root {
        crate::util::skip("hiding /usr/sbin needs root (CI runs as root)");
        return;
    }
    let data = scratch("ssh");
    let script = format!(
        "mount -t tmpfs tmpfs /usr/sbin && exec env PATH=/usr/bin:/bin '{}' serve --data-dir '{}'",
        crate::util::built("runcode-devplane").display(),
        data.path().join("data").display()
    );
    let out = Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux)");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("apt-get install openssh-server"), "{err}");
    assert!(out.stdout.is_empty(), "no ready line");
    assert!(!data.path().join("data").exists(), "nothing written");
}
