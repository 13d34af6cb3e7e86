//! `runcode start <ws> [--no-wait]`: power on without attaching; the
//! waiting is `plane::boot`'s.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::plane::boot::{power_on, wait_running};

pub fn run(ctx: &Ctx, arg: &str, wait: bool, timeout: u64) -> Result<i32> {
    let ws = ctx.resolve(arg)?;
    let api = ctx.api()?;
    let started = if ws.state == "running" {
        false
    } else {
        power_on(ctx, &api, &ws)?;
        true
    };
    let state = if wait && started {
        wait_running(
            ctx,
            &api,
            ws.id,
            Instant::now() + Duration::from_secs(timeout),
        )?;
        "running".to_owned()
    } else if started {
        "starting".to_owned()
    } else {
        ws.state.clone()
    };
    let human = if started {
        format!("#{} is {state}", ws.id)
    } else {
        format!("#{} is already running", ws.id)
    };
    ctx.out.result(
        &json!({"workspace_id": ws.id, "state": state, "started": started}),
        &human,
    );
    Ok(0)
}
