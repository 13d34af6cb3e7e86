//! `runcode forward <port> [--local P] [--to HOST] [--cancel] [--list]`:
//! adds a `-L` forward to the session's multiplexed master (`ssh -O forward`)
//! and returns at once. The forwards are recorded in the session directory,
//! and a keeper (`forwards::keep`) brings them back after a dropped link.

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::forwards::{self, Forward, ensure_master, master_alive, recorded, save, spec};
use crate::remote::ssh::{Control, Streams};
use crate::session;
use crate::{attach, remote, text};

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    port: Option<u16>,
    local: Option<u16>,
    to: &str,
    cancel: bool,
    list: bool,
) -> Result<i32> {
    let (s, _) = session::acquire(
        ctx,
        attach::require(&ctx.paths)?.id,
        flags.request(forwards::POLICY),
    )?;
    if list {
        // Up while the master carries them; reconnecting while the keeper
        // brings a master back after a dropped link.
        let state = if master_alive(&s) {
            "up"
        } else {
            "reconnecting"
        };
        let forwards = recorded(&s);
        let rows: Vec<_> = forwards.iter().map(|f| json!({"port": f.port, "local": f.local, "to": f.to, "url": format!("http://localhost:{}", f.local), "state": state})).collect();
        let human = if forwards.is_empty() {
            "no forwards".to_owned()
        } else {
            forwards
                .iter()
                .map(|f| {
                    format!(
                        "http://localhost:{}  ->  {}:{} on #{}  ({state})\n",
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
    let mut forwards = recorded(&s);
    if cancel {
        let found = forwards
            .iter()
            .position(|f| f.port == forward.port && (local.is_none() || f.local == forward.local));
        let Some(i) = found else {
            return Err(Error::NoForward { port });
        };
        let gone = forwards.remove(i);
        if forwards::builtin() {
            // The keeper closes the listener once the record says so.
            save(&s, &forwards)?;
            forwards::listening(&s, gone.local, false);
        } else {
            let spec = spec(&gone);
            let cmd = s
                .ssh()
                .control(Control::Cancel(&spec))
                .streams(Streams::Quiet)
                .command();
            let _ = remote::spawn_status(cmd)?;
            save(&s, &forwards)?;
        }
        ctx.out.result(
            &json!({"cancelled": true, "port": gone.port, "local": gone.local}),
            &format!("stopped forwarding localhost:{}", gone.local),
        );
        return Ok(0);
    }
    ensure_master(&s)?;
    if let Err(why) = forwards::add(&s, &forward) {
        return Err(Error::ForwardRefused {
            local: forward.local,
            why,
        });
    }
    forwards.retain(|f| f.local != forward.local);
    forwards.push(forward.clone());
    save(&s, &forwards)?;
    forwards::start_keeper(s.meta.ws_id);
    if forwards::builtin() && !forwards::listening(&s, forward.local, true) {
        // The keeper could not listen there (or reach the workspace).
        forwards.retain(|f| f.local != forward.local);
        save(&s, &forwards)?;
        return Err(Error::ForwardRefused {
            local: forward.local,
            why: "the forward's keeper did not start listening within 10 s".to_owned(),
        });
    }
    let url = format!("http://localhost:{}", forward.local);
    ctx.out.result(
        &json!({"url": url, "local": forward.local, "port": port, "to": forward.to}),
        &url,
    );
    Ok(0)
}
