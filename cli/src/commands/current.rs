//! `runcode current`: the attached workspace and the time left.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session};

pub fn run(ctx: &Ctx) -> Result<i32> {
    let a = attach::require(&ctx.paths)?;
    let s = session::load(&ctx.paths, a.id);
    let left = s.as_ref().map(session::Session::seconds_left);
    let value = json!({
        "workspace_id": a.id,
        "title": a.title,
        "scope": a.scope,
        "alias": s.as_ref().map(|s| s.meta.alias.clone()),
        "config": s.as_ref().map(|s| s.meta.config.clone()),
        "web_url": s.as_ref().and_then(|s| s.meta.web_url.clone()),
        "workdir": s.as_ref().map(|s| s.meta.workdir.clone()),
        "expires_at": s.as_ref().map(|s| s.meta.expires_at.clone()),
        "seconds_left": left.map(|l| l.max(0)),
        "valid": left.is_some_and(|l| l > 0),
    });
    let human = match left {
        Some(l) if l > 0 => format!(
            "{} attached, session valid for {}",
            a.name(),
            crate::text::minutes(l)
        ),
        Some(_) => format!(
            "{} attached; its session has ended (the next command starts a new one)",
            a.name()
        ),
        None => format!(
            "{} attached; no session yet (the next command starts one)",
            a.name()
        ),
    };
    ctx.out.result(&value, &human);
    Ok(0)
}
