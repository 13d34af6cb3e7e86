//! Waiting for a workspace to boot: power it on, then poll the listing
//! until it runs. `start`, `connect --start` and `open --editor --start`
//! share it.

use std::time::{Duration, Instant};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::api::Api;
use crate::plane::workspaces::{Workspace, fetch};

/// Before a session on `ws`: it must take SSH, and it must run. One that
/// is not running is powered on and waited for when `start` allows (else
/// `NotRunning`). Whether it was started.
pub fn ready_for_ssh(ctx: &Ctx, ws: &Workspace, start: bool, deadline: Instant) -> Result<bool> {
    if !ws.ssh_capable {
        return Err(Error::NotSshCapable {
            id: ws.id,
            name: ws.display_name(),
        });
    }
    if ws.state == "running" {
        return Ok(false);
    }
    if !start {
        return Err(Error::NotRunning {
            id: ws.id,
            state: ws.state.clone(),
        });
    }
    let api = ctx.api()?;
    if ws.state != "starting" {
        power_on(ctx, &api, ws)?;
    }
    wait_running(ctx, &api, ws.id, deadline)?;
    Ok(true)
}

/// Asks the control plane to power `ws` on, saying so on stderr.
pub fn power_on(ctx: &Ctx, api: &Api, ws: &Workspace) -> Result<()> {
    ctx.out
        .progress(&format!("starting workspace #{}...", ws.id));
    api.power(ws.id, true).map(|_| ())
}

/// Polls the listing every few seconds until `id` is running or `deadline`.
pub fn wait_running(ctx: &Ctx, api: &Api, id: u64, deadline: Instant) -> Result<()> {
    let began = Instant::now();
    loop {
        let list = fetch(api)?;
        let state = list
            .iter()
            .find(|w| w.id == id)
            .map(|w| w.state.clone())
            .unwrap_or_default();
        if state == "running" {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Error::StillStarting {
                id,
                state: if state.is_empty() {
                    "not listed".to_owned()
                } else {
                    state
                },
                waited: began.elapsed().as_secs(),
            });
        }
        ctx.out.progress(&format!(
            "waiting for #{id} to start ({}s)",
            began.elapsed().as_secs()
        ));
        std::thread::sleep(poll_interval(deadline));
    }
}

/// Every few seconds, never past the deadline.
pub fn poll_interval(deadline: Instant) -> Duration {
    let every = crate::tuning::POLL.get();
    every
        .min(deadline.saturating_duration_since(Instant::now()))
        .max(Duration::from_millis(50))
}
