//! The first command is warm (docs/sessions.md): `connect` opens the
//! session's connection in the background, the OpenSSH master or the held
//! connection, and a command that comes straight after joins it instead of
//! opening one of its own. Proven by the gateway's real sshd, whose log
//! holds one "Accepted publickey" per authenticated connection, and whose
//! `SSH_CONNECTION` names the same client port for every command.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::util::both;
use crate::util::cli::Cli;
use crate::util::devplane::Devplane;

fn with(cli: &Cli, transport: &str, args: &[&str]) -> Output {
    cli.cmd()
        .env("RUNCODE_TRANSPORT", transport)
        .args(args)
        .output()
        .unwrap()
}

/// Connections the gateway's sshd authenticated so far.
fn accepted(dp: &Devplane) -> usize {
    let log = std::fs::read_to_string(dp.data_dir.join("ws-1001/sshd.log")).unwrap_or_default();
    log.matches("Accepted publickey").count()
}

/// The processes that name session directory `dir`: ssh, its master and
/// runcode's holder (the warmer's only child is that ssh).
fn left(dir: &Path) -> Vec<String> {
    runcode_e2e::procs::mentioning(&[&dir.display().to_string()])
}

/// `connect` then three commands at once after it, over `transport`: one
/// authenticated connection for all of them, and nothing left after
/// `disconnect`.
fn first_command_joins(transport: &str) {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    let before = accepted(&dp);
    let out = with(&cli, transport, &["--json", "connect", "1001"]);
    assert!(out.status.success(), "{}", both(&out));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let out = with(&cli, transport, &["exec", "--", "echo $SSH_CONNECTION"]);
        assert!(out.status.success(), "{transport}: {}", both(&out));
        seen.push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
    }
    assert!(!seen[0].is_empty(), "{seen:?}");
    assert!(seen.iter().all(|s| *s == seen[0]), "{transport}: {seen:?}");
    assert_eq!(
        accepted(&dp) - before,
        1,
        "{transport}: the first command joined the connection connect opened"
    );
    let out = with(&cli, transport, &["disconnect"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(left(&dir).is_empty(), "{transport}: {:?}", left(&dir));
}

#[test]
fn the_first_command_after_connect_joins_the_master_connect_opened() {
    first_command_joins("openssh");
}

#[test]
fn the_first_command_after_connect_joins_the_held_connection() {
    first_command_joins("builtin");
}

/// With no command at all, the master `connect` opened comes up by itself
/// (ssh's own `-O check` answers), and stays the session's only connection.
#[test]
fn connect_opens_the_master_by_itself() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let out = with(&cli, "openssh", &["--json", "connect", "1001"]);
    assert!(out.status.success(), "{}", both(&out));
    let dir = cli.session_dir(1001);
    let check = || {
        std::process::Command::new("ssh")
            .arg("-F")
            .arg(dir.join("config"))
            .args(["-O", "check", "runcode-root"])
            .output()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().status.success() {
        assert!(
            Instant::now() < deadline,
            "no master after connect: {}",
            both(&check())
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(accepted(&dp), 1);
    let out = with(&cli, "openssh", &["disconnect"]);
    assert!(out.status.success(), "{}", both(&out));
    assert!(left(&dir).is_empty(), "{:?}", left(&dir));
}

/// `disconnect` at once after `connect`, while the master is still being
/// opened: it waits for it and ends it, so no master outlives the session.
#[test]
fn disconnect_while_the_master_opens_leaves_nothing() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    for _ in 0..3 {
        let out = with(&cli, "openssh", &["--json", "connect", "1001"]);
        assert!(out.status.success(), "{}", both(&out));
        let out = with(&cli, "openssh", &["disconnect"]);
        assert!(out.status.success(), "{}", both(&out));
        assert!(left(&dir).is_empty(), "{:?}", left(&dir));
    }
}

/// With no command on it for `RUNCODE_IDLE_SECS` (the documented setting,
/// 300 s unless set; 2 here), the session's connection ends by itself over
/// either transport, and the next command opens a new one.
#[test]
fn an_unused_connection_ends_after_the_idle_time() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dir = cli.session_dir(1001);
    for transport in ["openssh", "builtin"] {
        let idle = |args: &[&str]| {
            cli.cmd()
                .env("RUNCODE_TRANSPORT", transport)
                .env("RUNCODE_IDLE_SECS", "2")
                .args(args)
                .output()
                .unwrap()
        };
        let out = idle(&["--json", "connect", "1001"]);
        assert!(out.status.success(), "{}", both(&out));
        let out = idle(&["exec", "--", "echo $SSH_CONNECTION"]);
        assert!(out.status.success(), "{transport}: {}", both(&out));
        let first = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !left(&dir).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{transport}: still up a minute after its last command: {:?}",
                left(&dir)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = idle(&["exec", "--", "echo $SSH_CONNECTION"]);
        assert!(out.status.success(), "{transport}: {}", both(&out));
        let second = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        // Had the first connection stayed up, this command would have run
        // on it (the same client port).
        assert_ne!(first, second, "{transport}: a new connection");
        let out = idle(&["disconnect"]);
        assert!(out.status.success(), "{}", both(&out));
    }
}
