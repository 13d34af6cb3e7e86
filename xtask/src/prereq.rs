//! What the suites and the demo need from the machine, installed when we can
//! (apt, as root) and otherwise named exactly.

use std::path::PathBuf;
use std::process::Command;

use crate::sh;

/// The OpenSSH server the devplane runs for each workspace, and the client.
pub fn openssh() -> Result<(), String> {
    if find_sshd().is_some() && sh::on_path("ssh").is_some() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root && sh::on_path("apt-get").is_some() {
        eprintln!("xtask: installing openssh-server and openssh-client (apt-get)");
        let install = |cmd: &mut Command| sh::run(cmd.env("DEBIAN_FRONTEND", "noninteractive"));
        let packages = [
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "openssh-server",
            "openssh-client",
        ];
        if install(Command::new("apt-get").args(packages)).is_err() {
            install(Command::new("apt-get").args(["update", "-qq"]))?;
            install(Command::new("apt-get").args(packages))?;
        }
        if find_sshd().is_some() {
            return Ok(());
        }
    }
    Err("the tests need OpenSSH's sshd and ssh. Debian/Ubuntu: `sudo apt-get install openssh-server openssh-client`; \
         Fedora: `sudo dnf install openssh-server openssh-clients`; macOS: both are built in (/usr/sbin/sshd)"
        .to_owned())
}

pub fn find_sshd() -> Option<PathBuf> {
    sh::on_path("sshd").or_else(|| Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.is_file()))
}
