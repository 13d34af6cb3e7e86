//! `runcode get <remote> [--out P]`: a file (to stdout by default) or a
//! directory tree (with --out) from the attached workspace.

use std::path::Path;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::transfer::{self, Fetched};

pub fn run(ctx: &Ctx, remote: &str, out: Option<&Path>) -> Result<i32> {
    let s = transfer::session(ctx)?;
    let path = transfer::remote_path(&s.meta.workdir, remote)?;
    match transfer::fetch(&s, &path, out)? {
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
