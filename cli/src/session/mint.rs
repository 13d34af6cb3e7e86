//! Getting a session: reuse the cached one when the command's policy
//! accepts it, else mint one (a fresh ed25519 key made in-process, the
//! bundle validated, the directory written); the proxy renews the key on
//! disk under a per-workspace lock.

use super::store::{FORMAT, load, unknown_format};
use super::{Policy, Request, Session, store};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::paths::{self, Paths};
use crate::plane::bundle;
use crate::plane::credential;
use runcode_rules::time::now;

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
    let lock = paths::lock_file(&lock_path)?;
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
    let credential = credential::validate(&raw["credential"], &public, &bundle.user, now())?;
    store::write(&ctx.paths, id, key, &public_line, &bundle, &credential)
}
