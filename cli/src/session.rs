//! Sessions: a fresh ed25519 key per mint, made in-process; the bundle
//! validated; the session directory (`<cache>/ws-<id>/`) written with final
//! modes and atomic replacement; one rule for reusing a cached session or
//! minting a new one (`acquire`, with a `Policy` per command); and the
//! multiplexing master closed before its material goes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::bundle::{self, Bundle};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::paths::{self, Paths};
use crate::sshconfig;
use runcode_rules::time::iso8601;
pub use runcode_rules::time::now;

/// `Policy::Attach` reuses a cached session only with more than this left.
pub const ATTACH_MARGIN: i64 = 90;
/// `Policy::Command` reuses a cached session only with more than this left.
pub const COMMAND_MARGIN: i64 = 10;
/// `Policy::Proxy` renews a cached session with less than this left.
pub const PROXY_MARGIN: i64 = 60;

/// When a cached session is good enough, by what the command is about to do.
/// Every command that needs a session names its policy (the commands' tests
/// pin each one); docs/sessions.md explains the margins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `connect`, `ssh`, `context`: the start of a piece of work. Reuse with
    /// more than `ATTACH_MARGIN` left, so the user is not handed a session
    /// about to end; else mint.
    Attach,
    /// `exec`, `put`, `get`, `write`, `forward`: one operation now. Reuse with
    /// more than `COMMAND_MARGIN` left (ssh's handshake fits; an
    /// authenticated connection then outlives the key's window); else mint.
    Command,
    /// `proxy`: ssh is already waiting on the other end. Reuse with more than
    /// `PROXY_MARGIN` left, else renew the key that is on disk (ssh read its
    /// public half before starting the proxy), under a per-workspace lock so
    /// that many connections at once mint once.
    Proxy,
}

impl Policy {
    pub fn margin(self) -> i64 {
        match self {
            Policy::Attach => ATTACH_MARGIN,
            Policy::Command => COMMAND_MARGIN,
            Policy::Proxy => PROXY_MARGIN,
        }
    }
}

/// What a command asks of `acquire`: its policy and its `--ttl` / `--force`.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub policy: Policy,
    /// Lifetime asked for a new session, in seconds.
    pub ttl: u64,
    /// Mint even when the cached session would do.
    pub force: bool,
}

impl Request {
    pub fn new(policy: Policy, flags: crate::cli::SessionFlags) -> Request {
        Request {
            policy,
            ttl: flags.ttl,
            force: flags.force,
        }
    }
}

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

#[derive(Debug, Clone)]
pub struct Session {
    pub meta: Meta,
}

impl Session {
    pub fn seconds_left(&self) -> i64 {
        self.meta.expires_epoch - now()
    }

    pub fn config(&self) -> &Path {
        &self.meta.config
    }

    pub fn alias(&self) -> &str {
        &self.meta.alias
    }

    /// The session directory (`<cache>/ws-<id>/`), where its config lives.
    pub fn dir(&self) -> &Path {
        self.meta.config.parent().unwrap_or_else(|| Path::new("."))
    }

    /// `ssh -F <config>` plus a ControlPersist capped by the time left.
    pub fn ssh(&self) -> Command {
        let mut cmd = Command::new("ssh");
        cmd.arg("-F").arg(self.config());
        if self.meta.control_path.is_some() {
            cmd.arg("-o").arg(format!(
                "ControlPersist={}",
                sshconfig::persist_secs(self.seconds_left())
            ));
        }
        cmd
    }

    /// Tells a running master to exit (its socket goes with it).
    pub fn close_master(&self) {
        let Some(socket) = &self.meta.control_path else {
            return;
        };
        if !socket.exists() {
            return;
        }
        let _ = Command::new("ssh")
            .arg("-F")
            .arg(self.config())
            .args(["-O", "exit"])
            .arg(self.alias())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(socket);
    }
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
fn unknown_format(paths: &Paths, id: u64) -> Option<u32> {
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

/// The session to use for workspace `id`: the cached one when `req`'s
/// policy accepts it (and `--force` was not given), else a new one. Returns
/// it and whether it was reused.
pub fn acquire(ctx: &Ctx, id: u64, req: Request) -> Result<(Session, bool)> {
    if req.policy == Policy::Proxy {
        return acquire_locked(ctx, id, req);
    }
    if let Some(s) = reusable(&ctx.paths, id, req) {
        return Ok((s, true));
    }
    if let Some(format) = unknown_format(&ctx.paths, id) {
        ctx.out.warn(&format!(
            "the session for #{id} was written by a newer runcode (session format {format}, this one reads up to {FORMAT}); starting a new one"
        ));
    }
    Ok((mint(ctx, id, req.ttl)?, false))
}

fn reusable(paths: &Paths, id: u64, req: Request) -> Option<Session> {
    load(paths, id).filter(|s| !req.force && s.seconds_left() > req.policy.margin())
}

/// The proxy's way: under `<cache>/.ws-<id>.lock`, reuse or renew.
fn acquire_locked(ctx: &Ctx, id: u64, req: Request) -> Result<(Session, bool)> {
    paths::private_dir(&ctx.paths.cache)?;
    let lock_path = ctx.paths.cache.join(format!(".ws-{id}.lock"));
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(Error::io(&lock_path))?;
    lock.lock().map_err(Error::io(&lock_path))?;
    let acquired = match reusable(&ctx.paths, id, req) {
        Some(s) => (s, true),
        None => (renew(ctx, id, req.ttl)?, false),
    };
    drop(lock);
    Ok(acquired)
}

/// A fresh session in place of `old`, whose connection failed before a
/// command could start: its master is closed first.
pub fn replace(ctx: &Ctx, old: &Session, req: Request) -> Result<Session> {
    old.close_master();
    mint(ctx, old.meta.ws_id, req.ttl)
}

/// The `client` field: `RUNCODE_CLIENT`, else `codex` under Codex, else `claude-code`.
pub fn client_name() -> String {
    if let Some(name) = std::env::var("RUNCODE_CLIENT")
        .ok()
        .filter(|n| !n.trim().is_empty())
    {
        return name.trim().to_owned();
    }
    let codex = [
        "CODEX_HOME",
        "CODEX_THREAD_ID",
        "CODEX_MANAGED_PACKAGE_ROOT",
        "CODEX_CI",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some());
    if codex { "codex" } else { "claude-code" }.to_owned()
}

/// Mints a fresh session for workspace `id`, asking for `ttl` seconds, and
/// writes its directory.
pub fn mint(ctx: &Ctx, id: u64, ttl: u64) -> Result<Session> {
    let key =
        ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519)
            .map_err(|e| Error::KeyGen {
                detail: e.to_string(),
            })?;
    mint_with(ctx, id, &key, ttl)
}

/// Registers the workspace's cached key again for a new window (a fresh key
/// when there is none). The proxy of `config-ssh` hosts needs this: ssh reads
/// the public half of `IdentityFile` as soon as it starts the ProxyCommand,
/// before the proxy can mint, so the key on disk must stay the one that works.
fn renew(ctx: &Ctx, id: u64, ttl: u64) -> Result<Session> {
    let existing = std::fs::read_to_string(ctx.paths.session_dir(id).join("id_ed25519"))
        .ok()
        .and_then(|text| ssh_key::PrivateKey::from_openssh(text).ok())
        .filter(|k| k.algorithm() == ssh_key::Algorithm::Ed25519);
    match existing {
        Some(key) => mint_with(ctx, id, &key, ttl),
        None => mint(ctx, id, ttl),
    }
}

fn mint_with(ctx: &Ctx, id: u64, key: &ssh_key::PrivateKey, ttl: u64) -> Result<Session> {
    let mut public = key.public_key().clone();
    public.set_comment("runcode");
    let public_line = public.to_openssh().map_err(|e| Error::KeyGen {
        detail: e.to_string(),
    })?;
    let raw = ctx.api()?.mint(id, &public_line, ttl, &client_name())?;
    let bundle = bundle::validate(&raw)?;
    write(&ctx.paths, id, key, &public_line, &bundle)
}

fn write(
    paths: &Paths,
    id: u64,
    key: &ssh_key::PrivateKey,
    public_line: &str,
    b: &Bundle,
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
    let control_path = control_path(&dir, id)?;
    let alias = format!("runcode-{}", b.user);
    let config = dir.join("config");
    let left = b.expires_at - now();
    let text = sshconfig::render(&sshconfig::Spec {
        alias: &alias,
        host: &b.host,
        port: b.port,
        user: &b.user,
        identity: &dir.join("id_ed25519"),
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
        expires_at: iso8601(b.expires_at),
        expires_epoch: b.expires_at,
        control_path,
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(Error::encode("meta.json"))?;
    paths::write_private(&dir.join("meta.json"), &json, 0o600)?;
    Ok(Session { meta })
}

/// The control socket: in the session directory when the path fits the
/// socket length budget, else in a short private directory
/// (`/tmp/runcode-<uid>`, 0700, owned by the user, not a symlink). None on
/// Windows, where ssh has no multiplexing.
fn control_path(dir: &Path, id: u64) -> Result<Option<PathBuf>> {
    if cfg!(windows) {
        return Ok(None);
    }
    let near = dir.join("ctl");
    if near.as_os_str().len() <= sshconfig::CONTROL_PATH_MAX {
        return Ok(Some(near));
    }
    let short = short_dir()?;
    Ok(Some(short.join(format!("ws-{id}"))))
}

#[cfg(unix)]
pub fn short_dir() -> Result<PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let uid = rustix::process::getuid().as_raw();
    let dir = PathBuf::from(format!("/tmp/runcode-{uid}"));
    match std::fs::create_dir(&dir) {
        Ok(()) => std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(Error::io(&dir))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::Io {
                path: dir,
                source: e,
            });
        }
    }
    let meta = std::fs::symlink_metadata(&dir).map_err(Error::io(&dir))?;
    if !meta.file_type().is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(Error::Io {
            path: dir,
            source: std::io::Error::other(
                "not a private directory of yours (owner, mode 0700, no symlink); remove it",
            ),
        });
    }
    Ok(dir)
}

#[cfg(not(unix))]
pub fn short_dir() -> Result<PathBuf> {
    Ok(std::env::temp_dir())
}

/// Removes a workspace's session material, closing its master first.
pub fn remove(paths: &Paths, id: u64) -> Result<bool> {
    let dir = paths.session_dir(id);
    if let Some(s) = load(paths, id) {
        s.close_master();
    }
    if !dir.exists() {
        return Ok(false);
    }
    std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
    Ok(true)
}
