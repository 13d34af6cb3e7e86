//! `runcode put <local> <remote>`: a file or a directory tree to the attached
//! workspace (relative remote paths are under its project directory).

use std::path::Path;

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::transfer;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    local: &Path,
    remote: &str,
    replace: bool,
) -> Result<i32> {
    let meta = std::fs::metadata(local).map_err(Error::io(local))?;
    let (s, req) = transfer::session(ctx, flags.request(transfer::POLICY))?;
    let (value, human) = if meta.is_dir() {
        let (path, files, bytes) = transfer::run(ctx, req, s, true, remote, |s, call| {
            let dest = transfer::remote_path(&s.meta.workdir, remote)?;
            transfer::send_dir(s, call, local, &dest, ctx.out, replace)
        })?;
        (
            json!({"path": path, "bytes": bytes, "files": files}),
            format!("sent {files} files, {bytes} bytes to {path}"),
        )
    } else {
        let name = transfer::name_of(local);
        let (path, bytes) = transfer::run(ctx, req, s, true, remote, |s, call| {
            let dest = transfer::remote_path(&s.meta.workdir, remote)?;
            transfer::send_file(
                s,
                call,
                local,
                &name,
                &dest,
                transfer::Rule {
                    expect: None,
                    replace,
                },
                ctx.out,
            )
        })?;
        (
            json!({"path": path, "bytes": bytes}),
            format!("sent {bytes} bytes to {path}"),
        )
    };
    ctx.out.result(&value, &human);
    Ok(0)
}
