//! The status line in Claude Code's real interface: interactive `claude`
//! in a tmux pane, its model answered by the scripted model server, the
//! bundle installed from its marketplace, the devplane on loopback. The
//! user types slash commands; the test reads the screen (`capture-pane`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::agents::Claude;
use crate::util::both;
use runcode_e2e::model::{self, Model};
use serde_json::{Value, json};

/// A private tmux server (its own socket) holding interactive `claude`
/// sessions; killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(dir: &Path) -> Tmux {
        Tmux {
            socket: dir.join("tmux.sock"),
        }
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).arg("-f").arg("/dev/null");
        cmd
    }

    /// Starts `claude` (the environment of `base`, which runs it) in a new
    /// session named `name`, with `dir` as its working directory.
    fn start(&self, name: &str, base: &Command, dir: &Path) {
        let mut cmd = self.tmux();
        cmd.env_clear();
        for (k, v) in base.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        cmd.env("TERM", "xterm-256color").env("LANG", "C.UTF-8");
        cmd.args([
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "160",
            "-y",
            "45",
            "-c",
        ])
        .arg(dir);
        // The server keeps the start-up environment; the session's command
        // gets it too.
        for (k, v) in base.get_envs() {
            if let Some(v) = v {
                cmd.arg("-e")
                    .arg(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
            }
        }
        cmd.arg(base.get_program());
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "tmux new-session: {}", both(&out));
    }

    fn screen(&self, name: &str) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn type_line(&self, name: &str, line: &str) {
        for keys in [vec!["-l", line], vec!["Enter"]] {
            let out = self
                .tmux()
                .args(["send-keys", "-t", name])
                .args(&keys)
                .output()
                .unwrap();
            assert!(out.status.success(), "tmux send-keys: {}", both(&out));
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Waits (bounded) until the screen satisfies `check`.
    #[track_caller]
    fn wait(&self, name: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        let seen = crate::util::poll(Duration::from_secs(60), || {
            last = self.screen(name);
            check(&last).then(|| last.clone())
        });
        seen.unwrap_or_else(|| panic!("gave up waiting for {what}; the screen:\n{last}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").output();
    }
}

/// Answers Claude Code's first-run questions for `dirs` in the scratch
/// HOME's `~/.claude.json`: the theme and onboarding, the API key in the
/// environment (approved by its last 20 characters), and trust per folder.
fn seed_first_run(home: &Path, key: &str, dirs: &[&Path]) {
    let file = home.join(".claude.json");
    let mut config: Value = std::fs::read(&file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}));
    config["theme"] = json!("dark");
    config["hasCompletedOnboarding"] = json!(true);
    let tail: String = key
        .chars()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    config["customApiKeyResponses"] = json!({"approved": [tail], "rejected": []});
    for dir in dirs {
        config["projects"][dir.to_str().unwrap()] = json!({
            "hasTrustDialogAccepted": true,
            "hasCompletedProjectOnboarding": true,
            "projectOnboardingSeenCount": 1,
        });
    }
    std::fs::write(&file, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

/// The CLI in the copy of the bundle Claude Code installed.
fn installed_cli(home: &Path) -> PathBuf {
    fn find(dir: &Path) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.ends_with("bin/RUNCODE_VERSION") {
                return Some(path.with_file_name("runcode"));
            }
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && let Some(found) = find(&path)
            {
                return Some(found);
            }
        }
        None
    }
    find(&home.join(".claude/plugins/cache")).expect("the installed bundle")
}

/// The installed CLI with the client's environment, started in `dir`.
fn cli_in(c: &Claude, dir: &Path) -> Command {
    let mut cmd = Command::new(installed_cli(&c.home));
    cmd.env_clear()
        .envs(
            c.cmd(None)
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .current_dir(dir);
    cmd
}

/// What the status line says for `dir`, as plain text
/// (`working-on:<name> ~<n>m`): Claude Code's JSON on stdin.
fn plain_cue(c: &Claude, dir: &Path) -> String {
    use std::io::Write as _;
    let mut child = cli_in(c, dir)
        .args(["statusline", "--plain"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!({"workspace": {"current_dir": dir, "project_dir": dir}, "cwd": dir});
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes());
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The cue as the status bar shows it (colours aside): `runcode <name> ·`.
fn screen_cue(c: &Claude, dir: &Path) -> String {
    let plain = plain_cue(c, dir);
    let name = plain
        .strip_prefix("working-on:")
        .and_then(|rest| rest.rsplit_once(" ~"))
        .map(|(name, _)| name.to_owned())
        .unwrap_or_else(|| panic!("an attached workspace's plain cue: {plain:?}"));
    format!("runcode {name} ·")
}

/// The user installs the status line and connects with the slash commands;
/// the status bar names the workspace; `/runcode:disconnect` takes the cue
/// away. A workspace attached from one project never shows in another
/// project's Claude Code, until it is attached from there.
#[test]
fn the_status_line_shows_the_attached_workspace_in_the_real_interface() {
    let c = Claude::new();
    let second = c.tmp.path().join("second-project");
    std::fs::create_dir_all(&second).unwrap();
    let m = Model::start(vec![
        model::shell("runcode install-statusline --json"),
        model::shell("runcode statusline"),
        model::text("Installed."),
        model::shell("runcode list --json"),
        model::shell("runcode connect 1001 --start --wait --json"),
        model::shell("runcode context --json"),
        model::text("Attached."),
        model::shell("runcode disconnect --json"),
        model::text("Detached."),
        model::text("Answered in the second project."),
        model::shell("runcode list --json"),
        model::shell("runcode connect 1001 --start --wait --json"),
        model::shell("runcode context --json"),
        model::text("Attached here."),
    ]);
    seed_first_run(&c.home, "scripted", &[&c.project, &second]);
    let tmux = Tmux::new(c.tmp.path());
    tmux.start("one", &c.cmd(Some(&m)), &c.project);
    tmux.wait("one", "the prompt", |s| s.contains("for agents"));
    tmux.type_line("one", "/runcode:statusline");
    tmux.wait("one", "the status line installed", |s| {
        s.contains("Installed.")
    });
    tmux.type_line("one", "/runcode:connect 1001");
    tmux.wait("one", "the connect", |s| s.contains("Attached."));
    let cue = screen_cue(&c, &c.project);
    tmux.wait("one", "the workspace cue", |s| s.contains(&cue));

    tmux.type_line("one", "/runcode:disconnect");
    tmux.wait("one", "the disconnect", |s| s.contains("Detached."));
    tmux.wait("one", "the cue to go", |s| !s.contains(&cue));
    assert_eq!(plain_cue(&c, &c.project), "", "nothing attached");

    // Attached again from the first project (the user's own terminal); a
    // Claude Code in the second project answers a prompt and shows no cue.
    let out = cli_in(&c, &c.project)
        .args(["connect", "1001", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "connect: {}", both(&out));
    assert_eq!(
        screen_cue(&c, &c.project),
        cue,
        "attached to the first project"
    );
    tmux.start("two", &c.cmd(Some(&m)), &second);
    tmux.wait("two", "the prompt", |s| s.contains("for agents"));
    tmux.type_line("two", "hello");
    let screen = tmux.wait("two", "the answer", |s| {
        s.contains("Answered in the second project.")
    });
    assert!(!screen.contains(&cue), "no cue here:\n{screen}");
    assert_eq!(plain_cue(&c, &second), "", "scoped to the first project");

    // Attached from the second project, the same status bar shows it: the
    // scope hid it, not a status line that never ran.
    tmux.type_line("two", "/runcode:connect 1001");
    tmux.wait("two", "the connect", |s| s.contains("Attached here."));
    let cue = screen_cue(&c, &second);
    tmux.wait("two", "the workspace cue", |s| s.contains(&cue));
    assert_eq!(m.left(), 0);
}
