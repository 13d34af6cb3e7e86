//! What runcode wires into other programs and takes out again: the status
//! line and its installer, the PATH link (a Homebrew keg's too), and
//! `uninstall` giving back the user's own files byte for byte.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use serde_json::{Value, json};

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
    // The config folder holds runcode's record of the backups it wrote.
    assert_eq!(what(&again), ["cache", "config"], "{again}");
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

/// What the user owns stays theirs (the audit's findings): a symlinked
/// `~/.ssh/config`, settings.json or config.toml is written through and
/// stays a link; the user's own `config.bak` and `settings.json.bak` are
/// never overwritten, nor deleted by `uninstall`; a line the user added
/// inside runcode's Codex block survives `agent-setup` and `--remove`; a
/// line of theirs inside the ssh block makes `config-ssh` refuse.
#[test]
fn the_users_links_backups_and_lines_are_kept() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let dotfiles = cli.tmp.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    let claude = cli.home.join(".claude");
    let codex = cli.home.join(".codex");
    let ssh_dir = cli.home.join(".ssh");
    for dir in [&claude, &codex, &ssh_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let files = [
        (
            ssh_dir.join("config"),
            "ssh_config",
            "Host mine\n  User me\n",
        ),
        (
            claude.join("settings.json"),
            "settings.json",
            "{\"model\": \"opus\"}\n",
        ),
        (
            codex.join("config.toml"),
            "config.toml",
            "model = \"x\"\n\n[plugins.\"runcode@runcode\"]\nenabled = true\n",
        ),
    ];
    for (link, name, text) in &files {
        std::fs::write(dotfiles.join(name), text).unwrap();
        std::os::unix::fs::symlink(dotfiles.join(name), link).unwrap();
    }
    // The user's own backups, under the names runcode also uses.
    std::fs::write(ssh_dir.join("config.bak"), "my own backup\n").unwrap();
    std::fs::write(claude.join("settings.json.bak"), "{\"mine\": true}\n").unwrap();
    let exe = crate::util::built("runcode");
    let run = |args: &[&str]| ok_with_claude(&cli, &exe, &claude, args);
    run(&["connect", "1001"]);
    run(&["config-ssh"]);
    run(&["install-statusline"]);
    run(&["agent-setup", "codex"]);
    for (link, name, _) in &files {
        assert!(
            std::fs::symlink_metadata(link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name} is still a link"
        );
        let target = std::fs::read_to_string(dotfiles.join(name)).unwrap();
        assert!(
            target.contains("runcode"),
            "{name} was written through: {target}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(ssh_dir.join("config.bak")).unwrap(),
        "my own backup\n"
    );
    assert_eq!(
        std::fs::read_to_string(claude.join("settings.json.bak")).unwrap(),
        "{\"mine\": true}\n"
    );
    // runcode's backups went to its own folder instead.
    let own = cli.home.join(".config/runcode/backups.d");
    assert_eq!(
        std::fs::read_to_string(own.join("ssh-config.bak")).unwrap(),
        "Host mine\n  User me\n"
    );

    // A line of the user's inside runcode's Codex block.
    let toml = dotfiles.join("config.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let edited = text.replace(
        "default_tools_approval_mode = \"approve\"\n",
        "default_tools_approval_mode = \"approve\"\ntool_timeout_sec = 900\n",
    );
    assert_ne!(edited, text);
    std::fs::write(&toml, &edited).unwrap();
    run(&["agent-setup", "codex"]);
    assert!(
        std::fs::read_to_string(&toml)
            .unwrap()
            .contains("tool_timeout_sec = 900\n")
    );
    run(&["agent-setup", "codex", "--remove"]);
    let removed = std::fs::read_to_string(&toml).unwrap();
    assert!(
        removed.contains("tool_timeout_sec = 900\n") && !removed.contains("approve"),
        "{removed}"
    );

    // A line of the user's inside the ssh block: refused, untouched.
    let ssh_text = std::fs::read_to_string(dotfiles.join("ssh_config")).unwrap();
    let with_mine = ssh_text.replace(
        "  ForwardX11 no\n",
        "  ForwardX11 no\n  LocalForward 5999 localhost:5999\n",
    );
    std::fs::write(dotfiles.join("ssh_config"), &with_mine).unwrap();
    for args in [&["config-ssh"][..], &["config-ssh", "--remove"][..]] {
        let (code, v) = json_with_claude(&cli, &exe, &claude, args);
        assert_eq!(
            (code, &v["error"]),
            (1, &json!("left_untouched")),
            "{args:?}: {v}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("ssh_config")).unwrap(),
        with_mine
    );

    // uninstall never deletes the user's backups.
    run(&["uninstall"]);
    assert_eq!(
        std::fs::read_to_string(ssh_dir.join("config.bak")).unwrap(),
        "my own backup\n"
    );
    assert_eq!(
        std::fs::read_to_string(claude.join("settings.json.bak")).unwrap(),
        "{\"mine\": true}\n"
    );
    assert_eq!(
        std::fs::read_to_string(dotfiles.join("ssh_config")).unwrap(),
        with_mine,
        "a block with the user's lines stays"
    );
}

/// Two runcode commands editing the same file at once never lose an edit
/// (the audit lost one of two in 20 of 20 runs): they take turns.
#[test]
fn concurrent_edits_of_settings_json_both_land() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    let claude = cli.tmp.path().join("claude");
    std::fs::create_dir_all(&claude).unwrap();
    let settings = claude.join("settings.json");
    let exe = crate::util::built("runcode");
    for round in 0..10 {
        std::fs::write(&settings, "{}\n").unwrap();
        let spawn = |args: &[&str]| {
            cli.cmd_of(&exe)
                .env("CLAUDE_CONFIG_DIR", &claude)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let mut a = spawn(&["agent-setup", "claude"]);
        let mut b = spawn(&["install-statusline"]);
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
        assert!(v["statusLine"]["command"].is_string(), "round {round}: {v}");
        assert!(
            v["permissions"]["allow"]
                .as_array()
                .is_some_and(|a| !a.is_empty()),
            "round {round}: {v}"
        );
    }
}
