//! The user's own ssh tools: `config-ssh` hosts used by the real ssh, scp
//! and sftp through `runcode proxy`; a broken block left alone; expiry and
//! many connections at once; the proxy's lifecycle.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::devplane::{Devplane, processes_mentioning};
use serde_json::{Value, json};

pub(crate) const USER_CONFIG: &str = "# my own settings\r\nHost *\n  User nobody-else\n  ServerAliveInterval 30\n\nHost work\n  HostName work.example\n  # no final newline";

pub(crate) fn setup() -> (Devplane, Cli, String, PathBuf) {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let title = dp.workspace(1001)["title"].as_str().unwrap().to_owned();
    let ssh_dir = cli.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let config = ssh_dir.join("config");
    std::fs::write(&config, USER_CONFIG).unwrap();
    (dp, cli, title, config)
}

/// The real ssh with the scratch HOME's config (ssh finds ~/.ssh through
/// the passwd entry, not $HOME, so the file is named explicitly).
pub(crate) fn ssh(cli: &Cli, config: &Path, host: &str, command: &str) -> Output {
    cli_env(cli, Command::new("ssh"))
        .args(["-F"])
        .arg(config)
        .args(["-o", "BatchMode=yes", host, command])
        .output()
        .unwrap()
}

pub(crate) fn cli_env(cli: &Cli, mut cmd: Command) -> Command {
    let probe = cli.cmd();
    cmd.env_clear();
    for (k, v) in probe.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

#[test]
fn config_ssh_hosts_work_with_ssh_scp_and_sftp_and_removal_restores_every_byte() {
    let (dp, cli, title, config) = setup();
    let dry = cli.ok(&["config-ssh", "--dry-run"]);
    assert_eq!(dry["changed"], true);
    assert!(
        dry["diff"]
            .as_str()
            .unwrap()
            .contains(&format!("+Host runcode.{title}"))
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        USER_CONFIG,
        "--dry-run writes nothing"
    );
    assert!(!config.with_file_name("config.bak").exists());

    let v = cli.ok(&["config-ssh"]);
    let host = format!("runcode.{title}");
    assert!(
        v["hosts"]
            .as_array()
            .unwrap()
            .contains(&Value::String(host.clone()))
    );
    assert!(
        !v["hosts"].to_string().contains("runcode.hidden-river"),
        "not SSH-capable: left out"
    );
    assert_eq!(
        std::fs::read_to_string(config.with_file_name("config.bak")).unwrap(),
        USER_CONFIG
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = cli.ok(&["config-ssh"]);
    assert_eq!(again["changed"], false, "re-running changes nothing");
    let text = std::fs::read_to_string(&config).unwrap();
    assert_eq!(text.matches("# >>> runcode managed block").count(), 1);

    let out = ssh(&cli, &config, &host, "echo ok; pwd");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("ok")
    );
    let g = cli_env(&cli, Command::new("ssh"))
        .arg("-G")
        .arg("-F")
        .arg(&config)
        .arg(&host)
        .output()
        .unwrap();
    let g = String::from_utf8_lossy(&g.stdout).to_string();
    assert!(
        g.contains(&format!(
            "user {}",
            dp.workspace(1001)["ssh_user"].as_str().unwrap()
        )),
        "our User wins over the user's Host *"
    );
    assert!(
        g.contains("stricthostkeychecking true")
            && g.contains("identitiesonly yes")
            && g.contains("checkhostip no")
    );
    assert!(
        g.contains("serveraliveinterval 5")
            && g.contains("serveralivecountmax 2")
            && g.contains("connecttimeout 10"),
        "an editor's connection notices a dead link too"
    );

    let local = cli.tmp.path().join("via-scp.bin");
    std::fs::write(&local, crate::util::noise(200_000)).unwrap();
    let out = cli_env(&cli, Command::new("scp"))
        .arg("-F")
        .arg(&config)
        .args(["-o", "BatchMode=yes"])
        .arg(&local)
        .arg(format!("{host}:/tmp/runcode-scp-test.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read("/tmp/runcode-scp-test.bin").unwrap(),
        crate::util::noise(200_000)
    );
    let batch = cli.tmp.path().join("batch");
    let down = cli.tmp.path().join("via-sftp.bin");
    std::fs::write(
        &batch,
        format!("get /tmp/runcode-scp-test.bin {}\n", down.display()),
    )
    .unwrap();
    let out = cli_env(&cli, Command::new("sftp"))
        .arg("-F")
        .arg(&config)
        .args(["-o", "BatchMode=yes", "-b"])
        .arg(&batch)
        .arg(&host)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sftp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&down).unwrap(), crate::util::noise(200_000));
    let _ = std::fs::remove_file("/tmp/runcode-scp-test.bin");
    if crate::util::is_installed("rsync") {
        let out = cli_env(&cli, Command::new("rsync"))
            .arg("-e")
            .arg(format!("ssh -F {} -o BatchMode=yes", config.display()))
            .arg(&local)
            .arg(format!("{host}:/tmp/runcode-rsync-test.bin"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "rsync: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_file("/tmp/runcode-rsync-test.bin");
    } else {
        crate::util::skip("rsync is not installed: the rsync leg did not run");
    }

    cli.ok(&["config-ssh", "--remove"]);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        USER_CONFIG,
        "byte-identical after --remove"
    );
    assert_eq!(cli.ok(&["config-ssh", "--remove"])["changed"], false);
}

#[test]
fn a_broken_block_is_never_touched_and_unsafe_titles_are_skipped() {
    let (dp, cli, _, config) = setup();
    let broken =
        format!("{USER_CONFIG}\n# >>> runcode managed block (do not edit) >>>\nHost runcode.x\n");
    std::fs::write(&config, &broken).unwrap();
    cli.fails(&["config-ssh"], "left_untouched", 1);
    cli.fails(&["config-ssh", "--remove"], "left_untouched", 1);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
    assert!(!config.with_file_name("config.bak").exists());

    std::fs::write(&config, USER_CONFIG).unwrap();
    dp.post("/_dev/hostile", json!({"mode": "title", "count": 2}));
    let out = cli.cmd().args(["--json", "config-ssh"]).output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipping workspace"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains("evil"), "{text}");
    cli.fails(&["proxy", "12;ls"], "usage", 2);
    cli.fails(&["proxy", "-1"], "usage", 2);
}

#[test]
fn the_first_connection_after_expiry_works_and_eight_at_once_mint_once() {
    let (dp, cli, title, config) = setup();
    cli.ok(&["config-ssh"]);
    let host = format!("runcode.{title}");
    // The session comes back already expired, as after its window ran out.
    dp.post("/_dev/expire?workspace_id=1001", serde_json::json!({}));
    cli.ok(&["connect", "1001"]);
    cli.ok(&["disconnect", "--keep"]);
    let before = dp.mints();
    let out = ssh(&cli, &config, &host, "echo first");
    assert!(
        out.status.success(),
        "the very first connection after expiry: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(dp.mints(), before + 1);

    // Expire again, then eight at once.
    dp.post("/_dev/expire?workspace_id=1001", serde_json::json!({}));
    cli.ok(&["connect", "1001", "--force"]);
    cli.ok(&["disconnect", "--keep"]);
    let before = dp.mints();
    let children: Vec<_> = (0..8)
        .map(|i| {
            cli_env(&cli, Command::new("ssh"))
                .arg("-F")
                .arg(&config)
                .args(["-o", "BatchMode=yes", &host, &format!("echo {i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "connection {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), i.to_string());
    }
    assert_eq!(dp.mints(), before + 1, "eight connections, one mint");
}

#[test]
fn the_proxy_speaks_only_ssh_and_never_outlives_its_ssh() {
    let (dp, cli, title, config) = setup();
    cli.ok(&["config-ssh"]);
    let mut proxy = cli
        .cmd()
        .args(["proxy", "1001"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 8];
    proxy
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    assert_eq!(
        &first, b"SSH-2.0-",
        "stdout starts with the server's banner"
    );
    drop(proxy.stdin.take());
    assert!(
        wait_exit(&mut proxy, Duration::from_secs(10)),
        "the proxy exits when stdin closes"
    );

    // stdin closed before the gateway even answered.
    let mut quick = cli
        .cmd()
        .args(["proxy", "1001"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(wait_exit(&mut quick, Duration::from_secs(10)));

    let mut session = cli_env(&cli, Command::new("ssh"))
        .arg("-F")
        .arg(&config)
        .args([
            "-o",
            "BatchMode=yes",
            &format!("runcode.{title}"),
            "echo up; sleep 60",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    session
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut up)
        .unwrap();
    let api = dp.api.clone();
    let proxies = || {
        processes_mentioning(Path::new(&api))
            .into_iter()
            .filter(|p| p.contains(" proxy 1001"))
            .count()
    };
    assert_eq!(proxies(), 1);
    session.kill().unwrap();
    session.wait().unwrap();
    crate::util::wait_until("no proxy outlives its ssh", Duration::from_secs(10), || {
        proxies() == 0
    });
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> bool {
    if crate::util::poll(limit, || child.try_wait().unwrap()).is_some() {
        return true;
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}
