//! Editors and the user's own tools: `config-ssh` hosts used by the real
//! ssh, scp and sftp through `runcode proxy`; expiry and many connections at
//! once; the proxy's lifecycle; the status line and its installer;
//! install-path; open, create, delete; completions.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::devplane::{Devplane, processes_mentioning};
use serde_json::{Value, json};

const USER_CONFIG: &str = "# my own settings\r\nHost *\n  User nobody-else\n  ServerAliveInterval 30\n\nHost work\n  HostName work.example\n  # no final newline";

fn setup() -> (Devplane, Cli, String, PathBuf) {
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

fn cli_env(cli: &Cli, mut cmd: Command) -> Command {
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

/// Runs `statusline` with `stdin` and returns (exit, stdout, stderr).
fn statusline(cli: &Cli, args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = cli
        .cmd()
        .arg("statusline")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_status_line_follows_the_attachment_and_its_scope() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    assert_eq!(
        statusline(&cli, &[], b""),
        (0, String::new(), String::new()),
        "detached: nothing"
    );
    let mut no_home = cli.cmd();
    no_home.env_remove("HOME").arg("statusline");
    let out = no_home.output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "no HOME at all: nothing, no failure"
    );

    cli.ok(&["connect", "1001"]);
    let scope = cli.tmp.path().display().to_string();
    let (code, plain, err) = statusline(&cli, &["--plain"], b"");
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(
        plain.starts_with("working-on:127.0.0.1:") && plain.trim_end().ends_with('m'),
        "{plain}"
    );
    let (_, coloured, _) = statusline(&cli, &[], b"");
    assert!(
        coloured.starts_with("\u{1b}[30;42m runcode "),
        "green with time to spare: {coloured:?}"
    );
    let mine = json!({"workspace": {"current_dir": format!("{scope}/sub"), "project_dir": scope}, "cwd": scope}).to_string();
    assert!(
        !statusline(&cli, &["--plain"], mine.as_bytes()).1.is_empty(),
        "the attaching project sees it"
    );
    let other = json!({"workspace": {"current_dir": "/elsewhere/x", "project_dir": "/elsewhere"}, "cwd": "/elsewhere"}).to_string();
    assert_eq!(
        statusline(&cli, &["--plain"], other.as_bytes()),
        (0, String::new(), String::new()),
        "another project sees nothing"
    );
    let sibling = json!({"cwd": format!("{scope}-sibling")}).to_string();
    assert_eq!(
        statusline(&cli, &["--plain"], sibling.as_bytes()).1,
        "",
        "whole path components only"
    );
    assert!(
        !statusline(&cli, &["--plain"], b"\xff\xfe not json")
            .1
            .is_empty(),
        "garbage stdin: still a line"
    );

    cli.ok(&["connect", "1001", "--ttl", "100", "--force"]);
    assert!(
        statusline(&cli, &[], b"").1.starts_with("\u{1b}[30;41m"),
        "red under 2 minutes"
    );
    cli.ok(&["connect", "1001", "--ttl", "200", "--force"]);
    assert!(
        statusline(&cli, &[], b"").1.starts_with("\u{1b}[30;43m"),
        "yellow under 5 minutes"
    );
    dp.post("/_dev/expire?workspace_id=1001", serde_json::json!({}));
    cli.ok(&["connect", "1001", "--force"]);
    assert_eq!(
        statusline(&cli, &[], b""),
        (0, String::new(), String::new()),
        "expired: nothing"
    );
    let mut offline = cli.cmd();
    offline
        .env("RUNCODE_API_BASE", "http://example.com")
        .env_remove("RUNCODE_TOKEN")
        .arg("statusline");
    assert!(
        offline.output().unwrap().status.success(),
        "no network, no token needed"
    );
}

/// `program --json ARGS` with Claude Code's settings in `claude`: its exit
/// status and JSON answer.
fn json_with_claude(cli: &Cli, program: &Path, claude: &Path, args: &[&str]) -> (i32, Value) {
    let out = cli
        .cmd_of(program)
        .env("CLAUDE_CONFIG_DIR", claude)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    let value = serde_json::from_slice::<Value>(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {out:?}"));
    (out.status.code().unwrap(), value)
}

/// The same, for a command that must succeed: its answer.
fn ok_with_claude(cli: &Cli, program: &Path, claude: &Path, args: &[&str]) -> Value {
    let (code, value) = json_with_claude(cli, program, claude, args);
    assert_eq!(code, 0, "{args:?}: {value}");
    value
}

#[test]
fn install_statusline_keeps_every_other_setting() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let claude = cli.tmp.path().join("claude-config");
    std::fs::create_dir_all(&claude).unwrap();
    let settings = claude.join("settings.json");
    let original =
        "{\n  \"model\": \"opus\",\n  \"permissions\": {\"allow\": [\"Bash(ls:*)\"]}\n}\n";
    std::fs::write(&settings, original).unwrap();
    let cli_exe = crate::util::built("runcode");
    let run = |args: &[&str]| json_with_claude(&cli, &cli_exe, &claude, args);
    assert_eq!(run(&["install-statusline"]).0, 0);
    let now: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(now["model"], "opus");
    assert_eq!(now["permissions"]["allow"][0], "Bash(ls:*)");
    assert!(
        now["statusLine"]["command"]
            .as_str()
            .unwrap()
            .ends_with("runcode statusline")
    );
    assert_eq!(
        (
            now["statusLine"]["type"].as_str(),
            now["statusLine"]["padding"].as_i64()
        ),
        (Some("command"), Some(0))
    );
    assert_eq!(
        std::fs::read_to_string(claude.join("settings.json.bak")).unwrap(),
        original
    );
    assert_eq!(
        run(&["install-statusline"]).1["changed"],
        false,
        "idempotent"
    );
    let (code, doctor) = run(&["doctor"]);
    assert_eq!(code, 0);
    assert!(
        doctor["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "statusline" && c["status"] == "ok")
    );
    assert_eq!(run(&["install-statusline", "--remove"]).0, 0);
    let removed: Value =
        serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    assert_eq!(removed, serde_json::from_str::<Value>(original).unwrap());

    let foreign = r#"{"statusLine": {"type": "command", "command": "my-own-line"}, "x": 1}"#;
    std::fs::write(&settings, foreign).unwrap();
    let (code, v) = run(&["install-statusline"]);
    assert_eq!((code, v["error"].as_str()), (2, Some("conflict")));
    assert_eq!(run(&["install-statusline", "--remove"]).1["changed"], false);
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        foreign,
        "a foreign line is left alone"
    );
    assert_eq!(run(&["install-statusline", "--force"]).0, 0);

    let broken = "{\"model\": \"opus\",";
    std::fs::write(&settings, broken).unwrap();
    let (code, v) = run(&["install-statusline"]);
    assert_eq!((code, v["error"].as_str()), (1, Some("left_untouched")));
    assert_eq!(
        std::fs::read_to_string(&settings).unwrap(),
        broken,
        "never overwritten"
    );
}

#[test]
fn install_path_links_runcode_and_refuses_foreign_files() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let link = cli.home.join(".local/bin/runcode");
    let v = cli.ok(&["install-path"]);
    assert_eq!(v["on_path"], false);
    assert_eq!(
        std::fs::canonicalize(&link).unwrap(),
        std::fs::canonicalize(crate::util::built("runcode")).unwrap()
    );
    let out = Command::new(&link).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("runcode "));
    assert!(
        String::from_utf8_lossy(&cli.run(&["install-path"]).stdout).contains("not on your PATH")
    );
    cli.ok(&["install-path", "--remove"]);
    assert!(std::fs::symlink_metadata(&link).is_err());
    std::fs::write(&link, "#!/bin/sh\necho mine\n").unwrap();
    cli.fails(&["install-path"], "conflict", 2);
    cli.fails(&["install-path", "--remove"], "conflict", 2);
    assert_eq!(
        std::fs::read_to_string(&link).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

#[test]
fn open_create_delete_and_completions() {
    let dp = Devplane::start(&["--boot-delay", "0"]);
    let cli = Cli::new(&dp);
    let v = cli.ok(&["open", "1001", "--print"]);
    assert_eq!(v["url"], dp.workspace(1001)["web_url"]);
    assert_eq!(
        String::from_utf8_lossy(&cli.run(&["open", "1001", "--print"]).stdout).trim(),
        v["url"].as_str().unwrap()
    );
    cli.fails(&["open"], "not_attached", 1);

    let created = cli.ok(&["create", "--name", "Fresh box"]);
    let id = created["workspace"]["id"].as_u64().unwrap();
    assert_eq!(created["workspace"]["custom_title"], "Fresh box");
    dp.wait_state(id, "running");
    cli.ok(&["connect", "Fresh box"]);
    let unconfirmed = cli.run(&["delete", &id.to_string()]);
    assert_eq!(
        unconfirmed.status.code(),
        Some(2),
        "no terminal to ask on: refused without --yes"
    );
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    let deleted = cli.ok(&["delete", &id.to_string(), "--yes"]);
    assert_eq!(
        (deleted["deleted"].as_bool(), deleted["detached"].as_bool()),
        (Some(true), Some(true))
    );
    cli.fails(&["current"], "not_attached", 1);
    cli.fails(&["delete", "1003", "--yes"], "forbidden", 2);

    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = cli.run(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
    }
    let bash = cli.tmp.path().join("runcode.bash");
    std::fs::write(&bash, cli.run(&["completions", "bash"]).stdout).unwrap();
    assert!(
        Command::new("bash")
            .arg("-n")
            .arg(&bash)
            .status()
            .unwrap()
            .success(),
        "bash -n accepts it"
    );
}

#[test]
fn a_homebrew_cli_wires_the_link_brew_upgrade_moves_not_its_keg() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    // `brew install`: the versioned keg, and `<prefix>/bin/runcode` on PATH.
    let prefix = cli.tmp.path().join("homebrew");
    let keg = prefix.join("Cellar/runcode/9.9.9/bin");
    std::fs::create_dir_all(&keg).unwrap();
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::copy(crate::util::built("runcode"), keg.join("runcode")).unwrap();
    let link = prefix.join("bin/runcode");
    std::os::unix::fs::symlink(keg.join("runcode"), &link).unwrap();
    let claude = cli.home.join(".claude");
    let brew = |args: &[&str]| ok_with_claude(&cli, &link, &claude, args);
    let stable = link.display().to_string();

    brew(&["install-statusline"]);
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(claude.join("settings.json")).unwrap())
            .unwrap();
    let command = settings["statusLine"]["command"].as_str().unwrap();
    assert!(command.contains(&stable), "{command}");
    assert!(!command.contains("Cellar"), "{command}");

    let dry = brew(&["config-ssh", "--dry-run"]);
    let diff = dry["diff"].as_str().unwrap();
    assert!(
        diff.contains(&format!("ProxyCommand '{stable}' ")),
        "{diff}"
    );
    assert!(!diff.contains("Cellar"), "{diff}");

    brew(&["install-path"]);
    assert_eq!(
        std::fs::read_link(cli.home.join(".local/bin/runcode")).unwrap(),
        link
    );
}

#[test]
fn uninstall_puts_back_the_users_own_files_byte_for_byte() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let claude = cli.home.join(".claude");
    let ssh_dir = cli.home.join(".ssh");
    std::fs::create_dir_all(&claude).unwrap();
    std::fs::create_dir_all(&ssh_dir).unwrap();
    // The user's own files, in their own formatting.
    let settings = claude.join("settings.json");
    let own_settings =
        "{\"statusLine\":{\"type\":\"command\",\"command\":\"my-own-line\"},\"model\":\"opus\"}";
    std::fs::write(&settings, own_settings).unwrap();
    let config = ssh_dir.join("config");
    let own_config = "# mine\nHost box\n    HostName 127.0.0.1\n\tUser me\n";
    std::fs::write(&config, own_config).unwrap();
    let cli_exe = crate::util::built("runcode");
    let run = |args: &[&str]| ok_with_claude(&cli, &cli_exe, &claude, args);
    let what = |v: &Value| -> Vec<String> {
        v["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["what"].as_str().unwrap().to_owned())
            .collect()
    };
    run(&["connect", "1001"]);
    run(&["install-statusline", "--force"]);
    run(&["config-ssh"]);
    run(&["install-path"]);
    assert!(claude.join("settings.json.bak").is_file());
    assert!(ssh_dir.join("config.bak").is_file());

    let dry = run(&["uninstall", "--dry-run"]);
    let expected = ["statusline", "ssh_config", "backup", "path_link"];
    assert_eq!(what(&dry), expected, "{dry}");
    assert_ne!(std::fs::read_to_string(&settings).unwrap(), own_settings);

    let done = run(&["uninstall"]);
    assert_eq!(done["removed"], dry["removed"], "what the dry run said");
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), own_settings);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), own_config);
    for gone in [
        claude.join("settings.json.bak"),
        ssh_dir.join("config.bak"),
        cli.home.join(".local/bin/runcode"),
    ] {
        assert!(
            std::fs::symlink_metadata(&gone).is_err(),
            "{gone:?} is left"
        );
    }
    // Without --all the session, the cache and the token stay.
    assert!(cli.session_dir(1001).is_dir());

    // A foreign program at the link's place is never runcode's to remove.
    std::fs::write(
        cli.home.join(".local/bin/runcode"),
        "#!/bin/sh\necho mine\n",
    )
    .unwrap();
    let again = run(&["uninstall", "--all"]);
    assert_eq!(what(&again), ["cache"], "{again}");
    assert_eq!(
        std::fs::read_to_string(cli.home.join(".local/bin/runcode")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(!cli.cache().exists());
    assert_eq!(what(&run(&["uninstall", "--all"])), Vec::<String>::new());
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), own_settings);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), own_config);
    let running = runcode_e2e::procs::mentioning(&[cli.home.to_str().unwrap()]);
    assert!(running.is_empty(), "still running: {running:?}");
}

/// `open --editor` for each editor: the exact command or URL (`--print`),
/// the arguments a stand-in on PATH receives (the editors themselves
/// cannot be installed on these machines), a clear error with the printed
/// form when the editor is missing, and a host that resolves with the real
/// `ssh -G` and reaches the workspace with the real `ssh`.
#[test]
fn open_in_an_editor_starts_each_one_as_its_docs_give() {
    let (dp, cli, title, config) = setup();
    let host = format!("runcode.{title}");
    let connected = cli.ok(&["connect", "1001"]);
    let workdir = connected["workdir"].as_str().unwrap().to_owned();
    let user = connected["user"].as_str().unwrap().to_owned();
    let stand_ins = cli.tmp.path().join("stand-ins");
    std::fs::create_dir_all(&stand_ins).unwrap();
    let record = cli.tmp.path().join("record");
    for name in ["code", "cursor", "windsurf", "zed", "xdg-open"] {
        let script = stand_ins.join(name);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n{{ echo {name}; for a in \"$@\"; do echo \"$a\"; done; }} > '{}.tmp' && mv '{0}.tmp' '{0}'\n",
                record.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let gateway = format!(
        "jetbrains-gateway://connect#type=ssh&deploy=false&host={host}&port=22&user={user}&projectPath={}",
        workdir.replace('/', "%2F")
    );
    let cases: [(&str, Vec<String>); 5] = [
        (
            "vscode",
            vec![
                "code".into(),
                "--remote".into(),
                format!("ssh-remote+{host}"),
                workdir.clone(),
            ],
        ),
        (
            "cursor",
            vec![
                "cursor".into(),
                "--remote".into(),
                format!("ssh-remote+{host}"),
                workdir.clone(),
            ],
        ),
        (
            "windsurf",
            vec![
                "windsurf".into(),
                "--remote".into(),
                format!("ssh-remote+{host}"),
                workdir.clone(),
            ],
        ),
        ("zed", vec!["zed".into(), format!("ssh://{host}{workdir}")]),
        ("gateway", vec!["xdg-open".into(), gateway.clone()]),
    ];
    for (i, (editor, want)) in cases.iter().enumerate() {
        let printed = cli.ok(&["open", "1001", "--editor", editor, "--print"]);
        assert_eq!(printed["opened"], false);
        assert_eq!(printed["host"], host.as_str());
        if *editor == "gateway" {
            assert_eq!(printed["url"], gateway.as_str(), "{printed}");
        } else {
            assert_eq!(printed["command"], serde_json::json!(want), "{printed}");
        }
        if i == 0 {
            // The first one wrote the host, and said so.
            assert_eq!(printed["ssh_config_written"], true, "{printed}");
        } else {
            assert_eq!(printed["ssh_config_written"], false);
        }

        let _ = std::fs::remove_file(&record);
        let out = cli
            .cmd()
            .env("PATH", format!("{}:/usr/bin:/bin", stand_ins.display()))
            .args(["--json", "open", "1001", "--editor", editor])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{editor}: {}",
            crate::util::both(&out)
        );
        let got = crate::util::wait_for("the stand-in's record", Duration::from_secs(10), || {
            std::fs::read_to_string(&record).ok()
        });
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(
            got,
            want.iter().map(String::as_str).collect::<Vec<_>>(),
            "{editor}"
        );

        // Not installed: a clear error that gives the --print form.
        let out = cli
            .cmd()
            .env("PATH", "/nonexistent")
            .args(["--json", "open", "1001", "--editor", editor])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{editor}");
        let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(failure["error"], "program_missing", "{failure}");
        let message = failure["message"].as_str().unwrap();
        assert!(
            message.contains("not on PATH") && message.contains(&host),
            "{message}"
        );
    }

    // A stopped workspace: refused without --start, started with it.
    dp.get("/api/rc/workspace/stop?workspace_id=1002");
    dp.wait_state(1002, "stopped");
    cli.fails(
        &["open", "1002", "--editor", "zed", "--print"],
        "conflict",
        2,
    );
    let started = cli.ok(&["open", "1002", "--editor", "zed", "--print", "--start"]);
    assert_eq!(started["started"], true, "{started}");
    assert_eq!(dp.state(1002), "running");

    // The host it names: the real ssh resolves it and reaches the workspace.
    let g = crate::util::cli::ssh_g(&config, &host);
    assert_eq!(g["hostname"], "ws-1001.runcode.invalid", "{g:?}");
    let out = ssh(&cli, &config, &host, "cd \"$1\" 2>/dev/null; echo reached");
    assert!(out.status.success(), "{}", crate::util::both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "reached\n");
    drop(dp);
}
