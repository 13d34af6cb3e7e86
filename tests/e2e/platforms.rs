//! The builds for other platforms, run here (R14): the Windows amd64 bundle
//! and CLI under Wine, through the real `bin\runcode.cmd` started by
//! `cmd.exe` as Node and PowerShell start it; the linux arm64 launcher and
//! CLI under qemu-user. Both against the real archives `cargo xtask dist`
//! made, served from loopback. And what every bundled launcher must be:
//! static on Linux, and within P7.

use crate::util::world::scratch;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::both;
use runcode_e2e::release::Platform;
use runcode_e2e::serve::Server;
use runcode_e2e::wine::{self, Wine};
use serde_json::Value;

pub(crate) fn dist() -> PathBuf {
    let dist = crate::util::dist();
    assert!(
        dist.join("plugin/bin/launcher/runcode-launcher-windows-amd64.exe")
            .is_file()
            && dist
                .join("plugin/bin/launcher/runcode-launcher-linux-arm64")
                .is_file(),
        "dist/ lacks the Windows or arm64 builds: run `cargo xtask dist --all` (cargo xtask test does)"
    );
    dist
}

fn version() -> String {
    std::fs::read_to_string(crate::util::repo().join("RUNCODE_VERSION"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A Windows machine with the bundle's `runcode.cmd`.
pub(crate) struct Win {
    // Declared first so it drops first: its wineserver is found through the
    // prefix, which goes with the scratch directory.
    wine: Wine,
    shim: String,
    _tmp: tempfile::TempDir,
}

impl Win {
    pub(crate) fn new() -> Win {
        if let Err(why) = wine::available() {
            panic!("{why}");
        }
        let tmp = scratch("test");
        let wine = Wine::new(&crate::util::repo().join("target/wine"), tmp.path());
        let shim = wine::windows_path(&dist().join("plugin/bin/runcode.cmd"));
        Win {
            wine,
            shim,
            _tmp: tmp,
        }
    }

    /// `runcode.cmd REST` through cmd.exe, with the release at `base`.
    pub(crate) fn runcode(&self, rest: &str, base: &str) -> Command {
        let mut cmd = self.wine.cmd(&format!("\"{}\" {rest}", self.shim));
        cmd.env("RUNCODE_DOWNLOAD_BASE", base)
            .env_remove("HOME")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::null());
        cmd
    }

    /// `%USERPROFILE%` of this Windows machine, on the Linux side.
    pub(crate) fn user_profile(&self) -> PathBuf {
        self.wine.user_profile()
    }

    /// `%LOCALAPPDATA%` of this Windows machine, on the Linux side.
    pub(crate) fn local_app_data(&self) -> PathBuf {
        self.wine.local_app_data()
    }

    fn cache_bin(&self) -> PathBuf {
        self.local_app_data().join("runcode/bin")
    }

    fn cached(&self) -> Vec<String> {
        names(&self.cache_bin())
            .into_iter()
            .filter(|n| n.starts_with("runcode-"))
            .collect()
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run under wine")
}

fn windows() -> Platform {
    Platform::named("windows", "amd64").unwrap()
}

/// A base no server answers: a run that needs the network fails.
const OFFLINE: &str = "http://127.0.0.1:9";

#[test]
fn windows_first_run_downloads_verifies_caches_and_runs_the_windows_cli_then_runs_offline() {
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let out = run(&mut w.runcode("--version", &server.url("")));
    assert!(out.status.success(), "{}", both(&out));
    let plain = version().trim_start_matches('v').to_owned();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&plain),
        "{}",
        both(&out)
    );
    assert_eq!(server.hits(&format!("/{}", windows().asset())), 1);
    assert_eq!(w.cached(), vec![windows().cached_name(&version())]);
    drop(server);

    // Offline: the cached CLI runs, and its exit status passes through
    // (a usage error is 2).
    let again = run(&mut w.runcode("--version", OFFLINE));
    assert!(again.status.success(), "{}", both(&again));
    assert_eq!(again.stdout, out.stdout);
    let usage = run(&mut w.runcode("no-such-command", OFFLINE));
    assert_eq!(usage.status.code(), Some(2), "{}", both(&usage));
}

/// A copy of the release with `edit` applied.
fn altered_release(dir: &Path, edit: impl FnOnce(&Path)) -> PathBuf {
    let copy = dir.join("altered");
    std::fs::create_dir_all(&copy).unwrap();
    for name in names(&dist().join("release")) {
        std::fs::copy(dist().join("release").join(&name), copy.join(&name)).unwrap();
    }
    edit(&copy);
    copy
}

fn assert_launcher_failed(w: &Win, out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", both(out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("one JSON object on stdout: {e}\n{}", both(out)));
    assert_eq!(value["error"], "launcher_failed", "{value}");
    let message = value["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{needle:?} in {message:?}");
    assert!(w.cached().is_empty(), "nothing cached: {:?}", w.cached());
    let staging: Vec<String> = names(&w.cache_bin())
        .into_iter()
        .filter(|n| n != ".lock")
        .collect();
    assert!(staging.is_empty(), "no staging file left: {staging:?}");
}

#[test]
fn windows_refuses_a_tampered_archive_and_a_missing_checksum_line_caching_nothing() {
    let w = Win::new();
    let tmp = scratch("test");
    let asset = windows().asset();
    let tampered = altered_release(tmp.path(), |dir| {
        let path = dir.join(&asset);
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(&path, bytes).unwrap();
    });
    let server = Server::start(&tampered);
    let out = run(&mut w.runcode("--json --version", &server.url("")));
    assert_launcher_failed(&w, &out, "mismatch");
    drop(server);

    let tmp = scratch("test");
    let unlisted = altered_release(tmp.path(), |dir| {
        let sums = std::fs::read_to_string(dir.join("checksums.txt")).unwrap();
        let kept: String = sums
            .lines()
            .filter(|l| !l.ends_with(&asset))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(dir.join("checksums.txt"), kept).unwrap();
    });
    let server = Server::start(&unlisted);
    let out = run(&mut w.runcode("--json --version", &server.url("")));
    assert_launcher_failed(&w, &out, &asset);
}

/// What a user types after `runcode.cmd` in cmd.exe, and the arguments the
/// program must receive.
fn typed_arguments() -> (&'static str, Vec<&'static str>) {
    (
        r#"exec -- "two words" "" "say \"hi\"" "a^b" "x&y" "!bang!" "naïve ünïcödé ✓" plain"#,
        vec![
            "exec",
            "--",
            "two words",
            "",
            "say \"hi\"",
            "a^b",
            "x&y",
            "!bang!",
            "naïve ünïcödé ✓",
            "plain",
        ],
    )
}

#[test]
fn windows_runcode_bin_is_honoured_arguments_arrive_intact_and_the_exit_status_passes_through() {
    let w = Win::new();
    let (typed, expected) = typed_arguments();
    let out = run(w
        .runcode(typed, OFFLINE)
        .env("RUNCODE_BIN", wine::windows_path(&w.wine.args_exe()))
        .env("ARGS_EXIT", "7"));
    assert_eq!(out.status.code(), Some(7), "{}", both(&out));
    assert_eq!(wine::printed_args(&out), expected, "{}", both(&out));
    assert!(w.cached().is_empty(), "RUNCODE_BIN needs no download");

    // `%`: Windows' cmd.exe hands `100%` to a batch file as typed, but
    // Wine's cmd.exe expands `%*` a second time and drops it, so under Wine
    // the `.cmd` leg cannot show it (docs/launcher.md). The launcher's leg
    // can: started by cmd.exe as a program, it passes `%` on intact.
    let launcher = wine::windows_path(
        &dist()
            .join("plugin/bin/launcher")
            .join(windows().launcher()),
    );
    let out = run(w
        .wine
        .cmd(&format!(
            r#""{launcher}" 100% "50% off" "%NOT_A_VAR%" "a^b!""#
        ))
        .env("RUNCODE_BIN", wine::windows_path(&w.wine.args_exe()))
        .stdin(Stdio::null()));
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(
        wine::printed_args(&out),
        ["100%", "50% off", "%NOT_A_VAR%", "a^b!"],
        "{}",
        both(&out)
    );
}

#[test]
fn windows_four_first_runs_at_once_download_once() {
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let children: Vec<_> = (0..4)
        .map(|_| {
            w.runcode("--version", &server.url(""))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start under wine")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", both(&out));
    }
    assert_eq!(server.hits(&format!("/{}", windows().asset())), 1);
    assert_eq!(w.cached(), vec![windows().cached_name(&version())]);
}

#[test]
fn windows_cli_local_commands_work() {
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let base = server.url("");

    // doctor: there is no ssh.exe on this machine, and it says so; commands
    // go over runcode's own client, which it names.
    let out = run(&mut w.runcode("doctor --json", &base));
    let doctor: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", both(&out)));
    let ssh = doctor["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "ssh"))
        .unwrap_or_else(|| panic!("an ssh check: {doctor}"));
    assert_eq!(ssh["status"], "warn", "{doctor}");
    assert_eq!(ssh["code"], "ssh_missing", "{doctor}");
    let transport = doctor["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "transport"))
        .unwrap_or_else(|| panic!("a transport check: {doctor}"));
    assert!(
        transport["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("builtin"),
        "{doctor}"
    );
    assert!(
        ssh["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("ssh.exe"),
        "names the Windows program: {doctor}"
    );
    assert_ne!(out.status.code(), Some(2), "{}", both(&out));

    // statusline reads Claude Code's JSON on stdin; with nothing attached
    // (no ssh.exe here) its line is empty.
    let mut child = w
        .runcode("statusline --json", &base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(
                br#"{"model":{"display_name":"Opus"},"workspace":{"current_dir":"C:\\src"}}"#,
            )
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let line: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("statusline --json: {e}\n{}", both(&out)));
    assert_eq!(line, serde_json::json!({"line": null}));

    // install-statusline writes %USERPROFILE%\.claude\settings.json.
    let out = run(&mut w.runcode("install-statusline --json", &base));
    assert!(out.status.success(), "{}", both(&out));
    let settings = w.wine.user_profile().join(".claude/settings.json");
    let value: Value = serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    let command = value["statusLine"]["command"].as_str().unwrap_or_default();
    // The stable entry point, double-quoted: Claude Code runs it in Git Bash,
    // which would eat a bare path's backslashes.
    assert!(
        command.starts_with('"') && command.ends_with(r#"\runcode\bin\runcode.exe" statusline"#),
        "{value}"
    );

    // completions for PowerShell.
    let out = run(&mut w.runcode("completions powershell", &base));
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Register-ArgumentCompleter"),
        "{}",
        both(&out)
    );
}

#[test]
fn windows_config_ssh_dry_run_writes_windows_paths_openssh_reads() {
    let dp = crate::util::devplane::Devplane::start(&[]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let out = run(w
        .runcode("config-ssh --dry-run --json", &server.url(""))
        .env("RUNCODE_API_BASE", &dp.api)
        .env("RUNCODE_TOKEN", &dp.token));
    assert!(out.status.success(), "{}", both(&out));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diff = value["diff"].as_str().unwrap_or_default();
    let identity = diff
        .lines()
        .find_map(|l| {
            l.trim_start_matches(['+', ' '])
                .strip_prefix("IdentityFile ")
        })
        .unwrap_or_else(|| panic!("an IdentityFile line in {diff}"));
    let proxy = diff
        .lines()
        .find_map(|l| {
            l.trim_start_matches(['+', ' '])
                .strip_prefix("ProxyCommand ")
        })
        .unwrap_or_else(|| panic!("a ProxyCommand line in {diff}"));
    // OpenSSH for Windows reads `C:/...` or a quoted `"C:\..."`; an
    // unquoted backslash path is split or unescaped by its argument parser.
    for (what, value) in [("IdentityFile", identity), ("ProxyCommand", proxy)] {
        assert!(
            !value.contains('\\') || value.starts_with('"'),
            "{what} {value}: backslashes need quoting for OpenSSH"
        );
    }
    assert!(
        identity.contains(":/") || identity.contains(":\\"),
        "{identity}"
    );
    assert!(
        proxy.starts_with('"') && !proxy.contains(r"\\?\"),
        "the ProxyCommand names the CLI by a plain quoted path: {proxy}"
    );
}

/// `open --editor vscode` on Windows finds VS Code's `code.cmd` through
/// PATH as Windows does (the `which` crate, PATHEXT and all), starts it
/// with the remote folder's arguments, and with no `code.cmd` on PATH
/// fails with `program_missing` and the command to run by hand.
#[test]
fn windows_open_editor_finds_code_cmd_on_path_or_says_it_is_missing() {
    let dp = crate::util::devplane::Devplane::start(&[]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let bin = scratch("wine-bin");
    let args = bin.path().join("args.txt");
    // A stand-in for VS Code's launcher: it writes what it was given.
    std::fs::write(
        bin.path().join("code.cmd"),
        format!("@echo %*> \"{}\"\r\n", wine::windows_path(&args)),
    )
    .unwrap();
    let open = |path: Option<&Path>| {
        let mut cmd = w.runcode("open 1001 --editor vscode --json", &server.url(""));
        cmd.env("RUNCODE_API_BASE", &dp.api)
            .env("RUNCODE_TOKEN", &dp.token);
        if let Some(dir) = path {
            cmd.env("WINEPATH", wine::windows_path(dir));
        }
        run(&mut cmd)
    };

    let out = open(None);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failure["error"], "program_missing", "{failure}");
    let message = failure["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("code.cmd") && message.contains("--remote ssh-remote+runcode."),
        "names the program and the command to run by hand: {message}"
    );

    let out = open(Some(bin.path()));
    assert!(out.status.success(), "{}", both(&out));
    let opened: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(opened["opened"], true, "{opened}");
    let host = opened["host"].as_str().unwrap().to_owned();
    let workdir = opened["workdir"].as_str().unwrap().to_owned();
    let got = crate::util::wait_for(
        "the stand-in writes its arguments",
        std::time::Duration::from_secs(30),
        || {
            std::fs::read_to_string(&args)
                .ok()
                .filter(|t| t.ends_with('\n'))
        },
    );
    assert_eq!(
        got.trim_end(),
        format!("--remote ssh-remote+{host} {workdir}"),
        "the arguments VS Code's docs give for a remote folder"
    );
}

/// `runcode mcp` as a Windows client starts it, through `runcode.cmd`:
/// the server answers on stdio, each tool call runs the Windows CLI itself,
/// and the CLI's own error codes reach the client.
#[test]
fn windows_mcp_server_lists_its_tools_and_calls_the_windows_cli() {
    let dp = crate::util::devplane::Devplane::start(&[]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let mut cmd = w.runcode("mcp", &server.url(""));
    cmd.env("RUNCODE_API_BASE", &dp.api)
        .env("RUNCODE_TOKEN", &dp.token);
    let mut raw = crate::util::mcp::Raw::start(&mut cmd);
    let listed = raw.request("tools/list", &serde_json::json!({}));
    let tools = listed["result"]["tools"].as_array().map_or(0, Vec::len);
    assert_eq!(tools, crate::mcp::TOOLS.len(), "the same tools as on Linux");

    let list = raw.call("list", &serde_json::json!({}));
    assert_ne!(list["isError"], true, "{list}");
    let ids: Vec<u64> = list["structuredContent"]["workspaces"]
        .as_array()
        .unwrap_or_else(|| panic!("workspaces in {list}"))
        .iter()
        .filter_map(|w| w["id"].as_u64())
        .collect();
    assert!(ids.contains(&1001), "{list}");

    // No ssh.exe here: connect and exec go over runcode's own SSH client.
    let connected = raw.call("connect", &serde_json::json!({"workspace": "1001"}));
    assert_ne!(connected["isError"], true, "{connected}");
    let ran = raw.call(
        "exec",
        &serde_json::json!({"command": "echo from-windows; exit 4"}),
    );
    assert_ne!(ran["isError"], true, "{ran}");
    assert_eq!(ran["structuredContent"]["exit_status"], 4, "{ran}");
    assert_eq!(
        ran["structuredContent"]["stdout"], "from-windows\n",
        "{ran}"
    );
    assert!(raw.close().success(), "the server ends with its client");
}

/// `runcode mcp` on Windows interrupts a call through the call's stop file
/// (it has no signal for one process): the Windows CLI, waiting for a
/// workspace to boot, takes the file's appearance as Ctrl-C and ends with
/// `interrupted`, exit 130. (The server's side, and the remote command ended
/// once, are tested on Linux, in tests/e2e/once.rs and tests/e2e/mcp.rs.)
#[test]
fn windows_cli_takes_its_stop_file_as_ctrl_c() {
    let dp = crate::util::devplane::Devplane::start(&["--boot-delay", "60"]);
    let w = Win::new();
    let server = Server::start(&dist().join("release"));
    let scratch = scratch("test");
    let stop = scratch.path().join("call.stop");
    let job = w
        .runcode("--json connect 1002 --start --wait", &server.url(""))
        .env("RUNCODE_API_BASE", &dp.api)
        .env("RUNCODE_TOKEN", &dp.token)
        .env("RUNCODE_STOP_FILE", wine::windows_path(&stop))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start under wine");
    crate::util::wait_until(
        "the Windows CLI started 1002",
        std::time::Duration::from_secs(60),
        || dp.state(1002) == "starting",
    );
    std::fs::write(&stop, "").unwrap();
    let out = job.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", both(&out));
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("interrupted JSON: {e}\n{}", both(&out)));
    assert_eq!(value["error"], "interrupted", "{}", both(&out));
}

#[test]
fn windows_shim_without_a_launcher_runs_runcode_bin_or_refuses_in_json() {
    let w = Win::new();
    let tmp = scratch("test");
    let bin = tmp.path().join("plugin/bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["runcode.cmd", "RUNCODE_VERSION", "RUNCODE_CHECKSUMS"] {
        std::fs::copy(dist().join("plugin/bin").join(name), bin.join(name)).unwrap();
    }
    let shim = wine::windows_path(&bin.join("runcode.cmd"));
    let line = |rest: &str| w.wine.cmd(&format!("\"{shim}\" {rest}"));

    let out = run(line(r#""two words" "" --json"#)
        .env("RUNCODE_BIN", wine::windows_path(&w.wine.args_exe()))
        .env("ARGS_EXIT", "3")
        .stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(3), "{}", both(&out));
    assert_eq!(wine::printed_args(&out), ["two words", "", "--json"]);

    let out = run(line(r#"list "a b" --json"#).stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("launcher_failed JSON: {e}\n{}", both(&out)));
    assert_eq!(value["error"], "launcher_failed");
    assert!(
        value["message"]
            .as_str()
            .unwrap_or_default()
            .contains("RUNCODE_BIN"),
        "{value}"
    );

    let missing = tmp.path().join("no such dir/runcode.exe");
    let out = run(line("--json list")
        .env("RUNCODE_BIN", wine::windows_path(&missing))
        .stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("launcher_failed JSON: {e}\n{}", both(&out)));
    let message = value["message"].as_str().unwrap_or_default();
    assert!(message.contains("no such dir"), "{value}");

    // Without --json (or with it only after --), stdout stays empty.
    let out = run(line("exec -- --json").stdin(Stdio::null()));
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(out.stdout.is_empty(), "{}", both(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUNCODE_BIN"));
}

// ---- linux arm64, under qemu-user ----

fn arm64() -> Platform {
    Platform::named("linux", "arm64").unwrap()
}

fn binfmt() {
    assert!(
        Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64").is_file(),
        "arm64 programs do not start here: qemu-aarch64 is not registered with binfmt_misc (cargo xtask test registers it as root)"
    );
}

#[test]
fn arm64_launcher_downloads_verifies_and_runs_the_arm64_cli() {
    binfmt();
    let tmp = scratch("test");
    let server = Server::start(&dist().join("release"));
    let launcher = dist().join("plugin/bin/launcher").join(arm64().launcher());
    let cache = tmp.path().join("cache");
    let out = Command::new(&launcher)
        .arg("--version")
        .env("RUNCODE_CACHE", &cache)
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env_remove("RUNCODE_BIN")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(server.hits(&format!("/{}", arm64().asset())), 1);
    let cached = cache.join("bin").join(arm64().cached_name(&version()));
    let elf = std::fs::read(&cached).expect("the cached arm64 CLI");
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(
        u16::from_le_bytes([elf[18], elf[19]]),
        0xb7,
        "an aarch64 ELF"
    );

    let doctor = Command::new(&cached)
        .args(["doctor", "--json"])
        .env("HOME", tmp.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}\n{}", both(&doctor)));
    assert!(value.is_object(), "{value}");
}

#[test]
fn arm64_cli_connects_runs_and_fetches_through_the_hosts_ssh() {
    binfmt();
    let archive = std::fs::read(dist().join("release").join(arm64().asset())).unwrap();
    let dp = crate::util::devplane::Devplane::start(&[]);
    let c = crate::util::cli::Cli::new(&dp);
    let cli = c.tmp.path().join("runcode-arm64");
    std::fs::write(&cli, untar(&archive, "runcode")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |args: &[&str]| -> Output {
        let out = c.cmd_of(&cli).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", both(&out));
        out
    };
    run(&["--json", "connect", "1001"]);
    // Like ssh, exec joins its words into one remote command line.
    let out = run(&["exec", "--", "printf 'from arm64' > note.txt; echo ran"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran");
    let local = c.tmp.path().join("note.txt");
    run(&[
        "--json",
        "get",
        "note.txt",
        "--out",
        local.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&local).unwrap(), "from arm64");
    run(&["--json", "disconnect"]);
}

/// The bytes of `name` in a gzip tar.
fn untar(archive: &[u8], name: &str) -> Vec<u8> {
    let tmp = scratch("test");
    let file = tmp.path().join("archive.tar.gz");
    std::fs::write(&file, archive).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&file)
        .arg("-C")
        .arg(tmp.path())
        .arg(name)
        .status()
        .expect("tar");
    assert!(status.success(), "untar {name}");
    std::fs::read(tmp.path().join(name)).unwrap()
}

/// The ELF program header types of a 64-bit little-endian binary.
fn program_headers(elf: &[u8]) -> Vec<u32> {
    assert_eq!(
        &elf[..6],
        b"\x7fELF\x02\x01",
        "not a 64-bit little-endian ELF"
    );
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([elf[at], elf[at + 1]]));
    let phoff = usize::try_from(u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap())).unwrap();
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count)
        .map(|i| {
            let at = phoff + i * size;
            u32::from_le_bytes(elf[at..at + 4].try_into().unwrap())
        })
        .collect()
}

#[test]
fn the_bundles_launchers_are_static_and_within_their_size() {
    const PT_INTERP: u32 = 3;
    const MIB: u64 = 1024 * 1024;
    let dir = dist().join("plugin/bin/launcher");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let size = bytes.len() as u64;
        // P7's ceiling for every launcher; its goal for the one it names.
        assert!(
            size <= 2 * MIB,
            "{name}: {size} bytes, over the 2 MiB ceiling"
        );
        if name.ends_with("-linux-amd64") {
            assert!(
                size <= 3 * MIB / 2,
                "{name}: {size} bytes, over P7's 1.5 MiB"
            );
        }
        if name.contains("-linux-") {
            // A dynamically linked launcher names its loader in PT_INTERP.
            assert!(
                !program_headers(&bytes).contains(&PT_INTERP),
                "{name} is dynamically linked"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 2, "both Linux launchers are in {}", dir.display());
}
