//! put / get / write / forward through the real CLI, sshd and ssh: bytes
//! moved exactly, trees both ways, awkward names, transfers cut half way,
//! memory that does not grow with the file, and a dev server reached through
//! a forward.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::world::attached;
use serde_json::{Value, json};

#[test]
fn files_of_every_size_round_trip_byte_for_byte() {
    let (_dp, cli, workdir) = attached();
    for (i, size) in [0usize, 1, 1000, 64 << 20].into_iter().enumerate() {
        let local = cli.tmp.path().join(format!("in-{i}.bin"));
        let bytes = crate::util::noise(size);
        std::fs::write(&local, &bytes).unwrap();
        let sent = cli.ok(&["put", local.to_str().unwrap(), &format!("up/{i}.bin")]);
        assert_eq!(sent["bytes"], size);
        assert!(
            std::fs::read(workdir.join(format!("up/{i}.bin"))).unwrap() == bytes,
            "put of {size} bytes"
        );
        let back = cli.tmp.path().join(format!("back-{i}.bin"));
        let got = cli.ok(&[
            "get",
            &format!("up/{i}.bin"),
            "--out",
            back.to_str().unwrap(),
        ]);
        assert_eq!(got["bytes"], size);
        assert!(
            std::fs::read(&back).unwrap() == bytes,
            "get of {size} bytes"
        );
        let out = cli.run(&["get", &format!("up/{i}.bin")]);
        assert!(
            out.status.success() && out.stdout == bytes,
            "get to stdout of {size} bytes"
        );
    }
}

#[test]
fn awkward_names_and_write_from_stdin_or_file() {
    let (_dp, cli, workdir) = attached();
    let name = "it's a \"name\" with $HOME and `ticks`.txt";
    let local = cli.tmp.path().join(name);
    std::fs::write(&local, b"awkward\n").unwrap();
    cli.ok(&[
        "put",
        local.to_str().unwrap(),
        &format!("dir with space/{name}"),
    ]);
    assert_eq!(
        std::fs::read(workdir.join("dir with space").join(name)).unwrap(),
        b"awkward\n"
    );
    // Into an existing directory: the file keeps its name.
    cli.ok(&["put", local.to_str().unwrap(), "dir with space"]);
    let out = cli.run_fed(
        &["--json", "write", "notes/$(touch pwned).txt"],
        b"from stdin\0\xff",
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(workdir.join("notes/$(touch pwned).txt")).unwrap(),
        b"from stdin\0\xff"
    );
    assert!(
        !workdir.join("notes/pwned").exists() && !workdir.join("pwned").exists(),
        "metacharacters stay literal"
    );
    cli.ok(&[
        "write",
        "/tmp/../tmp/runcode-abs-test.txt",
        "--file",
        local.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read("/tmp/runcode-abs-test.txt").unwrap(),
        b"awkward\n"
    );
    let _ = std::fs::remove_file("/tmp/runcode-abs-test.txt");
    cli.fails(&["get", "no/such/file"], "not_found", 2);
    cli.fails(&["put", "/no/such/local", "x"], "io", 1);
}

#[test]
fn directory_trees_travel_both_ways() {
    let (_dp, cli, workdir) = attached();
    let tree = cli.tmp.path().join("project");
    std::fs::create_dir_all(tree.join("src/deep/er")).unwrap();
    std::fs::write(tree.join("src/deep/er/a.bin"), crate::util::noise(100_000)).unwrap();
    std::fs::write(tree.join("it's $x.txt"), "x").unwrap();
    std::fs::create_dir_all(tree.join("empty")).unwrap();
    std::os::unix::fs::symlink("src/deep", tree.join("link")).unwrap();
    let sent = cli.ok(&["put", tree.to_str().unwrap(), "copy"]);
    assert_eq!(
        (sent["files"].as_u64(), sent["bytes"].as_u64()),
        (Some(3), Some(100_001))
    );
    assert_eq!(
        std::fs::read(workdir.join("copy/src/deep/er/a.bin")).unwrap(),
        crate::util::noise(100_000)
    );
    assert!(workdir.join("copy/empty").is_dir());
    assert_eq!(
        std::fs::read_link(workdir.join("copy/link")).unwrap(),
        Path::new("src/deep"),
        "links stay links"
    );
    // Into an existing directory, as cp -r and scp -r do: copy/project.
    std::fs::remove_file(tree.join("it's $x.txt")).unwrap();
    let nested = cli.ok(&["put", tree.to_str().unwrap(), "copy"]);
    assert_eq!(
        nested["path"],
        workdir.join("copy/project").display().to_string()
    );
    assert!(workdir.join("copy/project/src/deep/er/a.bin").is_file());
    assert!(!workdir.join("copy/project/it's $x.txt").exists());
    std::fs::remove_dir_all(workdir.join("copy/project")).unwrap();

    let back = cli.tmp.path().join("back");
    let got = cli.ok(&["get", "copy", "--out", back.to_str().unwrap()]);
    assert_eq!(got["files"], 3, "two files and the link");
    assert_eq!(
        std::fs::read(back.join("src/deep/er/a.bin")).unwrap(),
        crate::util::noise(100_000)
    );
    assert!(back.join("empty").is_dir());
    cli.fails(&["get", "copy"], "usage", 2);
    assert!(
        std::fs::read_dir(cli.tmp.path())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("runcode-tmp"))
    );
}

/// The ssh process a runcode process started.
fn ssh_child_of(pid: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let child: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        // OpenSSH, or runcode's own client (`RUNCODE_TRANSPORT=builtin`).
        let ssh = stat.contains("(ssh)") || stat.contains("(runcode)");
        (ppid == pid && ssh).then_some(child)
    })
}

fn kill_ssh_when(cli_pid: u32, ready: impl Fn() -> bool) {
    crate::util::wait_until("the transfer started", Duration::from_secs(60), ready);
    let ssh = ssh_child_of(cli_pid).expect("ssh is running");
    Command::new("kill")
        .args(["-9", &ssh.to_string()])
        .status()
        .unwrap();
}

#[test]
fn a_transfer_cut_half_way_leaves_nothing_at_the_destination() {
    let (_dp, cli, workdir) = attached();
    let local = cli.tmp.path().join("big.bin");
    std::fs::write(&local, crate::util::noise(64 << 20)).unwrap();
    let child = cli
        .cmd()
        .args(["put", local.to_str().unwrap(), "cut.bin"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    kill_ssh_when(pid, || {
        std::fs::read_dir(&workdir).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cut.bin.runcode-tmp")
                && e.metadata().is_ok_and(|m| m.len() > 1 << 20)
        })
    });
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    // The remote side ends when it sees the input end: wait for its
    // temporary file to go, then nothing may stand under the real name.
    crate::util::wait_until("the temporary file went", Duration::from_secs(30), || {
        !std::fs::read_dir(&workdir).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cut.bin.runcode-tmp")
        })
    });
    assert!(
        !workdir.join("cut.bin").exists(),
        "no half file under the destination name"
    );

    std::fs::copy(&local, workdir.join("whole.bin")).unwrap();
    let dest = cli.tmp.path().join("whole-back.bin");
    let child = cli
        .cmd()
        .args(["get", "whole.bin", "--out", dest.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let tmp_dir = cli.tmp.path().to_path_buf();
    kill_ssh_when(pid, || {
        std::fs::read_dir(&tmp_dir).unwrap().flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .contains("whole-back.bin.runcode-tmp")
                && e.metadata().is_ok_and(|m| m.len() > 1 << 20)
        })
    });
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(!dest.exists(), "no half file under the destination name");
    assert!(
        std::fs::read_dir(cli.tmp.path())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("runcode-tmp")),
        "the temporary file was removed"
    );
}

/// Runs `cmd` and reports the child's peak resident memory (VmHWM, polled;
/// the high-water mark only grows) in KiB.
fn peak_kib(cmd: &mut Command) -> (bool, u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        if let Some(status) = child.try_wait().unwrap() {
            return (status.success(), peak);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn memory_does_not_grow_with_the_file() {
    let (_dp, cli, workdir) = attached();
    let local = cli.tmp.path().join("huge.bin");
    {
        let mut f = std::fs::File::create(&local).unwrap();
        let chunk = crate::util::noise(1 << 20);
        for _ in 0..256 {
            f.write_all(&chunk).unwrap();
        }
    }
    let (ok, put_kib) = peak_kib(cli.cmd().args(["put", local.to_str().unwrap(), "huge.bin"]));
    assert!(ok);
    assert_eq!(
        std::fs::metadata(workdir.join("huge.bin")).unwrap().len(),
        256 << 20
    );
    let back = cli.tmp.path().join("huge-back.bin");
    let (ok, get_kib) =
        peak_kib(
            cli.cmd()
                .args(["get", "huge.bin", "--out", back.to_str().unwrap()]),
        );
    assert!(ok);
    assert_eq!(std::fs::metadata(&back).unwrap().len(), 256 << 20);
    assert!(
        put_kib > 0 && put_kib < 32 * 1024,
        "put peaked at {put_kib} KiB"
    );
    assert!(
        get_kib > 0 && get_kib < 32 * 1024,
        "get peaked at {get_kib} KiB"
    );
}

/// Starts a web server on the workspace (detached) serving `page`, and
/// forwards its port to another local port (the workspace shares this
/// machine's loopback, so the bytes provably went through ssh). Answers
/// (remote, local) once the page comes back through the forward.
pub(crate) fn serve_through_a_forward(cli: &Cli, workdir: &Path, page: &str) -> (u16, u16) {
    let (remote, local) = (crate::util::free_port(), crate::util::free_port());
    std::fs::write(workdir.join("index.html"), page).unwrap();
    let start = format!(
        "(python3 -m http.server {remote} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1; echo started"
    );
    assert!(cli.run(&["exec", "--", &start]).status.success());
    let fwd = cli.ok(&[
        "forward",
        &remote.to_string(),
        "--local",
        &local.to_string(),
    ]);
    assert_eq!(fwd["url"], format!("http://localhost:{local}"));
    let url = format!("http://127.0.0.1:{local}/index.html");
    // Until the server listens, the forward answers with a reset.
    let body = crate::util::wait_for("the forward answers", Duration::from_secs(20), || {
        match crate::util::devplane::try_call("GET", &url, None, None) {
            Some((200, body)) => Some(body),
            _ => None,
        }
    });
    assert_eq!(body.as_str(), Some(page));
    (remote, local)
}

#[test]
fn a_dev_server_on_the_workspace_is_reached_through_a_forward() {
    let (_dp, cli, workdir) = attached();
    let (remote, local) = serve_through_a_forward(&cli, &workdir, "served from the workspace\n");
    let listed = cli.ok(&["forward", "--list"]);
    assert_eq!(listed["forwards"][0]["port"], remote);
    cli.ok(&["forward", &remote.to_string(), "--cancel"]);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_err(),
        "the forward is gone"
    );
    assert_eq!(
        cli.ok(&["forward", "--list"])["forwards"],
        serde_json::json!([])
    );
    let _ = cli.run(&["exec", "--", &format!("pkill -f 'http[.]server {remote}'")]);
    cli.fails(&["forward"], "usage", 2);
    cli.fails(&["forward", "80", "--to", "a;b"], "usage", 2);
    cli.ok(&["disconnect"]);
}

/// `forward --auto` against the devplane: a server started on the
/// workspace after it began is fetched on localhost; one listening before,
/// and an excluded one, are left alone. The workspace shares this
/// machine's loopback, so the server's own port is taken here: the forward
/// moves to the next free port, and a fetch there went through ssh. A
/// stopped server's forward goes; Ctrl-C leaves no forward and no ssh of
/// its own behind.
#[test]
fn forward_auto_follows_the_workspaces_listeners() {
    let (_dp, cli, workdir) = attached();
    let serve = |port: u16| {
        format!("(python3 -m http.server {port} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1")
    };
    let listening = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    std::fs::write(workdir.join("index.html"), "through the forward\n").unwrap();
    let (before, later, excluded) = (
        crate::util::free_port(),
        crate::util::free_port(),
        crate::util::free_port(),
    );
    assert!(cli.run(&["exec", "--", &serve(before)]).status.success());
    crate::util::wait_until("the first server", Duration::from_secs(20), || {
        listening(before)
    });

    let excluded_arg = excluded.to_string();
    let (mut child, events) =
        cli.events(&["--json", "forward", "--auto", "--exclude", &excluded_arg]);
    let next = |what: &str| {
        events
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no event for {what}"))
    };
    let watching = next("watching");
    assert_eq!(watching["event"], "watching", "{watching}");
    assert!(
        watching["ignored"]
            .as_array()
            .unwrap()
            .contains(&json!(before)),
        "a listener from before is left alone: {watching}"
    );

    assert!(cli.run(&["exec", "--", &serve(excluded)]).status.success());
    assert!(cli.run(&["exec", "--", &serve(later)]).status.success());
    let event = loop {
        let e = next("the new server");
        assert_ne!(e["port"], json!(before), "{e}");
        assert_ne!(e["port"], json!(excluded), "{e}");
        if e["port"] == json!(later) {
            break e;
        }
    };
    assert_eq!(event["event"], "forwarded", "{event}");
    let local = u16::try_from(event["local"].as_u64().unwrap()).unwrap();
    assert_ne!(
        local, later,
        "its port is busy here (the same loopback): the next free one"
    );
    let url = format!("http://127.0.0.1:{local}/index.html");
    let body = crate::util::wait_for("the page", Duration::from_secs(10), || {
        match crate::util::devplane::try_call("GET", &url, None, None) {
            Some((200, body)) => Some(body),
            _ => None,
        }
    });
    assert_eq!(body.as_str(), Some("through the forward\n"));
    let listed = cli.ok(&["forward", "--list"]);
    assert!(
        listed.to_string().contains(&format!("\"local\":{local}")),
        "{listed}"
    );

    let _ = cli.run(&["exec", "--", &format!("pkill -f 'http[.]server {later}'")]);
    let removed = loop {
        let e = next("the stopped server");
        if e["port"] == json!(later) {
            break e;
        }
    };
    assert_eq!(removed["event"], "removed", "{removed}");
    crate::util::wait_until("the forward to close", Duration::from_secs(10), || {
        !listening(local)
    });

    // Ctrl-C.
    let pid = child.id();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert_eq!(cli.ok(&["forward", "--list"])["forwards"], json!([]));
    crate::util::wait_until("no ssh of its own", Duration::from_secs(10), || {
        runcode_e2e::procs::mentioning(&[&cli.home.display().to_string()])
            .iter()
            .all(|p| {
                !p.contains(" -O ") && !p.contains("keep-forwards") && !p.contains("/proc/net/tcp")
            })
    });
    for port in [before, excluded] {
        let _ = cli.run(&["exec", "--", &format!("pkill -f 'http[.]server {port}'")]);
    }

    // `disconnect` from another terminal ends it too.
    let mut child = cli
        .cmd()
        .args(["--json", "forward", "--auto"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.contains("\"watching\""), "{first}");
    cli.ok(&["disconnect"]);
    let ended = crate::util::wait_for("the watch to end", Duration::from_secs(15), || {
        child.try_wait().unwrap()
    });
    assert!(ended.success(), "{ended}");
}

/// `argv` run by `script` on a pseudo-terminal (stdin, stdout and stderr
/// all on it unless redirected in `line`): the transcript and the status.
fn on_a_terminal(cli: &Cli, line: &str) -> (bool, Vec<u8>) {
    let probe = cli.cmd();
    let mut cmd = Command::new("script");
    cmd.env_clear();
    for (k, v) in probe.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    // The threshold of about a second, made zero: loopback moves 64 MiB
    // faster than that.
    cmd.env("RUNCODE_PROGRESS_AFTER_MS", "0")
        .env("TERM", "xterm")
        .current_dir(cli.tmp.path())
        .args(["-q", "-e", "-c", line, "/dev/null"])
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    (out.status.success(), out.stdout)
}

/// Progress on long transfers: shown on a terminal's stderr, never when
/// stderr is a pipe or under `--json`; `get` to stdout stays byte-exact.
#[test]
fn long_transfers_show_progress_only_on_a_terminal() {
    let (_dp, cli, workdir) = attached();
    let exe = crate::util::built("runcode");
    let big = cli.tmp.path().join("big.bin");
    let bytes: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&big, &bytes).unwrap();

    let (ok, shown) = on_a_terminal(&cli, &format!("'{}' put big.bin up.bin", exe.display()));
    let shown = String::from_utf8_lossy(&shown);
    assert!(ok, "{shown}");
    assert!(
        shown.contains("sent") && shown.contains("MiB") && shown.contains("eta"),
        "{shown}"
    );
    assert_eq!(std::fs::read(workdir.join("up.bin")).unwrap(), bytes);

    // get to stdout: progress on the terminal's stderr, the bytes exact.
    let (ok, shown) = on_a_terminal(&cli, &format!("'{}' get up.bin > down.bin", exe.display()));
    let shown = String::from_utf8_lossy(&shown);
    assert!(ok, "{shown}");
    assert!(
        shown.contains("received") && shown.contains("MiB"),
        "{shown}"
    );
    assert_eq!(
        std::fs::read(cli.tmp.path().join("down.bin")).unwrap(),
        bytes
    );

    // --json on a terminal: the result line only.
    let (ok, shown) = on_a_terminal(
        &cli,
        &format!("'{}' --json put big.bin up2.bin", exe.display()),
    );
    let shown = String::from_utf8_lossy(&shown);
    assert!(ok, "{shown}");
    assert!(
        !shown.contains("MiB") && !shown.contains('\u{1b}'),
        "{shown:?}"
    );
    assert_eq!(shown.trim().lines().count(), 1, "{shown:?}");

    // Piped: not one byte of progress.
    let out = cli
        .cmd()
        .env("RUNCODE_PROGRESS_AFTER_MS", "0")
        .args(["get", "up.bin", "--out", "piped.bin"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli
        .cmd()
        .env("RUNCODE_PROGRESS_AFTER_MS", "0")
        .args(["get", "up.bin"])
        .output()
        .unwrap();
    assert!(out.stderr.is_empty());
    assert!(out.stdout == bytes, "get to a pipe stays byte-exact");
}

/// A copy never swaps a file for a folder or a folder for a file by
/// accident (`cp -r` refuses the same): `put`, `get` and `write` refuse
/// with `not_replaced` and change nothing, on both sides, through links
/// too; `--replace` means it. `write` to a folder is refused too.
#[test]
fn no_copy_replaces_a_file_with_a_folder_or_a_folder_with_a_file() {
    let (_dp, cli, workdir) = attached();
    let local = crate::util::world::scratch("kinds");
    let here = |p: &str| local.path().join(p);
    std::fs::create_dir_all(here("src")).unwrap();
    std::fs::write(here("src/f.txt"), "in the folder\n").unwrap();
    std::fs::write(here("a.txt"), "a file\n").unwrap();
    // On the workspace: a file where the folder would go, a folder where
    // the file would go, and a link to each.
    std::fs::write(workdir.join("a-file"), "keep me\n").unwrap();
    std::fs::create_dir_all(workdir.join("a-dir/a.txt/inner")).unwrap();
    std::os::unix::fs::symlink("a-file", workdir.join("link-to-file")).unwrap();
    let keep = |what: &str| {
        assert_eq!(
            std::fs::read_to_string(workdir.join("a-file")).unwrap(),
            "keep me\n",
            "{what}"
        );
        assert!(workdir.join("a-dir/a.txt/inner").is_dir(), "{what}");
    };
    let s = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    for (args, what) in [
        (
            vec!["put", &s(&here("src")), "a-file"],
            "folder onto a file",
        ),
        (
            vec!["put", &s(&here("src")), "link-to-file"],
            "folder onto a link to a file",
        ),
        (
            vec!["put", &s(&here("a.txt")), "a-dir"],
            "file onto a folder of its name",
        ),
        (vec!["write", "a-dir"], "write onto a folder"),
    ] {
        let out = cli.run_fed(&[&["--json"], &args[..]].concat(), b"x");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        assert_eq!(
            (out.status.code(), &v["error"]),
            (Some(1), &json!("not_replaced")),
            "{what}: {v}"
        );
        keep(what);
    }
    // Without --json: one line that says what to do.
    let out = cli.run(&["put", &s(&here("src")), "a-file"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--replace") && err.lines().count() == 1,
        "{err}"
    );

    // This machine: the same, for get.
    std::fs::create_dir_all(here("local-dir")).unwrap();
    for (args, what) in [
        (
            vec!["get", "a-dir", "--out", &s(&here("a.txt"))],
            "folder onto a local file",
        ),
        (
            vec!["get", "a-file", "--out", &s(&here("local-dir"))],
            "into a folder: fine, next case",
        ),
    ] {
        let (code, v) = cli.json(&args);
        if what.starts_with("folder") {
            assert_eq!(
                (code, &v["error"]),
                (1, &json!("not_replaced")),
                "{what}: {v}"
            );
            assert_eq!(std::fs::read_to_string(here("a.txt")).unwrap(), "a file\n");
        } else {
            assert_eq!(code, 0, "{v}");
        }
    }
    std::fs::create_dir_all(here("local-dir/a-file2")).unwrap();
    std::fs::write(workdir.join("a-file2"), "two\n").unwrap();
    let (code, v) = cli.json(&["get", "a-file2", "--out", &s(&here("local-dir"))]);
    assert_eq!(
        (code, &v["error"]),
        (1, &json!("not_replaced")),
        "file onto a local folder: {v}"
    );
    assert!(here("local-dir/a-file2").is_dir());

    // --replace means it.
    cli.ok(&["put", &s(&here("src")), "a-file", "--replace"]);
    assert!(workdir.join("a-file/f.txt").is_file());
    cli.ok(&[
        "get",
        "a-file2",
        "--out",
        &s(&here("local-dir")),
        "--replace",
    ]);
    assert_eq!(
        std::fs::read_to_string(here("local-dir/a-file2")).unwrap(),
        "two\n"
    );
}
