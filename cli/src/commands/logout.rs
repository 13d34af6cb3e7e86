//! `runcode logout`: remove the token file.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};

pub fn run(ctx: &Ctx) -> Result<i32> {
    let path = ctx.paths.token();
    let removed = match std::fs::remove_file(&path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Error::Io { path, source: e }),
    };
    let human = if removed {
        "logged out"
    } else {
        "no saved token"
    };
    ctx.out.result(&json!({"logged_out": removed}), human);
    Ok(0)
}
