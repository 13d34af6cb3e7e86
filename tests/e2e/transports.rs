//! The builtin transport (runcode's own SSH client) against the devplane's
//! real sshd: a machine without an OpenSSH client chooses it by itself and
//! does the whole job (connect, exec with its streams apart and its status,
//! put and get, a forward whose bytes provably crossed it, listed and
//! cancelled), `doctor` names it; and the client refuses a host key other
//! than the pinned one before anything runs. (The files, network, certificate, once,
//! long-run and MCP suites run over it too: `cargo xtask test` runs them a
//! second time with `RUNCODE_TRANSPORT=builtin`.)

use std::process::Command;

use serde_json::Value;

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use crate::util::world::{attached, scratch};

/// `cli`'s command with a PATH that holds no `ssh`.
fn without_openssh(cli: &Cli, empty: &std::path::Path) -> Command {
    let mut cmd = cli.cmd();
    cmd.env("PATH", empty).env_remove("RUNCODE_TRANSPORT");
    cmd
}

fn json(cmd: &mut Command) -> (Option<i32>, Value) {
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let last = text.lines().last().unwrap_or_default().to_owned();
    (
        out.status.code(),
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

#[test]
fn a_machine_without_openssh_does_the_whole_job_over_the_builtin_transport() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let empty = scratch("no-ssh");
    let (code, connected) =
        json(without_openssh(&cli, empty.path()).args(["--json", "connect", "1001"]));
    assert_eq!(code, Some(0), "{connected}");
    let workdir = std::path::PathBuf::from(connected["workdir"].as_str().unwrap());

    let mut exec = without_openssh(&cli, empty.path());
    exec.args(["exec", "--", "cat; echo err >&2; exit 3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = exec.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"fed\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert_eq!(
        (&out.stdout[..], &out.stderr[..]),
        (&b"fed\n"[..], &b"err\n"[..])
    );

    let local = cli.tmp.path().join("tree");
    std::fs::create_dir_all(local.join("sub")).unwrap();
    std::fs::write(local.join("sub/a.bin"), crate::util::noise(1 << 20)).unwrap();
    let (code, put) = json(without_openssh(&cli, empty.path()).args([
        "--json",
        "put",
        local.to_str().unwrap(),
        "tree",
    ]));
    assert_eq!(code, Some(0), "{put}");
    assert_eq!(
        std::fs::read(workdir.join("tree/sub/a.bin")).unwrap(),
        crate::util::noise(1 << 20)
    );
    let back = cli.tmp.path().join("back");
    let (code, got) = json(without_openssh(&cli, empty.path()).args([
        "--json",
        "get",
        "tree",
        "--out",
        back.to_str().unwrap(),
    ]));
    assert_eq!(code, Some(0), "{got}");
    assert_eq!(
        std::fs::read(back.join("sub/a.bin")).unwrap(),
        crate::util::noise(1 << 20)
    );

    let (_, doctor) = json(without_openssh(&cli, empty.path()).args(["--json", "doctor"]));
    let check = |name: &str| {
        doctor["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{name} in {doctor}"))
    };
    assert!(
        check("transport")["detail"]
            .as_str()
            .unwrap()
            .starts_with("builtin"),
        "{doctor}"
    );
    assert_eq!(check("ssh")["status"], "warn", "{doctor}");

    // A forward: its own local port, so the page provably crossed ssh.
    let (remote, local) = (crate::util::free_port(), crate::util::free_port());
    std::fs::write(workdir.join("index.html"), "through the builtin forward\n").unwrap();
    let start =
        format!("(python3 -m http.server {remote} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1");
    let started = without_openssh(&cli, empty.path())
        .args(["exec", "--", &start])
        .status()
        .unwrap();
    assert!(started.success());
    let (code, fwd) = json(without_openssh(&cli, empty.path()).args([
        "--json",
        "forward",
        &remote.to_string(),
        "--local",
        &local.to_string(),
    ]));
    assert_eq!(code, Some(0), "{fwd}");
    let page = crate::util::wait_for(
        "the page through the forward",
        std::time::Duration::from_secs(20),
        || {
            ureq::get(&format!("http://127.0.0.1:{local}/index.html"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
        },
    );
    assert_eq!(page, "through the builtin forward\n");
    let (_, listed) =
        json(without_openssh(&cli, empty.path()).args(["--json", "forward", "--list"]));
    assert_eq!(listed["forwards"][0]["state"], "up", "{listed}");
    let (code, cancelled) = json(without_openssh(&cli, empty.path()).args([
        "--json",
        "forward",
        "--cancel",
        &remote.to_string(),
    ]));
    assert_eq!(code, Some(0), "{cancelled}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", local)).is_err(),
        "the local port is closed once cancelled"
    );
    let (code, _) = json(without_openssh(&cli, empty.path()).args(["--json", "disconnect"]));
    assert_eq!(code, Some(0));
}

/// `runcode ssh-builtin` on session directory `dir`, its words in `log`.
fn builtin_client(
    dir: &std::path::Path,
    log: &std::path::Path,
    line: &str,
) -> std::process::Output {
    Command::new(crate::util::built("runcode"))
        .args(["ssh-builtin", "--session"])
        .arg(dir)
        .arg("--log")
        .arg(log)
        .args(["--", line])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_builtin_client_refuses_another_host_key_and_runs_nothing() {
    let (_dp, cli, workdir) = attached();
    // A copy of the session whose pin is another key.
    let copy = scratch("pin");
    let session = cli.session_dir(1001);
    for name in [
        "meta.json",
        "id_ed25519",
        "id_ed25519.pub",
        "known_hosts",
        "config",
    ] {
        std::fs::copy(session.join(name), copy.path().join(name)).unwrap();
    }
    let other = copy.path().join("other");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(made.success());
    let other_key = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_key: Vec<&str> = other_key.split_whitespace().take(2).collect();
    let pinned = std::fs::read_to_string(copy.path().join("known_hosts")).unwrap();
    let host = pinned.split_whitespace().next().unwrap().to_owned();
    std::fs::write(
        copy.path().join("known_hosts"),
        format!("{host} {}\n", other_key.join(" ")),
    )
    .unwrap();
    let log = copy.path().join("said.log");
    let out = builtin_client(
        copy.path(),
        &log,
        &format!("touch {}", workdir.join("ran-anyway").display()),
    );
    assert_eq!(out.status.code(), Some(255), "{out:?}");
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.starts_with("Host key verification failed."), "{said}");
    assert!(!workdir.join("ran-anyway").exists(), "nothing ran");
    // The same session with its own pin runs.
    std::fs::copy(session.join("known_hosts"), copy.path().join("known_hosts")).unwrap();
    let out = builtin_client(
        copy.path(),
        &log,
        &format!("touch {}", workdir.join("ran").display()),
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(workdir.join("ran").exists());
}

/// A second real sshd beside workspace 1001's gateway, with its host key
/// and its `authorized_keys`, on a port of its own, whose offer is narrowed
/// by `only` (sshd_config lines): a server that offers nothing modern.
struct Narrowed {
    child: std::process::Child,
    port: u16,
}

impl Narrowed {
    fn start(dp: &Devplane, scratch_dir: &std::path::Path, only: &str) -> Narrowed {
        let gateway = dp.data_dir.join("ws-1001");
        let port = crate::util::free_port();
        let config: String = std::fs::read_to_string(gateway.join("sshd_config"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("ListenAddress ") && !l.starts_with("PidFile "))
            .map(|l| format!("{l}\n"))
            .collect();
        let path = scratch_dir.join(format!("sshd_config-{port}"));
        std::fs::write(
            &path,
            format!("ListenAddress 127.0.0.1:{port}\nPidFile none\n{only}\n{config}"),
        )
        .unwrap();
        let sshd = ["/usr/sbin/sshd", "/usr/bin/sshd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("sshd");
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "sshd never listened");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Narrowed { child, port }
    }
}

impl Drop for Narrowed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_builtin_client_refuses_a_server_that_offers_no_modern_algorithm() {
    let (dp, cli, workdir) = attached();
    let session = cli.session_dir(1001);
    let pinned = std::fs::read_to_string(session.join("known_hosts")).unwrap();
    let host_key: Vec<&str> = pinned.split_whitespace().skip(1).take(2).collect();
    let copy = scratch("narrowed");
    for name in ["id_ed25519", "id_ed25519.pub", "config"] {
        std::fs::copy(session.join(name), copy.path().join(name)).unwrap();
    }
    let meta: Value =
        serde_json::from_slice(&std::fs::read(session.join("meta.json")).unwrap()).unwrap();
    // Each server, and the line the client leaves: nothing it offers is
    // accepted, so nothing runs. The last one offers what OpenSSH offers
    // by default and runs the command: the copy itself is sound.
    let cases = [
        (
            "KexAlgorithms diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256",
            Some(
                "no matching key exchange method found. Their offer: \
                 diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256,\
                 kex-strict-s-v00@openssh.com",
            ),
        ),
        (
            "Ciphers aes256-ctr,aes128-cbc\nMACs hmac-sha2-256",
            Some("no matching cipher found. Their offer: aes256-ctr,aes128-cbc"),
        ),
        ("", None),
    ];
    for (i, (only, refused)) in cases.into_iter().enumerate() {
        let server = Narrowed::start(&dp, copy.path(), only);
        let mut m = meta.clone();
        m["port"] = server.port.into();
        std::fs::write(copy.path().join("meta.json"), m.to_string()).unwrap();
        std::fs::write(
            copy.path().join("known_hosts"),
            format!("[127.0.0.1]:{} {}\n", server.port, host_key.join(" ")),
        )
        .unwrap();
        let log = copy.path().join(format!("said-{i}.log"));
        let mark = workdir.join(format!("ran-{i}"));
        let out = builtin_client(copy.path(), &log, &format!("touch {}", mark.display()));
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        match refused {
            Some(why) => {
                assert_eq!(out.status.code(), Some(255), "{only}: {out:?}");
                assert_eq!(
                    said.trim(),
                    format!(
                        "Unable to negotiate with 127.0.0.1 port {}: {why}",
                        server.port
                    ),
                    "{only}"
                );
                assert!(!mark.exists(), "{only}: nothing ran");
            }
            None => {
                assert_eq!(out.status.code(), Some(0), "{said} {out:?}");
                assert!(mark.exists());
            }
        }
        drop(server);
    }
    cli.ok(&["disconnect"]);
}
