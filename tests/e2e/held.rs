//! The held connection of the builtin transport (docs/sessions.md, "The
//! held connection") against the devplane's real sshd: `connect` starts it,
//! every command of the session runs on that one SSH connection (sshd's own
//! `SSH_CONNECTION` names the same client port each time), `doctor` reports
//! its endpoint as this user's only, and `disconnect` ends it with nothing
//! left. Its endpoint refuses another local user (a second uid, as root)
//! and a client of this user that does not know the holder's token, which
//! runs nothing.

use std::process::{Command, Output};

use crate::util::both;
use crate::util::cli::Cli;
use crate::util::devplane::Devplane;

fn builtin(cli: &Cli, args: &[&str]) -> Output {
    cli.cmd()
        .env("RUNCODE_TRANSPORT", "builtin")
        .args(args)
        .output()
        .unwrap()
}

/// The holder processes of session directory `dir`.
fn holders(dir: &std::path::Path) -> Vec<String> {
    let needle = format!("--session {} --hold", dir.display());
    runcode_e2e::procs::mentioning(&[&needle])
}

#[test]
fn every_command_rides_one_held_connection_which_disconnect_ends() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    // The first exec comes straight after connect: it joins the connection
    // connect started rather than opening one of its own.
    let out = builtin(&cli, &["--json", "connect", "1001"]);
    assert!(out.status.success(), "{}", both(&out));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let out = builtin(&cli, &["exec", "--", "echo $SSH_CONNECTION"]);
        assert!(out.status.success(), "{}", both(&out));
        seen.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    assert!(!seen[0].is_empty(), "{seen:?}");
    assert!(
        seen.iter().all(|s| *s == seen[0]),
        "one TCP connection (the same client port) for every command: {seen:?}"
    );
    assert_eq!(holders(&dir).len(), 1, "{:?}", holders(&dir));

    let out = builtin(&cli, &["--json", "doctor"]);
    let doctor = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        doctor.contains("held connection up") && doctor.contains("(this user only)"),
        "{doctor}"
    );
    assert!(doctor.contains("socket 600 in directory 700"), "{doctor}");

    let out = builtin(&cli, &["--json", "disconnect"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(holders(&dir).is_empty(), "{:?}", holders(&dir));
    assert!(!dir.join("held.sock").exists());
}

/// Connects to the unix socket at `path` as uid/gid 65534 (nobody); the
/// error's name, or "connected".
fn connect_as_nobody(path: &std::path::Path) -> String {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        // Debian's own Python: a user's shim under /root is not for nobody.
        .args(["/usr/bin/python3", "-c"])
        .arg(
            "import socket,sys\n\
             s=socket.socket(socket.AF_UNIX)\n\
             try:\n  s.connect(sys.argv[1]); print('connected')\n\
             except OSError as e: print(type(e).__name__)",
        )
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn another_user_and_a_client_without_the_token_get_nothing_from_the_endpoint() {
    // Acting as a second user needs root (the test command runs as root in
    // CI); run as an ordinary user, the modes themselves are checked by the
    // test above, through doctor.
    if !crate::util::is_root() {
        return;
    }
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let out = builtin(&cli, &["--json", "connect", "1001"]);
    assert!(out.status.success(), "{}", both(&out));
    let out = builtin(&cli, &["exec", "--", "pwd"]);
    assert!(out.status.success(), "{}", both(&out));
    let workdir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let dir = cli.session_dir(1001);
    let socket = dir.join("held.sock");
    assert!(socket.exists());

    // Every directory of this test's own scratch tree above the session's
    // open to others (never one outside it: /tmp is shared), so only
    // runcode's own protection stands in the way: the 0700 session
    // directory, then (with that loosened too) the 0600 socket.
    use std::os::unix::fs::PermissionsExt;
    let mut up = dir.parent();
    while let Some(p) = up.filter(|p| p.starts_with(cli.tmp.path())) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        up = p.parent();
    }
    assert_eq!(connect_as_nobody(&socket), "PermissionError");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(connect_as_nobody(&socket), "PermissionError");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();

    // This user, but without the token: a wrong proof, then a request.
    let marker = format!("{workdir}/ran-without-token");
    let out = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(
            "import socket,sys,json,struct\n\
             s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n\
             s.sendall(b'n'*32); s.recv(64); s.sendall(b'p'*32)\n\
             body=json.dumps({'op':'exec','line':'touch '+sys.argv[2]}).encode()\n\
             try:\n  s.sendall(b'R'+struct.pack('>I',len(body))+body); print(repr(s.recv(100)))\n\
             except OSError as e: print(type(e).__name__)",
        )
        .arg(&socket)
        .arg(&marker)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.trim() == "b''" || said.contains("Error"),
        "the holder hung up: {said} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        !std::path::Path::new(&marker).exists(),
        "nothing ran without the token"
    );
    // The session's own commands still run.
    let out = builtin(&cli, &["exec", "--", "echo fine"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "fine\n",
        "{}",
        both(&out)
    );
    let out = builtin(&cli, &["--json", "disconnect"]);
    assert!(out.status.success(), "{}", both(&out));
}

/// `echo $SSH_CONNECTION` over `transport`: the client port names the
/// connection.
fn connection(cli: &Cli, transport: &str) -> String {
    let out = cli
        .cmd()
        .env("RUNCODE_TRANSPORT", transport)
        .args(["exec", "--", "echo $SSH_CONNECTION"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A held connection started under the builtin transport is ended by a
/// `disconnect` run under the OpenSSH one (each connection by its own
/// client), so the next session's holder is the only one.
#[test]
fn disconnect_under_the_other_transport_still_ends_the_held_connection() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    assert!(
        builtin(&cli, &["--json", "connect", "1001"])
            .status
            .success()
    );
    connection(&cli, "builtin");
    let out = cli
        .cmd()
        .env("RUNCODE_TRANSPORT", "openssh")
        .args(["--json", "disconnect"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(holders(&dir).is_empty(), "{:?}", holders(&dir));
}

/// The session directory removed under a running holder (the cache wiped)
/// and a new session made at once: the old holder, ending, leaves the new
/// holder's endpoint alone, and the new session's commands share its one
/// connection.
#[test]
fn an_old_holder_ending_leaves_a_new_holders_endpoint_alone() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    assert!(
        builtin(&cli, &["--json", "connect", "1001"])
            .status
            .success()
    );
    let old = connection(&cli, "builtin");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        builtin(&cli, &["--json", "connect", "1001"])
            .status
            .success()
    );
    let first = connection(&cli, "builtin");
    assert_ne!(first, old);
    // The old holder sees its session gone within a second and ends.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while holders(&dir).len() > 1 {
        assert!(std::time::Instant::now() < deadline, "{:?}", holders(&dir));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for _ in 0..3 {
        assert_eq!(
            connection(&cli, "builtin"),
            first,
            "one connection for the new session"
        );
    }
    assert!(dir.join("held.sock").exists() && dir.join("held.token").exists());
    assert!(builtin(&cli, &["--json", "disconnect"]).status.success());
    assert!(holders(&dir).is_empty(), "{:?}", holders(&dir));
}
