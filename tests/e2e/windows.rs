//! The Windows build from `dist/` does the job under Wine, through the
//! bundle's `runcode.cmd`, against the devplane's real sshd: Wine has no
//! `ssh.exe`, and the Windows CLI carries its commands over its own SSH
//! client (the builtin transport, its default there). connect; exec with
//! stdout and stderr apart, its exit status and stdin; put and get of a
//! tree, byte for byte; write; a reset mid-command resumed complete and
//! once; a certificate session; and nothing of runcode left running in the
//! Wine prefix after `disconnect`. `forward` is refused there for now, with
//! the `ssh -N -L` line to run instead (docs/sessions.md says why).

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

    let out = rc(&w, &dp, &base, "--json connect 1001").output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let workdir = std::path::PathBuf::from(json_of(&out)["workdir"].as_str().unwrap().to_owned());

    // exec: the streams apart, the command's own status, stdin through.
    let mut child = rc(&w, &dp, &base, "exec -- \"cat; echo err >&2; exit 3\"")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"fed from windows\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
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
    let out = rc(&w, &dp, &base, &put).output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(
        std::fs::read(workdir.join("tree/sub/data.bin")).unwrap(),
        noise
    );
    let back = w.user_profile().join("back");
    let get = format!("--json get tree --out \"{}\"", wine::windows_path(&back));
    let out = rc(&w, &dp, &base, &get).output().unwrap();
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
    let out = rc(&w, &dp, &base, &write).output().unwrap();
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
    .stderr(Stdio::piped())
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
    let out = run.wait_with_output().unwrap();
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

    // Forwards are not there yet on Windows (a detached keeper would hold
    // this command's output open), and it says what to run instead.
    let out = rc(&w, &dp, &base, "--json forward 8080").output().unwrap();
    assert_eq!(json_of(&out)["error"], "unavailable", "{}", both(&out));
    assert!(
        json_of(&out)["message"].as_str().unwrap().contains("-N -L"),
        "{}",
        both(&out)
    );

    let out = rc(&w, &dp, &base, "--json disconnect").output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
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
    let out = rc(&w, &dp, &base, "--json connect 1001").output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let out = rc(&w, &dp, &base, "exec -- \"echo certified; exit 5\"")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "certified\n");
}
