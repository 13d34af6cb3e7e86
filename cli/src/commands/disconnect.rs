//! `runcode disconnect [--keep]`: detach; drop the cached session (closing
//! its master first) unless --keep. Never powers anything off.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session};

pub fn run(ctx: &Ctx, keep: bool) -> Result<i32> {
    let Some(a) = attach::read(&ctx.paths) else {
        ctx.out.result(
            &json!({"detached": null, "workspace_id": null, "removed": false}),
            "nothing was attached",
        );
        return Ok(0);
    };
    let removed = if keep {
        if let Some(s) = session::load(&ctx.paths, a.id) {
            s.close_master();
        }
        false
    } else {
        session::remove(&ctx.paths, a.id)?
    };
    attach::clear(&ctx.paths, Some(a.id))?;
    let human = format!(
        "detached #{}{}",
        a.id,
        if removed { ", session removed" } else { "" }
    );
    ctx.out.result(
        &json!({"detached": a.id, "workspace_id": a.id, "removed": removed}),
        &human,
    );
    Ok(0)
}
