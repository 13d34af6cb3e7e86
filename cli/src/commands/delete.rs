//! `runcode delete <ws> [--yes]`: deletes a workspace after asking (unless
//! --yes or --json); deleting the attached one detaches it.

use std::io::IsTerminal;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{attach, session};

pub fn run(ctx: &Ctx, arg: &str, yes: bool) -> Result<i32> {
    let ws = ctx.resolve(arg)?;
    if !yes && !ctx.out.json {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(format!(
                "deleting #{} needs confirmation: pass --yes",
                ws.id
            )));
        }
        let question = format!(
            "delete workspace #{} {} and everything on it?",
            ws.id,
            crate::text::clean(&ws.display_name(), false)
        );
        if !ctx.out.confirm(&question) {
            return Err(Error::Usage("not deleted".to_owned()));
        }
    }
    let message = ctx.api()?.delete(ws.id)?;
    let detached = attach::clear(&ctx.paths, Some(ws.id))?;
    session::remove(&ctx.paths, ws.id)?;
    let value = json!({"workspace_id": ws.id, "deleted": true, "detached": detached, "message": crate::text::clean(&message, false)});
    ctx.out.result(
        &value,
        &format!(
            "deleted #{}{}",
            ws.id,
            if detached { " (detached)" } else { "" }
        ),
    );
    Ok(0)
}
