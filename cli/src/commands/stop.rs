//! `runcode stop [ws] [--keep]`: power off; the attached workspace by default,
//! which is then detached (its session's master closed, its files dropped
//! unless --keep).

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session};

pub fn run(ctx: &Ctx, arg: Option<&str>, keep: bool) -> Result<i32> {
    let id = match arg {
        Some(a) => ctx.resolve(a)?.id,
        None => attach::require(&ctx.paths)?.id,
    };
    let api = ctx.api()?;
    if let Some(s) = session::load(&ctx.paths, id) {
        s.close_master();
    }
    let message = api.power(id, false)?;
    let detached = attach::clear(&ctx.paths, Some(id))?;
    if !keep {
        session::remove(&ctx.paths, id)?;
    }
    let mut human = format!("stopping #{id}");
    if detached {
        human.push_str(" (detached)");
    }
    let message = crate::text::clean(&message, false);
    ctx.out.result(
        &json!({"workspace_id": id, "stopped": true, "detached": detached, "message": message}),
        &human,
    );
    Ok(0)
}
