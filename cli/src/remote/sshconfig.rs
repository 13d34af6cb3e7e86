//! The isolated ssh config of a session (docs/cli.md), rendered from validated
//! values only: the CLI writes every directive itself, so nothing the server
//! sent can add one. Pure.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plane::workspaces::Workspace;
use crate::text;

/// The longest usable ControlPath: the socket path limit (108 bytes on
/// Linux, 104 on macOS), less the NUL and the `.XXXXXXXXXXXXXXXX` suffix ssh
/// adds while it binds.
pub const CONTROL_PATH_MAX: usize = if cfg!(target_os = "macos") { 86 } else { 90 };

/// Keepalives (docs/sessions.md, "A dead link"): after `ALIVE_INTERVAL`
/// seconds without a byte from the gateway ssh asks it for an answer, and
/// gives the connection up when `ALIVE_COUNT` asks in a row go unanswered,
/// so a dead link is noticed within 15 s of silence; a live but quiet link
/// costs one small packet each way every 5 s. `CONNECT_TIMEOUT` bounds a new
/// connection's TCP connect and SSH banner exchange.
pub const ALIVE_INTERVAL: u32 = 5;
pub const ALIVE_COUNT: u32 = 2;
pub const CONNECT_TIMEOUT: u32 = 10;

/// The keepalive and connect-timeout directives, for the session config and
/// the managed hosts alike.
fn liveness() -> String {
    format!(
        "  ServerAliveInterval {ALIVE_INTERVAL}\n  ServerAliveCountMax {ALIVE_COUNT}\n  ConnectTimeout {CONNECT_TIMEOUT}\n"
    )
}

/// How long an idle master may live: `RUNCODE_IDLE_SECS` (300 s unless
/// set), never past the session's end.
pub fn persist_secs(seconds_left: i64) -> u64 {
    let idle = i64::try_from(crate::tuning::IDLE.get().as_secs()).unwrap_or(300);
    u64::try_from(seconds_left.clamp(1, idle.max(1))).unwrap_or(1)
}

pub struct Spec<'a> {
    pub alias: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub identity: &'a Path,
    /// The certificate offered with the key (a certificate session).
    pub certificate: Option<&'a Path>,
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
         ForwardAgent no\n  ForwardX11 no\n  UpdateHostKeys no\n{liveness}",
        liveness = liveness(),
        alias = spec.alias,
        host = spec.host,
        port = spec.port,
        user = spec.user,
        identity = quote(spec.identity)?,
        known = quote(spec.known_hosts)?,
    );
    if let Some(cert) = spec.certificate {
        out.push_str(&format!("  CertificateFile {}\n", quote(cert)?));
    }
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
            certificate: None,
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

/// The managed block in `~/.ssh/config`, delimited by these exact lines.
pub const BEGIN: &str = "# >>> runcode managed block (do not edit) >>>";
pub const END: &str = "# <<< runcode managed block <<<";

/// Where the block is: the byte range of its lines, end marker's newline
/// included. `Err` when the markers are broken (an end without a begin, a
/// begin without an end, or two blocks): such a file is never touched.
pub fn find_block(text: &str) -> std::result::Result<Option<(usize, usize)>, String> {
    crate::text::find_marked(text, BEGIN, END)
}

/// One workspace host of the managed block.
pub struct ManagedHost {
    pub title: String,
    pub display: String,
    pub id: u64,
    pub user: String,
    pub proxy_command: String,
    pub identity: std::path::PathBuf,
    pub pins: std::path::PathBuf,
}

/// The synthetic gateway name the pins are written for.
pub fn synthetic_host(id: u64) -> String {
    format!("ws-{id}.runcode.invalid")
}

/// The directives under each `Host runcode.<title>` of the block, in the
/// order written.
pub const HOST_DIRECTIVES: &[&str] = &[
    "HostName",
    "User",
    "ProxyCommand",
    "IdentityFile",
    "IdentitiesOnly",
    "UserKnownHostsFile",
    "GlobalKnownHostsFile",
    "StrictHostKeyChecking",
    "CheckHostIP",
    "ForwardAgent",
    "ForwardX11",
    "ServerAliveInterval",
    "ServerAliveCountMax",
    "ConnectTimeout",
];

/// The block's text. It ends with `Host *` so lines that follow it in the
/// user's file keep applying to every host, as they did before it was added.
pub fn render_block(hosts: &[ManagedHost]) -> Result<String> {
    let null = if cfg!(windows) { "NUL" } else { "/dev/null" };
    let mut out = format!(
        "{BEGIN}\n# RunCode workspaces, written by `runcode config-ssh`; `runcode config-ssh --remove` takes them out.\n"
    );
    for h in hosts {
        out.push_str(&format!(
            "Host runcode.{title}\n  # {display}\n  HostName {synthetic}\n  User {user}\n  ProxyCommand {proxy}\n  \
             IdentityFile {identity}\n  IdentitiesOnly yes\n  UserKnownHostsFile {pins}\n  GlobalKnownHostsFile {null}\n  \
             StrictHostKeyChecking yes\n  CheckHostIP no\n  ForwardAgent no\n  ForwardX11 no\n{liveness}",
            liveness = liveness(),
            title = h.title,
            display = crate::text::one_line(&h.display),
            synthetic = synthetic_host(h.id),
            user = h.user,
            proxy = h.proxy_command.replace('%', "%%"),
            identity = quote(&h.identity)?,
            pins = quote(&h.pins)?,
        ));
    }
    out.push_str(&format!("Host *\n{END}\n"));
    Ok(out)
}

/// The lines of a managed block (`block`, markers included) that runcode
/// does not write: a user's own line inside it, which rewriting or
/// removing the block would lose.
pub fn foreign_lines(block: &str) -> Vec<String> {
    block
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| {
            let ours = *l == BEGIN
                || *l == END
                || *l == "Host *"
                || l.starts_with("# RunCode workspaces, written by `runcode config-ssh`")
                || l.starts_with("Host runcode.")
                || l.strip_prefix("  ")
                    .and_then(|rest| rest.split(' ').next())
                    .is_some_and(|key| key == "#" || HOST_DIRECTIVES.contains(&key));
            !ours
        })
        .map(str::to_owned)
        .collect()
}

/// `text` with `block` in place of the old block, or at the top when there
/// was none (so the block's values come first: ssh keeps the first value).
pub fn insert_block(text: &str, block: &str) -> std::result::Result<String, String> {
    Ok(match find_block(text)? {
        Some((start, end)) => format!("{}{block}{}", &text[..start], &text[end..]),
        None => format!("{block}{text}"),
    })
}

/// `text` without the block (byte for byte what it was before the block was
/// added at the top), or `None` when there is no block.
pub fn remove_block(text: &str) -> std::result::Result<Option<String>, String> {
    Ok(find_block(text)?.map(|(start, end)| format!("{}{}", &text[..start], &text[end..])))
}

#[cfg(test)]
mod block_tests {
    use super::*;

    fn block() -> String {
        render_block(&[ManagedHost {
            title: "royal-tree".into(),
            display: "My\napp".into(),
            id: 7,
            user: "dev".into(),
            proxy_command: "'/usr/bin/runcode' proxy 7".into(),
            identity: "/h/.cache/runcode/ws-7/id_ed25519".into(),
            pins: "/h/.cache/runcode/ws-7/pins".into(),
        }])
        .unwrap()
    }

    #[test]
    fn insert_then_remove_restores_every_byte() {
        for original in [
            "",
            "Host a\n  User b",
            "Host a\n  User b\n",
            "\n\n",
            "Include x\r\nHost *\r\n",
            "no newline at end",
        ] {
            let with = insert_block(original, &block()).unwrap();
            assert!(with.contains("Host runcode.royal-tree\n  # My app\n"));
            let again = insert_block(&with, &block()).unwrap();
            assert_eq!(again, with, "re-running replaces in place");
            assert_eq!(remove_block(&with).unwrap().as_deref(), Some(original));
        }
        assert_eq!(remove_block("Host a\n").unwrap(), None);
    }

    #[test]
    fn broken_blocks_are_refused() {
        let b = block();
        let cut = &b[..b.len() - END.len() - 1];
        for broken in [
            format!("x\n{cut}"),
            format!("{END}\n"),
            format!("{b}{b}"),
            format!("{BEGIN}\n{BEGIN}\n{END}\n"),
        ] {
            assert!(find_block(&broken).is_err(), "{broken}");
            assert!(insert_block(&broken, &b).is_err());
            assert!(remove_block(&broken).is_err());
        }
    }
}

/// The managed host for `w`, or `None` when its title is not safe to write
/// into ~/.ssh/config. `exe` is this binary, shell-quoted; `api` the
/// `--api-base` arguments (or nothing); `dir` the workspace's session
/// directory.
pub fn managed_host(w: &Workspace, exe: &str, api: &str, dir: &Path) -> Option<ManagedHost> {
    if !text::is_safe_name(&w.title) {
        return None;
    }
    let user = w
        .ssh_user
        .as_deref()
        .filter(|u| text::is_safe_name(u))
        .unwrap_or(&w.title)
        .to_owned();
    Some(ManagedHost {
        title: w.title.clone(),
        display: w.display_name(),
        id: w.id,
        user,
        proxy_command: format!("{exe} proxy {}{api}", w.id),
        identity: dir.join("id_ed25519"),
        pins: pins_file(dir),
    })
}

/// The host-key pins the proxy keeps for one workspace.
pub fn pins_file(session_dir: &Path) -> PathBuf {
    session_dir.join("pinned_known_hosts")
}
