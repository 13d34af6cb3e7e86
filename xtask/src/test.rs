//! `cargo xtask test`: the README's test command and what `.ci/run` calls.
//! Installs what is missing (OpenSSH, Ruby, rsync, tmux, Claude Code, Codex and the MCP
//! Inspector from npm into a cache outside the repository, the cross toolchains, qemu-user
//! and Wine), checks formatting and lints (for Windows and macOS too), builds
//! every binary and `dist/` for every platform built here (the suites run the
//! real ones, the foreign ones under qemu-user and Wine), runs every test,
//! then a fixed run of every fuzz target.

use crate::{prereq, sh};

/// Inputs per fuzz target in the test command: a few seconds each here.
const FUZZ_RUNS: &str = "300000";

pub fn run(args: &[String]) -> Result<(), String> {
    let tree = changes();
    prereq::openssh()?;
    prereq::ruby()?;
    prereq::rsync();
    prereq::tmux()?;
    prereq::keyring()?;
    let npm = prereq::agent_clients()?;
    prereq::mcp_inspector(&npm)?;
    crate::cross::prepare();
    prereq::emulators()?;
    sh::run(sh::cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh::run(sh::cargo().args([
        "clippy",
        "--locked",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))?;
    crate::cross::lint_foreign()?;
    sh::run(sh::cargo().args(["build", "--locked", "--workspace", "--bins", "--quiet"]))?;
    // The plugin and release suites check what `dist` builds.
    crate::dist::run(&["--all".to_owned()])?;
    let nextest = sh::cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = sh::cargo();
    if nextest {
        cmd.args([
            "nextest",
            "run",
            "--locked",
            "--workspace",
            "--no-fail-fast",
        ]);
    } else {
        cmd.args(["test", "--locked", "--workspace", "--no-fail-fast"]);
    }
    // The plugin suite finds the clients through this variable.
    cmd.env("RUNCODE_TEST_NPM", &npm);
    let before = leftovers();
    sh::run(cmd.args(args))?;
    if args.is_empty() {
        builtin_pass(&npm)?;
    }
    // What a test's scratch directory took with it ends by itself within a
    // second or two (a held connection or a keeper sees its session gone at
    // its next look): that much grace, no more.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let new = loop {
        let new: Vec<String> = leftovers()
            .into_iter()
            .filter(|l| !before.contains(l))
            .collect();
        if new.is_empty() || std::time::Instant::now() >= deadline {
            break new;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    };
    if !new.is_empty() {
        return Err(format!(
            "the suites left things behind (R11):\n  {}",
            new.join("\n  ")
        ));
    }
    eprintln!("xtask: nothing the suites started is left running");
    crate::dist::reproducible()?;
    crate::dist::elsewhere()?;
    // R9: a fixed number of inputs per fuzz target, with a fixed seed.
    crate::fuzz::run(&["--runs".to_owned(), FUZZ_RUNS.to_owned()])?;
    let new: Vec<String> = changes()
        .into_iter()
        .filter(|c| !tree.contains(c))
        .collect();
    if !new.is_empty() {
        return Err(format!(
            "the test command changed the checkout (a stale lockfile, an output written into the tree?):\n  {}",
            new.join("\n  ")
        ));
    }
    eprintln!("xtask: the checkout is as the test command found it");
    Ok(())
}

/// The suites that talk to sshd, again over runcode's own SSH client
/// (`RUNCODE_TRANSPORT=builtin`, docs/sessions.md "Two transports").
fn builtin_pass(npm: &std::path::Path) -> Result<(), String> {
    eprintln!("xtask: the sshd suites again over the builtin transport");
    let mut cmd = sh::cargo();
    cmd.args(["test", "--locked", "--test", "e2e", "--"])
        .args(BUILTIN_SUITES)
        .env("RUNCODE_TRANSPORT", "builtin")
        .env("RUNCODE_TEST_NPM", npm);
    sh::run(&mut cmd)
}

/// The suites of the builtin pass.
const BUILTIN_SUITES: &[&str] = &[
    "files::",
    "network::",
    "certificates::",
    "once::",
    "long_runs::",
    "mcp::",
    "hostile_workspace::",
    "secrets::",
];

/// `git status --porcelain` of the checkout, a line per changed or untracked
/// path: what the test command must not add to.
fn changes() -> Vec<String> {
    std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(sh::root())
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// R11: once the suites are done, no sshd, ssh master or proxy started from
/// a test's scratch directory may still run, and no control socket may be
/// left in the short socket directory. This lists what there is; the caller
/// compares before and after, so leftovers of an earlier, aborted run are not
/// blamed on this one.
fn leftovers() -> Vec<String> {
    let markers = [
        "/rc-dp-",
        "/rc-cli-",
        "/rc-plugin-",
        "/rc-test-",
        "/rc-ssh-",
    ];
    let mut found: Vec<String> = runcode_e2e::procs::mentioning(&markers)
        .into_iter()
        .map(|p| format!("process {p}"))
        .collect();
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if let Ok(dir) = std::fs::read_dir(format!("/tmp/runcode-{uid}")) {
        found.extend(
            dir.flatten()
                .map(|e| format!("socket {}", e.path().display())),
        );
    }
    found
}
