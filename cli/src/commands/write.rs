//! `runcode write <remote> [--file P]`: stdin (or a file) to a remote file.

use std::path::Path;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::transfer;

pub fn run(ctx: &Ctx, remote: &str, file: Option<&Path>) -> Result<i32> {
    let s = transfer::session(ctx)?;
    let dest = transfer::remote_path(&s.meta.workdir, remote)?;
    let (path, bytes) = transfer::send_file(&s, file, &dest)?;
    ctx.out.result(
        &json!({"path": path, "bytes": bytes}),
        &format!("wrote {bytes} bytes to {path}"),
    );
    Ok(0)
}
