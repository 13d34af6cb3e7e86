//! `runcode write <remote> [--file P]`: stdin (or a file) to a remote file.
//! Stdin is spooled to a private file first, so its size is checked on the
//! workspace before the rename, as for `put`.

use std::path::Path;

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::remote::transfer;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    remote: &str,
    file: Option<&Path>,
    expect: Option<&str>,
    replace: bool,
) -> Result<i32> {
    let (s, req) = transfer::session(ctx, flags.request(transfer::POLICY))?;
    // No name: `write` names the file itself, never a file inside a
    // folder (a folder there is refused, or replaced with --replace).
    let (source, _spool) = match file {
        Some(p) => (p.to_path_buf(), None),
        None => {
            let (path, guard) = transfer::spool_stdin(&s)?;
            (path, Some(guard))
        }
    };
    let (path, bytes) = transfer::run(ctx, req, s, true, remote, |s, call| {
        let dest = transfer::remote_path(&s.meta.workdir, remote)?;
        transfer::send_file(
            s,
            call,
            &source,
            "",
            &dest,
            transfer::Rule { expect, replace },
            ctx.out,
        )
    })?;
    ctx.out.result(
        &json!({"path": path, "bytes": bytes}),
        &format!("wrote {bytes} bytes to {path}"),
    );
    Ok(0)
}
