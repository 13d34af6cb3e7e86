//! A session on disk: `<cache>/ws-<id>/` with its key pair, pinned host
//! keys, ssh config and `meta.json`, written with final modes and atomic
//! replacement; read back, listed and removed.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Session, socket};
use crate::error::{Error, Result};
use crate::paths::{self, Paths};
use crate::plane::bundle::Bundle;
use crate::plane::credential::Credential;
use crate::remote::sshconfig;
use runcode_rules::time::{iso8601, now};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    /// The layout of the session's files (docs/sessions.md). A session of
    /// an older or equal format is used as it is; a newer one (written by a
    /// newer runcode) is replaced by a fresh mint, with a warning.
    #[serde(default = "first_format")]
    pub format: u32,
    pub ws_id: u64,
    pub alias: String,
    pub config: PathBuf,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub web_url: Option<String>,
    pub workdir: String,
    /// ISO 8601, UTC.
    pub expires_at: String,
    pub expires_epoch: i64,
    pub control_path: Option<PathBuf>,
}

/// The session format this runcode writes and reads.
pub const FORMAT: u32 = 1;

/// Sessions written before the field existed are format 1.
fn first_format() -> u32 {
    1
}

/// The cached session of workspace `id`, if its files are all there.
pub fn load(paths: &Paths, id: u64) -> Option<Session> {
    let dir = paths.session_dir(id);
    let meta: Meta = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).ok()?).ok()?;
    let complete = ["id_ed25519", "id_ed25519.pub", "known_hosts", "config"]
        .iter()
        .all(|f| dir.join(f).is_file());
    (complete && meta.ws_id == id && meta.format <= FORMAT).then_some(Session { meta })
}

/// The format of a session on disk that this runcode cannot read, if that
/// is why `load` found none.
/// The certificate of a certificate session, beside its key.
pub const CERTIFICATE: &str = "id_ed25519-cert.pub";

/// The session's private key.
pub const KEY: &str = "id_ed25519";

/// The file of a session directory that holds the pid of its forwards'
/// keeper (written by `forwards::keep`).
pub const KEEPER: &str = "forwards.pid";

/// Ends the forwards' keeper of session directory `dir` at once, rather
/// than at its next look: nothing of a session outlives its removal. Only
/// a process that is a keeper (Linux: its command line says so) is ended.
fn end_keeper(dir: &std::path::Path) {
    let Some(pid) = std::fs::read_to_string(dir.join(KEEPER))
        .ok()
        .and_then(|t| t.trim().parse::<u32>().ok())
    else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        let keeper = std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.split(|b| *b == 0).any(|a| a == b"keep-forwards"));
        if keeper {
            crate::remote::interrupt::send(pid, rustix::process::Signal::TERM);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = pid;
}

/// The file of a session directory in which its held connection (the
/// builtin transport's) says it runs: its pid and its endpoint.
pub const HELD: &str = "held.json";

/// The file of a session directory that records its forwards (kept by
/// `forwards`).
pub const FORWARDS: &str = "forwards.json";

pub(super) fn unknown_format(paths: &Paths, id: u64) -> Option<u32> {
    let bytes = std::fs::read(paths.session_dir(id).join("meta.json")).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let format = u32::try_from(value["format"].as_u64()?).ok()?;
    (format > FORMAT).then_some(format)
}

/// Every cached session, by id.
pub fn all(paths: &Paths) -> Vec<Session> {
    let Ok(entries) = std::fs::read_dir(&paths.cache) else {
        return Vec::new();
    };
    let mut sessions: Vec<Session> = entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("ws-")?
                .parse::<u64>()
                .ok()
        })
        .filter_map(|id| load(paths, id))
        .collect();
    sessions.sort_by_key(|s| s.meta.ws_id);
    sessions
}

pub(super) fn write(
    paths: &Paths,
    id: u64,
    key: &ssh_key::PrivateKey,
    public_line: &str,
    b: &Bundle,
    credential: &Credential,
) -> Result<Session> {
    let dir = paths.session_dir(id);
    if let Some(old) = load(paths, id) {
        old.close_master();
    }
    paths::private_dir(&paths.cache)?;
    paths::private_dir(&dir)?;
    let private = key
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| Error::KeyGen {
            detail: e.to_string(),
        })?;
    paths::write_private(&dir.join("id_ed25519"), private.as_bytes(), 0o600)?;
    paths::write_private(
        &dir.join("id_ed25519.pub"),
        format!("{public_line}\n").as_bytes(),
        0o600,
    )?;
    paths::write_private(&dir.join("known_hosts"), b.known_hosts.as_bytes(), 0o600)?;
    let certificate = dir.join(CERTIFICATE);
    match credential {
        Credential::Certificate { line, .. } => {
            paths::write_private(&certificate, line.as_bytes(), 0o600)?;
        }
        Credential::Key => {
            let _ = std::fs::remove_file(&certificate);
        }
    }
    let certified = matches!(credential, Credential::Certificate { .. });
    let end = credential.session_end(b.expires_at);
    let control_path = socket::control_path(&dir, id)?;
    let alias = format!("runcode-{}", b.user);
    let config = dir.join("config");
    let left = end - now();
    let text = sshconfig::render(&sshconfig::Spec {
        alias: &alias,
        host: &b.host,
        port: b.port,
        user: &b.user,
        identity: &dir.join("id_ed25519"),
        certificate: certified.then_some(certificate.as_path()),
        known_hosts: &dir.join("known_hosts"),
        control_path: control_path.as_deref(),
        persist: sshconfig::persist_secs(left),
    })?;
    paths::write_private(&config, text.as_bytes(), 0o600)?;
    let meta = Meta {
        format: FORMAT,
        ws_id: id,
        alias,
        config,
        host: b.host.clone(),
        port: b.port,
        user: b.user.clone(),
        web_url: b.web_url.clone(),
        workdir: b.workdir.clone(),
        expires_at: iso8601(end),
        expires_epoch: end,
        control_path,
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(Error::encode("meta.json"))?;
    paths::write_private(&dir.join("meta.json"), &json, 0o600)?;
    Ok(Session { meta })
}

/// Removes a workspace's session material, closing its master first.
pub fn remove(paths: &Paths, id: u64) -> Result<bool> {
    let dir = paths.session_dir(id);
    // The forwards go first: their keeper, seeing none, ends instead of
    // opening a new master once this one is closed.
    let _ = std::fs::remove_file(dir.join(FORWARDS));
    end_keeper(&dir);
    if let Some(s) = load(paths, id) {
        s.close_master();
    }
    if !dir.exists() {
        return Ok(false);
    }
    // The keeper holds its lock until its process is gone (within its next
    // look, a second, where no signal reaches it): on Windows a file still
    // open keeps the directory from going.
    wait_unlocked(&dir.join(".forwards.lock"));
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
            // A file a process that just ended had open goes a moment later.
            Err(_) if tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => return Err(Error::io(&dir)(e)),
        }
    }
}

/// Waits (5 s at most) until no process holds the lock `path`.
fn wait_unlocked(path: &std::path::Path) {
    if !path.exists() {
        return;
    }
    let Ok(file) = crate::paths::lock_file(path) else {
        return;
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while file.try_lock().is_err() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
