//! `runcode create [--name N]`: a new workspace (docs/api.md); it starts at once.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::workspaces;

pub fn run(ctx: &Ctx, name: Option<&str>) -> Result<i32> {
    let raw = ctx.api()?.create(name)?;
    let ws = workspaces::merge(std::slice::from_ref(&raw), &[])
        .pop()
        .ok_or_else(|| Error::Http("the server's answer has no workspace".to_owned()))?;
    let human = format!(
        "created #{} {} ({}); `runcode connect {} --wait` when it runs",
        ws.id,
        ws.display_name(),
        ws.state,
        ws.id
    );
    ctx.out.result(&json!({"workspace": ws.to_json()}), &human);
    Ok(0)
}
