//! The Windows build from `dist/` does the job under Wine, through the
//! bundle's `runcode.cmd`, against the devplane's real sshd: Wine has no
//! `ssh.exe`, and the Windows CLI carries its commands over its own SSH
//! client (the builtin transport, its default there). connect; exec with
//! stdout and stderr apart, its exit status and stdin; put and get of a
//! tree, byte for byte; write; a reset mid-command resumed complete and
//! once; the held connection's pipe granting this user alone (its DACL read
//! back); a forward to another local port than the workspace's, listed and
//! cancelled; `forward --auto`; another host key refused with nothing run;
//! a certificate session; and nothing of runcode left running in the Wine
//! prefix after `disconnect`.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::platforms::{Win, dist};
use crate::util::both;
use crate::util::devplane::Devplane;
use runcode_e2e::serve::Server;
use runcode_e2e::wine;

/// `runcode.cmd` on `w` against `dp`, with the release on `base`.
fn rc(w: &Win, dp: &Devplane, base: &str, rest: &str) -> Command {
    let mut cmd = w.runcode(rest, base);
    cmd.env("RUNCODE_API_BASE", &dp.api)
        .env("RUNCODE_WEB_BASE", &dp.api)
        .env("RUNCODE_TOKEN", &dp.token)
        .env("RUNCODE_POLL_MS", "200");
    cmd
}

/// Runs `cmd` to its end with its stderr through a file. Wine hands every
/// process it starts the Unix stderr of its parent (for its own debug
/// output), whatever the Windows handles say, so a process that outlives
/// its command (the held connection, the forwards' keeper) would hold a
/// stderr pipe open and a read to its end would never finish; on Windows
/// itself such a process inherits nothing (docs/sessions.md).
fn done(cmd: &mut Command) -> Output {
    let file = tempfile::NamedTempFile::new().unwrap();
    cmd.stderr(file.reopen().unwrap());
    let mut out = cmd.output().unwrap();
    out.stderr = std::fs::read(file.path()).unwrap();
    out
}

/// `done` for a child already spawned with its stderr in `file`.
fn finished(child: std::process::Child, file: &tempfile::NamedTempFile) -> Output {
    let mut out = child.wait_with_output().unwrap();
    out.stderr = std::fs::read(file.path()).unwrap();
    out
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {}", both(out)))
}

/// Windows processes of runcode's still alive in the prefix.
fn runcode_processes() -> Vec<String> {
    runcode_e2e::procs::mentioning(&["runcode-"])
        .into_iter()
        .filter(|p| p.to_lowercase().contains(".exe"))
        .collect()
}

#[test]
fn windows_does_the_whole_job_over_its_own_ssh_client() {
    let dp = Devplane::start(&["--relay"]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let base = server.url("");

    let out = done(&mut rc(&w, &dp, &base, "--json connect 1001"));
    assert!(out.status.success(), "{}", both(&out));
    let workdir = std::path::PathBuf::from(json_of(&out)["workdir"].as_str().unwrap().to_owned());

    // exec: the streams apart, the command's own status, stdin through.
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = rc(&w, &dp, &base, "exec -- \"cat; echo err >&2; exit 3\"")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(err_file.reopen().unwrap())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"fed from windows\n")
        .unwrap();
    let out = finished(child, &err_file);
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "fed from windows\n");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("err\n"),
        "{}",
        both(&out)
    );

    // put and get of a tree, byte for byte.
    let local = w.user_profile().join("tree");
    std::fs::create_dir_all(local.join("sub")).unwrap();
    let noise = crate::util::noise(3 << 20);
    std::fs::write(local.join("sub/data.bin"), &noise).unwrap();
    std::fs::write(local.join("top.txt"), "top\n").unwrap();
    let put = format!("--json put \"{}\" tree", wine::windows_path(&local));
    let out = done(&mut rc(&w, &dp, &base, &put));
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(
        std::fs::read(workdir.join("tree/sub/data.bin")).unwrap(),
        noise
    );
    let back = w.user_profile().join("back");
    let get = format!("--json get tree --out \"{}\"", wine::windows_path(&back));
    let out = done(&mut rc(&w, &dp, &base, &get));
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(std::fs::read(back.join("sub/data.bin")).unwrap(), noise);
    assert_eq!(
        std::fs::read_to_string(back.join("top.txt")).unwrap(),
        "top\n"
    );

    // write, from a file.
    let note = w.user_profile().join("note.txt");
    std::fs::write(&note, "written from windows\n").unwrap();
    let write = format!(
        "--json write notes/w.txt --file \"{}\"",
        wine::windows_path(&note)
    );
    let out = done(&mut rc(&w, &dp, &base, &write));
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(
        std::fs::read_to_string(workdir.join("notes/w.txt")).unwrap(),
        "written from windows\n"
    );

    // A reset mid-command: every byte once, the real status, run once.
    let run = rc(
        &w,
        &dp,
        &base,
        "exec -- \"echo run >> once.txt; echo a; sleep 3; echo b; exit 7\"",
    )
    .stdout(Stdio::piped())
    .stderr(err_file.reopen().unwrap())
    .spawn()
    .unwrap();
    crate::util::wait_until(
        "the run started",
        std::time::Duration::from_secs(60),
        || std::fs::read_to_string(workdir.join("once.txt")).is_ok(),
    );
    dp.post(
        "/_dev/link?workspace_id=1001",
        serde_json::json!({"reset": true}),
    );
    let out = finished(run, &err_file);
    assert_eq!(out.status.code(), Some(7), "{}", both(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a\nb\n",
        "{}",
        both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("once.txt")).unwrap(),
        "run\n"
    );

    // The held connection is up, and its pipe grants this user alone: the
    // descriptor as Windows holds it, read back by doctor.
    let out = done(&mut rc(&w, &dp, &base, "--json doctor"));
    let doctor = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        doctor.contains("held connection up")
            && doctor.contains("protected D:P(")
            && doctor.contains("(this user only)"),
        "{doctor}"
    );

    // A forward to another local port than the workspace's (the two share
    // this loopback): the page can only have come through the forward.
    std::fs::write(workdir.join("index.html"), "through the windows forward\n").unwrap();
    let (remote, local) = (crate::util::free_port(), crate::util::free_port());
    let serve = |port: u16| {
        format!(
            "exec -- \"(python3 -m http.server {port} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1\""
        )
    };
    assert!(
        done(&mut rc(&w, &dp, &base, &serve(remote)))
            .status
            .success()
    );
    crate::util::wait_until("the server", std::time::Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", remote)).is_ok()
    });
    let fwd = format!("--json forward {remote} --local {local}");
    let out = done(&mut rc(&w, &dp, &base, &fwd));
    assert!(out.status.success(), "{}", both(&out));
    let page = |port: u16| {
        crate::util::wait_for(
            "the page through the forward",
            std::time::Duration::from_secs(20),
            || {
                ureq::get(&format!("http://127.0.0.1:{port}/index.html"))
                    .call()
                    .ok()
                    .and_then(|mut r| r.body_mut().read_to_string().ok())
            },
        )
    };
    assert_eq!(page(local), "through the windows forward\n");
    let out = done(&mut rc(&w, &dp, &base, "--json forward --list"));
    let listed = json_of(&out);
    assert_eq!(listed["forwards"][0]["local"], local, "{listed}");
    assert_eq!(listed["forwards"][0]["state"], "up", "{listed}");
    let cancel = format!("--json forward --cancel {remote}");
    let out = done(&mut rc(&w, &dp, &base, &cancel));
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_err(),
        "the local port is closed once cancelled"
    );

    // forward --auto: a server started after it is forwarded to the next
    // free local port (its own is taken here, by the server itself).
    let mut auto = rc(&w, &dp, &base, "--json forward --auto")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, events) = std::sync::mpsc::channel::<Value>();
    let stdout = auto.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(serde_json::from_str(line.trim()).unwrap_or(Value::Null));
        }
    });
    let next = || {
        events
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("an event of forward --auto")
    };
    assert_eq!(next()["event"], "watching");
    let later = crate::util::free_port();
    assert!(
        done(&mut rc(&w, &dp, &base, &serve(later)))
            .status
            .success()
    );
    let forwarded = loop {
        let e = next();
        if e["port"] == later {
            break e;
        }
    };
    assert_eq!(forwarded["event"], "forwarded", "{forwarded}");
    let auto_local = u16::try_from(forwarded["local"].as_u64().unwrap()).unwrap();
    assert_ne!(auto_local, later);
    assert_eq!(page(auto_local), "through the windows forward\n");

    // A host key other than the pinned one: refused, nothing ran.
    let session = w.local_app_data().join("runcode/ws-1001");
    let copy = w.user_profile().join("pin");
    std::fs::create_dir_all(&copy).unwrap();
    for name in ["meta.json", "id_ed25519", "id_ed25519.pub", "config"] {
        std::fs::copy(session.join(name), copy.join(name)).unwrap();
    }
    let other = copy.join("other");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(made.success());
    let other_key = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_key: Vec<&str> = other_key.split_whitespace().take(2).collect();
    let pinned = std::fs::read_to_string(session.join("known_hosts")).unwrap();
    let host = pinned.split_whitespace().next().unwrap().to_owned();
    std::fs::write(
        copy.join("known_hosts"),
        format!("{host} {}\n", other_key.join(" ")),
    )
    .unwrap();
    let log = copy.join("said.log");
    let probe = format!(
        "ssh-builtin --session \"{}\" --log \"{}\" -- \"touch {}\"",
        wine::windows_path(&copy),
        wine::windows_path(&log),
        workdir.join("ran-anyway").display()
    );
    let out = done(&mut rc(&w, &dp, &base, &probe));
    assert_eq!(out.status.code(), Some(255), "{}", both(&out));
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.starts_with("Host key verification failed."), "{said}");
    assert!(!workdir.join("ran-anyway").exists(), "nothing ran");
    std::fs::remove_dir_all(&copy).unwrap();

    let out = done(&mut rc(&w, &dp, &base, "--json disconnect"));
    assert!(out.status.success(), "{}", both(&out));
    // forward --auto sees its session gone and ends, its forwards with it.
    let _ = auto.wait();
    crate::util::wait_until(
        "nothing of runcode runs in the prefix",
        std::time::Duration::from_secs(20),
        || runcode_processes().is_empty(),
    );
}

#[test]
fn windows_runs_a_certificate_session_over_its_own_ssh_client() {
    let dp = Devplane::start(&["--credential", "certificate"]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let base = server.url("");
    let out = done(&mut rc(&w, &dp, &base, "--json connect 1001"));
    assert!(out.status.success(), "{}", both(&out));
    let out = done(&mut rc(
        &w,
        &dp,
        &base,
        "exec -- \"echo certified; exit 5\"",
    ));
    assert_eq!(out.status.code(), Some(5), "{}", both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "certified\n");

    // A secret, kept by the Windows build (in Wine's Credential Manager, or
    // the 0600 file where that does not answer) and given to a command:
    // it sees exactly the value, and its output shows only the name.
    let value = "wine-secret-7f3a9c2e5b";
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let mut set = rc(&w, &dp, &base, "--json secret set WINE_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(err_file.reopen().unwrap())
        .spawn()
        .unwrap();
    set.stdin
        .take()
        .unwrap()
        .write_all(format!("{value}\n").as_bytes())
        .unwrap();
    let out = finished(set, &err_file);
    assert!(out.status.success(), "{}", both(&out));
    let kept = json_of(&out);
    assert!(
        kept["store"] == "keyring" || kept["store"] == "file",
        "{kept}"
    );
    let out = done(&mut rc(
        &w,
        &dp,
        &base,
        // No quote inside the line and no `%`: cmd.exe reads it first.
        "exec --secret WINE_TOKEN -- \"echo -n $WINE_TOKEN | sha256sum; echo $WINE_TOKEN\"",
    ));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        printed.contains(&crate::secrets::sha256(value)),
        "{printed}"
    );
    assert!(
        printed.contains("[secret:WINE_TOKEN]") && !printed.contains(value),
        "{printed}"
    );
}
