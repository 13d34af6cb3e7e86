//! `runcode get <remote> [--out P]`: a file (to stdout by default) or a
//! directory tree (with --out) from the attached workspace.

use std::path::Path;

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::remote::transfer::{self, Fetched};

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    remote: &str,
    out: Option<&Path>,
    replace: bool,
) -> Result<i32> {
    let (s, req) = transfer::session(ctx, flags.request(transfer::POLICY))?;
    let fetched = transfer::run(ctx, req, s, true, remote, |s, call| {
        let path = transfer::remote_path(&s.meta.workdir, remote)?;
        transfer::fetch(s, call, &path, out, ctx.out, replace)
    })?;
    match fetched {
        // stdout carried the bytes themselves: nothing else goes there.
        Fetched::Stdout => {}
        Fetched::File(local, bytes) => {
            ctx.out.result(
                &json!({"path": local, "bytes": bytes}),
                &format!("received {bytes} bytes into {}", local.display()),
            );
        }
        Fetched::Tree(local, files, bytes) => ctx.out.result(
            &json!({"path": local, "bytes": bytes, "files": files}),
            &format!(
                "received {files} files, {bytes} bytes into {}",
                local.display()
            ),
        ),
    }
    Ok(0)
}
