//! The isolated ssh config of a session (cli.md), rendered from validated
//! values only: the CLI writes every directive itself, so nothing the server
//! sent can add one. Pure.

use std::path::Path;

use crate::error::{Error, Result};

/// The longest usable ControlPath: the socket path limit (108 bytes on
/// Linux, 104 on macOS), less the NUL and the `.XXXXXXXXXXXXXXXX` suffix ssh
/// adds while it binds.
pub const CONTROL_PATH_MAX: usize = if cfg!(target_os = "macos") { 86 } else { 90 };

/// How long an idle master may live: never past the session's end.
pub fn persist_secs(seconds_left: i64) -> u64 {
    u64::try_from(seconds_left.clamp(1, 300)).unwrap_or(1)
}

pub struct Spec<'a> {
    pub alias: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub identity: &'a Path,
    pub known_hosts: &'a Path,
    /// `None` where multiplexing is unavailable (Windows).
    pub control_path: Option<&'a Path>,
    pub persist: u64,
}

/// A path for the config: quoted (home directories hold spaces on Windows),
/// `%` doubled (ssh expands `%` tokens in these directives). A `"` cannot be
/// quoted in ssh_config at all, so such a path is refused.
pub fn quote(path: &Path) -> Result<String> {
    let text = path.display().to_string();
    if text.contains('"') || text.chars().any(char::is_control) {
        return Err(Error::Usage(format!(
            "cannot use {text:?} in an ssh config: it holds a quote or a control character"
        )));
    }
    Ok(format!("\"{}\"", text.replace('%', "%%")))
}

pub fn render(spec: &Spec<'_>) -> Result<String> {
    let null = if cfg!(windows) { "NUL" } else { "/dev/null" };
    let mut out = format!(
        "# Written by runcode for one session; regenerated at every mint.\n\
         Host {alias}\n  HostName {host}\n  Port {port}\n  User {user}\n  IdentityFile {identity}\n  IdentitiesOnly yes\n  \
         UserKnownHostsFile {known}\n  GlobalKnownHostsFile {null}\n  StrictHostKeyChecking yes\n  BatchMode yes\n  \
         ForwardAgent no\n  ForwardX11 no\n  UpdateHostKeys no\n",
        alias = spec.alias,
        host = spec.host,
        port = spec.port,
        user = spec.user,
        identity = quote(spec.identity)?,
        known = quote(spec.known_hosts)?,
    );
    if let Some(control) = spec.control_path {
        out.push_str(&format!(
            "  ControlMaster auto\n  ControlPath {}\n  ControlPersist {}\n",
            quote(control)?,
            spec.persist
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_exactly_the_documented_directives() {
        let spec = Spec {
            alias: "runcode-dev",
            host: "127.0.0.1",
            port: 2222,
            user: "dev",
            identity: Path::new("/home/a b/.cache/runcode/ws-1/id_ed25519"),
            known_hosts: Path::new("/h/100%/known_hosts"),
            control_path: Some(Path::new("/tmp/runcode-0/ws-1")),
            persist: 300,
        };
        let text = render(&spec).unwrap();
        assert!(text.contains("Host runcode-dev\n  HostName 127.0.0.1\n  Port 2222\n  User dev\n"));
        assert!(text.contains("IdentityFile \"/home/a b/.cache/runcode/ws-1/id_ed25519\""));
        assert!(text.contains("UserKnownHostsFile \"/h/100%%/known_hosts\""));
        assert!(text.contains("ControlPersist 300\n"));
        assert!(quote(Path::new("/a\"b")).is_err());
        assert_eq!(persist_secs(10_000), 300);
        assert_eq!(persist_secs(42), 42);
        assert_eq!(persist_secs(-5), 1);
    }
}
