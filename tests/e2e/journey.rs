//! The upgrade journey (R13), end to end with the real Claude Code: a v1
//! bundle installed from its marketplace wires the status line, the ssh
//! config and the PATH link; the plugin is updated to v2 with the client's
//! own commands, v1's CLI is cleaned up and its plugin folder removed, and
//! everything keeps working on v2 through the launcher's stable entry
//! point. `doctor` then names each piece broken by hand, its fix repairs it,
//! and `uninstall --all` leaves every file as it was before runcode touched
//! it, with nothing running.
//!
//! Both releases hold the same real CLI (dist's static linux build) under
//! two tags: which one runs is told by the launcher's cache, not by
//! `--version`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::both;
use crate::util::devplane::Devplane;
use runcode_e2e::release::{self, Platform};
use runcode_e2e::serve::Server;
use serde_json::Value;

const V1: &str = "v1.0.0-journey";
const V2: &str = "v2.0.0-journey";

struct Journey {
    tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    market: PathBuf,
    claude: PathBuf,
    dp: Devplane,
    server: Server,
}

impl Journey {
    fn claude(&self, args: &[&str]) -> String {
        let node_bin = self.claude.parent().unwrap().display().to_string();
        let out = Command::new(&self.claude)
            .args(args)
            .env_clear()
            .env("PATH", format!("{node_bin}:/usr/local/bin:/usr/bin:/bin"))
            .env("HOME", &self.home)
            .env("DISABLE_AUTOUPDATER", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = both(&out);
        assert!(out.status.success(), "claude {args:?}: {text}");
        text
    }

    /// A command as the user's tools run it: scratch HOME, a plain PATH, the
    /// devplane, and the release of `version` on loopback.
    fn cmd(&self, program: &Path, version: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("RUNCODE_API_BASE", &self.dp.api)
            .env("RUNCODE_WEB_BASE", &self.dp.api)
            .env("RUNCODE_POLL_MS", "200")
            .env(
                "RUNCODE_DOWNLOAD_BASE",
                self.server.url(&format!("/{version}")),
            )
            .current_dir(&self.project)
            .stdin(Stdio::null());
        cmd
    }

    fn json(&self, program: &Path, version: &str, args: &[&str]) -> Value {
        let out = self
            .cmd(program, version)
            .args(args)
            .arg("--json")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", both(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", both(&out)))
    }

    /// The market directory holding the bundle pinned to `version`, with
    /// the manifests at `manifest` (Claude Code updates on a new version).
    fn publish_bundle(&self, version: &str, manifest: &str) {
        let _ = std::fs::remove_dir_all(&self.market);
        copy_tree(&crate::util::dist().join("plugin"), &self.market);
        for file in [
            ".claude-plugin/plugin.json",
            ".claude-plugin/marketplace.json",
            ".codex-plugin/plugin.json",
        ] {
            let path = self.market.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            let pinned =
                std::fs::read_to_string(crate::util::repo().join("RUNCODE_VERSION")).unwrap();
            let plain = pinned.trim().trim_start_matches('v');
            std::fs::write(
                &path,
                text.replace(
                    &format!("\"version\": \"{plain}\""),
                    &format!("\"version\": \"{manifest}\""),
                ),
            )
            .unwrap();
        }
        std::fs::write(
            self.market.join("bin/RUNCODE_VERSION"),
            format!("{version}\n"),
        )
        .unwrap();
        std::fs::copy(
            self.tmp
                .path()
                .join("releases")
                .join(version)
                .join("checksums.txt"),
            self.market.join("bin/RUNCODE_CHECKSUMS"),
        )
        .unwrap();
    }

    /// The installed copy of the bundle pinned to `version` in Claude
    /// Code's plugin cache.
    fn installed(&self, version: &str) -> Option<PathBuf> {
        find_all(&self.home.join(".claude/plugins"), "bin/RUNCODE_VERSION")
            .into_iter()
            .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.trim() == version))
            .map(|p| p.with_file_name("runcode"))
    }

    fn cache_bin(&self) -> PathBuf {
        self.home.join(".cache/runcode/bin")
    }

    fn settings(&self) -> PathBuf {
        self.home.join(".claude/settings.json")
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn find_all(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.ends_with(suffix) && path.is_file() {
            found.push(path.clone());
        }
        if path.is_dir() && !entry.file_type().is_ok_and(|t| t.is_symlink()) {
            found.extend(find_all(&path, suffix));
        }
    }
    found
}

/// Runs the status line command from settings.json as Claude Code does: a
/// shell, Claude Code's JSON on stdin, the project as working directory.
fn status_line(j: &Journey) -> Output {
    let settings: Value = serde_json::from_slice(&std::fs::read(j.settings()).unwrap()).unwrap();
    let command = settings["statusLine"]["command"]
        .as_str()
        .unwrap_or_else(|| panic!("a status line in {settings}"))
        .to_owned();
    let mut child = j
        .cmd(Path::new("/bin/sh"), V2)
        .env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .arg("-c")
        .arg(&command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let input = serde_json::json!({
            "model": {"display_name": "Opus"},
            "workspace": {"current_dir": j.project, "project_dir": j.project},
            "cwd": j.project,
        });
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes());
    }
    child.wait_with_output().unwrap()
}

/// Step 2 and 5: the status line shows the cue, `ssh runcode.<title>`
/// works, and the PATH link runs the CLI.
fn everything_works(j: &Journey, host: &str) {
    let out = status_line(j);
    assert!(out.status.success(), "{}", both(&out));
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        !line.trim().is_empty(),
        "the status line shows the cue: {}",
        both(&out)
    );

    let ssh_config = j.home.join(".ssh/config");
    let out = j
        .cmd(Path::new("/usr/bin/ssh"), V2)
        .arg("-F")
        .arg(&ssh_config)
        .args([host, "echo", "through-the-block"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh {host}: {}", both(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "through-the-block"
    );

    let out = j
        .cmd(&j.home.join(".local/bin/runcode"), V2)
        .env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success(), "the PATH link: {}", both(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("runcode "));
}

fn doctor_check(j: &Journey, program: &Path, name: &str) -> Value {
    let out = j
        .cmd(program, V2)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let doctor: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}: {}", both(&out)));
    doctor["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("a {name} check in {doctor}"))
}

#[test]
fn an_update_and_its_cleanup_never_break_what_runcode_wired_and_uninstall_restores_every_byte() {
    let tmp = crate::util::world::scratch("plugin");
    let home = tmp.path().join("home");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&project).unwrap();
    let host = Platform::host().expect("a release platform");
    let asset = std::fs::read(crate::util::dist().join("release").join(host.asset())).unwrap();
    for version in [V1, V2] {
        release::Tree::new(&tmp.path().join("releases").join(version))
            .asset(&host.asset(), asset.clone())
            .write();
    }
    let server = Server::start(&tmp.path().join("releases"));
    let dp = Devplane::start(&[]);
    let j = Journey {
        market: tmp.path().join("market"),
        claude: crate::util::npm_client("claude"),
        tmp,
        home,
        project,
        dp,
        server,
    };

    // Step 1: the v1 bundle from its marketplace, then runcode's wiring.
    j.publish_bundle(V1, "1.0.0");
    j.claude(&["plugin", "marketplace", "add", j.market.to_str().unwrap()]);
    j.claude(&["plugin", "install", "runcode@runcode"]);
    let v1 = j.installed(V1).expect("the installed v1 copy");
    let settings_before = std::fs::read(j.settings()).ok();
    let out = j
        .cmd(&v1, V1)
        .args(["login", "--paste", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{}\n", j.dp.token).as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "login: {}", both(&out));
    j.json(&v1, V1, &["connect", "1001"]);
    let mints = j.dp.mints();
    j.json(&v1, V1, &["install-statusline"]);
    let wired = j.json(&v1, V1, &["config-ssh"]);
    let host_alias = wired["hosts"][0]
        .as_str()
        .unwrap_or_else(|| panic!("a managed host in {wired}"))
        .to_owned();
    j.json(&v1, V1, &["install-path"]);
    let entry = j.cache_bin().join("runcode");
    assert!(entry.is_file(), "the stable entry point");
    for wire in [
        std::fs::read_to_string(j.settings()).unwrap(),
        std::fs::read_to_string(j.home.join(".ssh/config")).unwrap(),
        std::fs::read_link(j.home.join(".local/bin/runcode"))
            .unwrap()
            .display()
            .to_string(),
    ] {
        assert!(
            wire.contains(&entry.display().to_string()) && !wire.contains(V1),
            "wired to the entry point, never a versioned file: {wire}"
        );
    }

    // Step 2.
    everything_works(&j, &host_alias);

    // Step 3: the update, with the client's own commands; v1 ages past the
    // cleanup window; one run of v2 moves the entry point and cleans up.
    j.publish_bundle(V2, "2.0.0");
    j.claude(&["plugin", "marketplace", "update", "runcode"]);
    j.claude(&["plugin", "update", "runcode@runcode"]);
    let v2 = j.installed(V2).expect("the installed v2 copy");
    let v1_cli = j.cache_bin().join(host.cached_name(V1));
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(40 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&v1_cli)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = j.cmd(&v2, V2).arg("--version").output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        j.cache_bin().join(host.cached_name(V2)).is_file(),
        "v2 downloaded"
    );
    assert!(!v1_cli.exists(), "v1 cleaned up");
    let record = std::fs::read_to_string(j.home.join(".cache/runcode/entry")).unwrap();
    assert_eq!(record.lines().next(), Some(V2));

    // Step 4: v1's plugin folder goes, if the client left it.
    if let Some(v1_dir) = j.installed(V1) {
        std::fs::remove_dir_all(v1_dir.parent().unwrap().parent().unwrap()).unwrap();
    }

    // Step 5: everything works, on v2, and the v1 session was reused.
    everything_works(&j, &host_alias);
    let out = j
        .cmd(&entry, V2)
        .env("RUNCODE_LAUNCHER_DEBUG", "1")
        .arg("--version")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&host.cached_name(V2)),
        "the entry point runs v2: {}",
        both(&out)
    );
    assert_eq!(
        j.dp.mints(),
        mints,
        "the session was reused, not minted again"
    );

    // Step 6: doctor sees the wiring; each piece broken by hand is named,
    // and its fix repairs it.
    for name in ["statusline", "ssh_config", "path_link"] {
        assert_eq!(doctor_check(&j, &v2, name)["status"], "ok", "{name}");
    }
    let gone = j.cache_bin().join(host.cached_name("v0.0.1"));
    let settings = std::fs::read_to_string(j.settings()).unwrap();
    std::fs::write(
        j.settings(),
        settings.replace(&entry.display().to_string(), &gone.display().to_string()),
    )
    .unwrap();
    let config = std::fs::read_to_string(j.home.join(".ssh/config")).unwrap();
    std::fs::write(
        j.home.join(".ssh/config"),
        config.replace(&entry.display().to_string(), &gone.display().to_string()),
    )
    .unwrap();
    let link = j.home.join(".local/bin/runcode");
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&gone, &link).unwrap();
    for (name, fix) in [
        ("statusline", "install-statusline"),
        ("ssh_config", "config-ssh"),
        ("path_link", "install-path"),
    ] {
        let check = doctor_check(&j, &v2, name);
        assert_eq!(check["status"], "fail", "{check}");
        assert_eq!(check["fix"], format!("runcode {fix}"), "{check}");
        j.json(&v2, V2, &[fix]);
        assert_eq!(
            doctor_check(&j, &v2, name)["status"],
            "ok",
            "{name} repaired"
        );
    }
    everything_works(&j, &host_alias);

    // Step 7: uninstall. Every file runcode touched is as it was before.
    let dry = j.json(&v2, V2, &["uninstall", "--all", "--dry-run"]);
    let what: Vec<&str> = dry["removed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["what"].as_str())
        .collect();
    assert_eq!(
        what,
        [
            "statusline",
            "backup",
            "ssh_config",
            "backup",
            "path_link",
            "cache",
            "config"
        ],
        "{dry}"
    );
    assert!(
        j.home.join(".ssh/config").is_file(),
        "a dry run removes nothing"
    );
    let done = j.json(&v2, V2, &["uninstall", "--all"]);
    assert_eq!(
        done["removed"], dry["removed"],
        "it did what the dry run said"
    );
    assert_eq!(
        std::fs::read(j.settings()).ok(),
        settings_before,
        "settings.json"
    );
    for leftover in [
        j.home.join(".claude/settings.json.bak"),
        j.home.join(".ssh/config"),
        j.home.join(".ssh/config.bak"),
        j.home.join(".local/bin/runcode"),
        j.home.join(".cache/runcode"),
        j.home.join(".config/runcode"),
    ] {
        assert!(
            std::fs::symlink_metadata(&leftover).is_err(),
            "{} is left: {:?}",
            leftover.display(),
            std::fs::read_to_string(&leftover)
        );
    }
    let running = runcode_e2e::procs::mentioning(&[j.home.to_str().unwrap()]);
    assert!(running.is_empty(), "still running: {running:?}");
}
