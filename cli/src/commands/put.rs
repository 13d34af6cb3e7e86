//! `runcode put <local> <remote>`: a file or a directory tree to the attached
//! workspace (relative remote paths are under its project directory).

use std::path::Path;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::transfer;

pub fn run(ctx: &Ctx, local: &Path, remote: &str) -> Result<i32> {
    let meta = std::fs::metadata(local).map_err(Error::io(local))?;
    let s = transfer::session(ctx)?;
    let dest = transfer::remote_path(&s.meta.workdir, remote)?;
    let (value, human) = if meta.is_dir() {
        let (path, files, bytes) = transfer::send_dir(&s, local, &dest)?;
        (
            json!({"path": path, "bytes": bytes, "files": files}),
            format!("sent {files} files, {bytes} bytes to {path}"),
        )
    } else {
        let (path, bytes) = transfer::send_file(&s, Some(local), &dest)?;
        (
            json!({"path": path, "bytes": bytes}),
            format!("sent {bytes} bytes to {path}"),
        )
    };
    ctx.out.result(&value, &human);
    Ok(0)
}
