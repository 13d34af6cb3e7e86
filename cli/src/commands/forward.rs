//! `runcode forward <port> [--local P] [--to HOST] [--cancel] [--list]`:
//! adds a `-L` forward to the session's multiplexed master (`ssh -O forward`)
//! and returns at once. The forwards this CLI added are recorded in the
//! session directory for `--list`.

use std::process::Stdio;

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::{self, Policy, Session};
use crate::ssh::{Control, Streams};
use crate::{attach, paths, remote, text};

pub const POLICY: Policy = Policy::Command;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Forward {
    local: u16,
    to: String,
    port: u16,
}

fn record_path(s: &Session) -> std::path::PathBuf {
    s.config().with_file_name("forwards.json")
}

fn recorded(s: &Session) -> Vec<Forward> {
    std::fs::read(record_path(s))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save(s: &Session, list: &[Forward]) -> Result<()> {
    let bytes = serde_json::to_vec(list).map_err(Error::encode("forwards.json"))?;
    paths::write_private(&record_path(s), &bytes, 0o600)
}

fn master_alive(s: &Session) -> bool {
    let cmd = s
        .ssh()
        .control(Control::Check)
        .streams(Streams::Quiet)
        .command();
    remote::spawn_status(cmd).is_ok_and(|st| st.success())
}

/// A master that lives as long as the session: forwards have no client
/// connection of their own to keep an idle master alive.
fn ensure_master(s: &Session) -> Result<()> {
    if master_alive(s) && !recorded(s).is_empty() {
        return Ok(());
    }
    s.close_master();
    let cmd = s
        .ssh()
        .control(Control::Lasting)
        .streams(Streams::Diagnostics)
        .run("true")
        .command();
    let status = remote::spawn_status(cmd)?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Network(format!(
            "could not open the session's master (ssh status {})",
            remote::exit_code(status)
        )))
    }
}

fn spec(f: &Forward) -> String {
    format!("{}:{}:{}", f.local, f.to, f.port)
}

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    port: Option<u16>,
    local: Option<u16>,
    to: &str,
    cancel: bool,
    list: bool,
) -> Result<i32> {
    let (s, _) = session::acquire(ctx, attach::require(&ctx.paths)?.id, flags.request(POLICY))?;
    if list {
        let alive = master_alive(&s);
        let forwards = if alive { recorded(&s) } else { Vec::new() };
        let rows: Vec<_> = forwards.iter().map(|f| json!({"port": f.port, "local": f.local, "to": f.to, "url": format!("http://localhost:{}", f.local)})).collect();
        let human = if forwards.is_empty() {
            "no forwards".to_owned()
        } else {
            forwards
                .iter()
                .map(|f| {
                    format!(
                        "http://localhost:{}  ->  {}:{} on #{}\n",
                        f.local, f.to, f.port, s.meta.ws_id
                    )
                })
                .collect()
        };
        ctx.out.result(&json!({"forwards": rows}), &human);
        return Ok(0);
    }
    let port = port.filter(|p| *p > 0).ok_or_else(|| {
        Error::Usage("give the workspace port to forward, as in `runcode forward 3000`".to_owned())
    })?;
    if !text::is_safe_host(to) {
        return Err(Error::Usage(format!("--to {to:?} is not a host name")));
    }
    let forward = Forward {
        local: local.unwrap_or(port),
        to: to.to_owned(),
        port,
    };
    if cfg!(windows) {
        let command = format!(
            "ssh -F \"{}\" -N -L {} {}",
            s.config().display(),
            spec(&forward),
            s.alias()
        );
        return Err(Error::Unavailable(format!(
            "port forwarding through the CLI needs ssh multiplexing, which Windows lacks; run instead: {command}"
        )));
    }
    let mut forwards = recorded(&s);
    if cancel {
        let found = forwards
            .iter()
            .position(|f| f.port == forward.port && (local.is_none() || f.local == forward.local));
        let Some(i) = found else {
            return Err(Error::NoForward { port });
        };
        let gone = forwards.remove(i);
        let spec = spec(&gone);
        let cmd = s
            .ssh()
            .control(Control::Cancel(&spec))
            .streams(Streams::Quiet)
            .command();
        let _ = remote::spawn_status(cmd)?;
        save(&s, &forwards)?;
        ctx.out.result(
            &json!({"cancelled": true, "port": gone.port, "local": gone.local}),
            &format!("stopped forwarding localhost:{}", gone.local),
        );
        return Ok(0);
    }
    ensure_master(&s)?;
    let spec = spec(&forward);
    let mut cmd = s
        .ssh()
        .control(Control::Forward(&spec))
        .streams(Streams::Diagnostics)
        .command();
    cmd.stderr(Stdio::piped());
    let out = cmd.output().map_err(Error::spawn("ssh"))?;
    if !out.status.success() {
        let why = text::clean(String::from_utf8_lossy(&out.stderr).trim(), false);
        return Err(Error::ForwardRefused {
            local: forward.local,
            why,
        });
    }
    forwards.retain(|f| f.local != forward.local);
    forwards.push(forward.clone());
    save(&s, &forwards)?;
    let url = format!("http://localhost:{}", forward.local);
    ctx.out.result(
        &json!({"url": url, "local": forward.local, "port": port, "to": forward.to}),
        &url,
    );
    Ok(0)
}
