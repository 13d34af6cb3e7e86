//! `runcode open [ws] [--print]`: the workspace's web address (token-less),
//! opened in the browser or printed.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{attach, session};

pub fn run(ctx: &Ctx, arg: Option<&str>, print: bool) -> Result<i32> {
    let (id, url) = match arg {
        Some(a) => {
            let ws = ctx.resolve(a)?;
            (ws.id, ws.web_url)
        }
        None => {
            let a = attach::require(&ctx.paths)?;
            let url = session::load(&ctx.paths, a.id).and_then(|s| s.meta.web_url);
            match url {
                Some(u) => (a.id, Some(u)),
                None => (a.id, ctx.resolve(&a.id.to_string())?.web_url),
            }
        }
    };
    let url = url.ok_or_else(|| Error::NotFound(format!("workspace #{id} has no web address")))?;
    let url = crate::text::clean(&url, false);
    let opened = !print && !ctx.out.json && crate::wiring::open::url(&url);
    ctx.out.result(
        &json!({"workspace_id": id, "url": url, "opened": opened}),
        &url,
    );
    Ok(0)
}
