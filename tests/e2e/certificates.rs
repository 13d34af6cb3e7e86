//! Certificate sessions against the devplane's `--credential certificate`
//! mode, whose gateways (real sshd) trust only the devplane's user CA
//! (`TrustedUserCAKeys`, `AuthorizedKeysFile none`) and present a host
//! certificate pinned by `@cert-authority`: every command works, a
//! revocation costs one re-mint, the session ends with the certificate, and
//! every hostile certificate is refused before anything is written.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::util::cli::{Cli, ssh_g};
use crate::util::devplane::Devplane;

fn certifying() -> Devplane {
    Devplane::start(&["--credential", "certificate"])
}

fn session_file(cli: &Cli, name: &str) -> PathBuf {
    cli.session_dir(1001).join(name)
}

/// What `ssh-keygen -L` says of a certificate file (the real OpenSSH
/// reading of it, not this project's).
fn keygen_l(cert: &Path) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-L")
        .arg("-f")
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::util::both(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_certificate_session_does_everything_a_key_session_does() {
    let dp = certifying();
    let cli = Cli::new(&dp);
    let gateway = dp.data_dir.join("ws-1001");
    let sshd_config = std::fs::read_to_string(gateway.join("sshd_config")).unwrap();
    assert!(
        sshd_config.contains("AuthorizedKeysFile none\nTrustedUserCAKeys "),
        "the gateway knows no key, only the CA: {sshd_config}"
    );

    let v = cli.ok(&["connect", "1001"]);
    let port = v["port"].as_u64().unwrap();
    let known = std::fs::read_to_string(session_file(&cli, "known_hosts")).unwrap();
    assert_eq!(known.lines().count(), 1, "{known}");
    assert!(
        known.starts_with(&format!(
            "@cert-authority [127.0.0.1]:{port} ssh-ed25519 AAAA"
        )),
        "pinned by the host CA alone: {known}"
    );
    let cert = session_file(&cli, "id_ed25519-cert.pub");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&cert).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let listed = keygen_l(&cert);
    assert!(
        listed.contains("user certificate")
            && listed.contains(&format!("\n                {}\n", whoami())),
        "{listed}"
    );

    // exec, in the workdir, authenticated by the certificate.
    let out = cli.run(&["exec", "--", "pwd; whoami"]);
    assert!(out.status.success(), "{}", crate::util::both(&out));
    let workdir = PathBuf::from(v["workdir"].as_str().unwrap());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n{}\n", workdir.display(), whoami())
    );
    let log = std::fs::read_to_string(gateway.join("sshd.log")).unwrap();
    assert!(log.contains("Accepted certificate ID"), "{log}");

    // put, get and write.
    let local = cli.tmp.path().join("up.bin");
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&local, &bytes).unwrap();
    cli.ok(&["put", local.to_str().unwrap(), "up.bin"]);
    assert_eq!(std::fs::read(workdir.join("up.bin")).unwrap(), bytes);
    let got = cli.run(&["get", "up.bin"]);
    assert!(got.status.success());
    assert_eq!(got.stdout, bytes);
    cli.ok(&["write", "notes.txt", "--file", local.to_str().unwrap()]);
    assert_eq!(std::fs::read(workdir.join("notes.txt")).unwrap(), bytes);

    // context.
    let ctx = cli.ok(&["context"]);
    assert_eq!(ctx["workdir"], v["workdir"], "{ctx}");

    // A forward whose local and remote ports differ, so the bytes went
    // through ssh.
    forward_reaches_a_server(&cli, &workdir);

    // The MCP exec tool.
    let result = crate::mcp::call(&cli, "exec", &[("command", json!("echo through-mcp"))]);
    assert_ne!(result["isError"], true, "{result}");
    assert_eq!(
        result["structuredContent"]["stdout"], "through-mcp\n",
        "{result}"
    );

    // `ssh -G` on the session config: the certificate file, nothing else
    // that a key session does not have.
    let config = session_file(&cli, "config");
    let text = std::fs::read_to_string(&config).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("CertificateFile "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, text);
    let bare = cli.tmp.path().join("config-without-certificate");
    std::fs::write(&bare, without).unwrap();
    let alias = v["alias"].as_str().unwrap();
    let (with, plain) = (ssh_g(&config, alias), ssh_g(&bare, alias));
    let mut differing: Vec<&String> = with
        .keys()
        .chain(plain.keys())
        .filter(|k| with.get(*k) != plain.get(*k))
        .collect();
    differing.dedup();
    assert_eq!(differing, vec!["certificatefile"], "{with:?}");
    assert_eq!(with["certificatefile"], cert.display().to_string());

    // config-ssh, then a plain `ssh runcode.<title>` through the proxy,
    // whose pins carry the CA under the workspace's host name.
    let title = dp.workspace(1001)["title"].as_str().unwrap().to_owned();
    let ssh_config = cli.home.join(".ssh/config");
    std::fs::create_dir_all(ssh_config.parent().unwrap()).unwrap();
    std::fs::write(&ssh_config, "").unwrap();
    cli.ok(&["config-ssh"]);
    let out = crate::ssh_config::ssh(
        &cli,
        &ssh_config,
        &format!("runcode.{title}"),
        "echo managed",
    );
    assert!(out.status.success(), "{}", crate::util::both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "managed\n");
    let pins = std::fs::read_to_string(session_file(&cli, "pinned_known_hosts")).unwrap();
    assert!(
        pins.starts_with("@cert-authority ws-1001.runcode.invalid ssh-ed25519 "),
        "{pins}"
    );
    cli.ok(&["config-ssh", "--remove"]);
    cli.ok(&["disconnect"]);
}

fn whoami() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn forward_reaches_a_server(cli: &Cli, workdir: &Path) {
    let (remote, _) = crate::files::serve_through_a_forward(cli, workdir, "certified page\n");
    cli.ok(&["forward", &remote.to_string(), "--cancel"]);
    let _ = cli.run(&["exec", "--", &format!("pkill -f 'http[.]server {remote}'")]);
}

#[test]
fn a_revoked_certificate_gives_one_remint_and_one_run() {
    let dp = certifying();
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    assert!(cli.run(&["exec", "--", "true"]).status.success());
    cli.ok(&["disconnect", "--keep"]); // close the master, keep the session files
    let revoked_key = std::fs::read_to_string(session_file(&cli, "id_ed25519.pub")).unwrap();
    // Revoked before `connect`, whose connection (opened in the background)
    // must not authenticate ahead of the revocation.
    dp.post("/_dev/revoke?workspace_id=1001", json!({}));
    cli.ok(&["connect", "1001"]);
    let list = std::fs::read_to_string(dp.data_dir.join("ws-1001/revoked_keys")).unwrap();
    let key_blob = revoked_key.split_whitespace().nth(1).unwrap();
    assert!(
        list.contains(key_blob),
        "the gateway refuses that key now: {list}"
    );

    let marker = cli.tmp.path().join("runs");
    let before = dp.mints();
    let out = cli.run(&[
        "exec",
        "--",
        &format!("echo x >> {}; echo again", marker.display()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::util::both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "again");
    assert_eq!(dp.mints(), before + 1, "one re-mint");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "x\n", "one run");
    let now_key = std::fs::read_to_string(session_file(&cli, "id_ed25519.pub")).unwrap();
    assert_ne!(now_key, revoked_key, "a new key, with its own certificate");
}

#[test]
fn the_session_ends_when_its_certificate_does() {
    let dp = certifying();
    let cli = Cli::new(&dp);
    dp.post(
        "/_dev/certificate?workspace_id=1001&valid_secs=600",
        json!({}),
    );
    let v = cli.ok(&["connect", "1001"]);
    let status = cli.ok(&["status"]);
    let left = status["sessions"][0]["seconds_left"].as_i64().unwrap();
    assert!(
        (500..=600).contains(&left),
        "the certificate's ten minutes, not the session's thirty: {status}"
    );
    assert_eq!(status["sessions"][0]["expires_at"], v["expires_at"]);
    let human = cli.run(&["status"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("min left") && !text.contains("30 min"),
        "{text}"
    );
    let line = cli.run(&["statusline", "--plain"]);
    let line = String::from_utf8_lossy(&line.stdout);
    assert!(line.contains("~9m") || line.contains("~10m"), "{line}");
    // A reuse keeps it; its end is the certificate's.
    let again = cli.ok(&["connect", "1001"]);
    assert_eq!(again["reused"], true, "{again}");
    assert_eq!(again["expires_at"], v["expires_at"]);
    let listed = keygen_l(&session_file(&cli, "id_ed25519-cert.pub"));
    let to = listed
        .lines()
        .find_map(|l| l.trim().strip_prefix("Valid: from "))
        .and_then(|l| l.split(" to ").nth(1))
        .unwrap()
        .to_owned();
    // ssh-keygen prints local time without a zone; compare the minutes.
    let expires = v["expires_at"].as_str().unwrap();
    assert_eq!(
        &to[..16],
        &local_time(expires)[..16],
        "{listed} / {expires}"
    );
}

/// An ISO 8601 UTC instant in this machine's local time, as ssh-keygen
/// prints it.
fn local_time(iso: &str) -> String {
    let out = std::process::Command::new("date")
        .args(["-d", iso, "+%Y-%m-%dT%H:%M:%S"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn hostile_certificates_are_refused_and_nothing_is_written() {
    let dp = certifying();
    for mode in [
        "cert_other_key",
        "cert_host",
        "cert_principal",
        "cert_expired",
        "cert_future",
        "cert_second_line",
        "cert_garbage",
        "cert_plain_key",
    ] {
        let cli = Cli::new(&dp);
        dp.post("/_dev/hostile", json!({"mode": mode}));
        let v = cli.fails(&["connect", "1001"], "unsafe_bundle", 2);
        assert!(
            v["message"].as_str().unwrap().contains("credential"),
            "{mode}: {v}"
        );
        assert!(!cli.session_dir(1001).exists(), "{mode}: nothing written");
        assert!(
            !cli.cache().join("current").exists(),
            "{mode}: not attached"
        );
        let outside: Vec<PathBuf> = files_under(&cli.home)
            .into_iter()
            .filter(|p| !p.starts_with(cli.cache()))
            .collect();
        assert!(outside.is_empty(), "{mode}: touched {outside:?}");
        assert!(
            !dp.data_dir.join("pwned-certificate").exists(),
            "{mode}: the smuggled line was obeyed"
        );
    }
    // The same CLI then connects once the server answers honestly.
    let cli = Cli::new(&dp);
    cli.ok(&["connect", "1001"]);
    assert!(cli.run(&["exec", "--", "true"]).status.success());
}

#[test]
fn a_wide_cert_authority_line_never_reaches_the_sessions_known_hosts() {
    let dp = certifying();
    let cli = Cli::new(&dp);
    dp.post("/_dev/hostile", json!({"mode": "ca_wide"}));
    let v = cli.ok(&["connect", "1001"]);
    let port = v["port"].as_u64().unwrap();
    let known = std::fs::read_to_string(session_file(&cli, "known_hosts")).unwrap();
    let lines: Vec<&str> = known.lines().collect();
    assert_eq!(lines.len(), 1, "only the exact pin: {known}");
    assert!(
        lines[0].starts_with(&format!("@cert-authority [127.0.0.1]:{port} ")),
        "{known}"
    );
    assert!(
        !known.contains('*') && !known.contains("gw.example"),
        "{known}"
    );
    assert!(cli.run(&["exec", "--", "true"]).status.success());
}
