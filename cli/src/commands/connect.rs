//! `runcode connect <ws> [--start] [--wait]`: resolve, power on if asked,
//! reuse or mint a session, attach it with the current directory as scope,
//! and optionally wait until ssh answers through it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::boot::{poll_interval, ready_for_ssh};
use crate::remote::ssh::Streams;
use crate::session::{self, Policy, Session};
use crate::{attach, remote::interrupt, wiring::claude};

pub const POLICY: Policy = Policy::Attach;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    arg: &str,
    start: bool,
    wait: bool,
    timeout: u64,
) -> Result<i32> {
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let ws = ctx.resolve(arg)?;
    let started = ready_for_ssh(ctx, &ws, start, deadline)?;
    // A workspace that was just started may have lost its keys while stopped.
    let mut req = flags.request(POLICY);
    req.force |= started;
    let (session, reused) = session::acquire(ctx, ws.id, req)?;
    if wait {
        wait_answering(ctx, &session, deadline)?;
    }
    // Only a connect that worked moves the attachment: one that failed
    // (ssh missing, never answering) leaves the previous one as it was.
    attach::write(&ctx.paths, ws.id, &ws.title)?;
    // The first command is warm: the held connection (builtin transport) or
    // the OpenSSH master starts now, in the background, and a command that
    // comes while it connects joins it.
    if crate::remote::ssh::Transport::chosen() == crate::remote::ssh::Transport::Builtin {
        crate::remote::builtin::start_held(session.dir(), None);
    } else {
        crate::remote::warm::start(&session);
    }
    let statusline_installed = claude::statusline_installed();
    let left = session.seconds_left();
    let m = &session.meta;
    let value = json!({
        "workspace_id": ws.id,
        "alias": m.alias,
        "config": m.config,
        "command": ["ssh", "-F", m.config, m.alias],
        "host": m.host,
        "port": m.port,
        "user": m.user,
        "web_url": m.web_url,
        "workdir": m.workdir,
        "expires_at": m.expires_at,
        "started": started,
        "reused": reused,
        "statusline_installed": statusline_installed,
    });
    let web = m.web_url.as_deref().map(|u| {
        crate::url::without_scheme(u)
            .trim_end_matches('/')
            .to_owned()
    });
    let mut human = format!(
        "attached #{} {} ({} session, {} left{})\n",
        ws.id,
        ws.display_name(),
        if reused { "reused" } else { "new" },
        crate::text::minutes(left),
        web.map(|w| format!(", web {}", crate::text::clean(&w, false)))
            .unwrap_or_default()
    );
    human.push_str(&format!(
        "  run work:   runcode exec -- <command>   (in {})\n  plain ssh:  ssh -F {} {}\n  detach:     runcode disconnect",
        m.workdir,
        m.config.display(),
        m.alias
    ));
    ctx.out.result(&value, &human);
    Ok(0)
}

/// Polls `ssh ... true` until it succeeds: a box can answer the control
/// plane before its sshd does.
fn wait_answering(ctx: &Ctx, session: &Session, deadline: Instant) -> Result<()> {
    let began = Instant::now();
    loop {
        let cmd = session
            .ssh()
            .connect_timeout(10)
            .streams(Streams::Quiet)
            .run("true")
            .command();
        let status = crate::remote::spawn_status(cmd)?;
        interrupt::check()?;
        if status.success() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::NotAnswering {
                id: session.meta.ws_id,
                waited: began.elapsed().as_secs(),
            });
        }
        ctx.out.progress(&format!(
            "waiting for #{} to answer over ssh ({}s)",
            session.meta.ws_id,
            began.elapsed().as_secs()
        ));
        std::thread::sleep(poll_interval(deadline));
    }
}
