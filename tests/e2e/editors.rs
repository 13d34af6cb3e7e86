//! Local editors and the workspace's lifecycle from the desktop: `open`
//! (the browser, and `--editor` for each editor as its docs start it),
//! `create`, `delete`, and shell completions.

use std::process::Command;
use std::time::Duration;

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use serde_json::Value;

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

/// `open --editor` for each editor: the exact command or URL (`--print`),
/// the arguments a stand-in on PATH receives (the editors themselves
/// cannot be installed on these machines), a clear error with the printed
/// form when the editor is missing, and a host that resolves with the real
/// `ssh -G` and reaches the workspace with the real `ssh`.
#[test]
fn open_in_an_editor_starts_each_one_as_its_docs_give() {
    let (dp, cli, title, config) = crate::ssh_config::setup();
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
    let ssh_config_before = std::fs::read_to_string(&config).ok();
    for (i, (editor, want)) in cases.iter().enumerate() {
        let printed = cli.ok(&["open", "1001", "--editor", editor, "--print"]);
        assert_eq!(printed["opened"], false);
        assert_eq!(printed["host"], host.as_str());
        if *editor == "gateway" {
            assert_eq!(printed["url"], gateway.as_str(), "{printed}");
        } else {
            assert_eq!(printed["command"], serde_json::json!(want), "{printed}");
        }
        // --print changes nothing on disk, ~/.ssh/config included.
        assert_eq!(printed["ssh_config_written"], false, "{printed}");
        if i == 0 {
            assert_eq!(
                std::fs::read_to_string(&config).ok(),
                ssh_config_before,
                "--print wrote nothing"
            );
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
        // The first real open wrote the host, and said so.
        let opened: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(opened["ssh_config_written"], i == 0, "{opened}");
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
    let out = crate::ssh_config::ssh(&cli, &config, &host, "cd \"$1\" 2>/dev/null; echo reached");
    assert!(out.status.success(), "{}", crate::util::both(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "reached\n");
    drop(dp);
}
