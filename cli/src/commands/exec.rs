//! `runcode exec [--home] -- <cmd...>`: run on the attached workspace, in its
//! project directory, with stdio passed through and the command's own exit
//! status. A valid cached session means no control-plane call at all.

use std::ffi::OsString;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::{self, Policy};
use crate::{attach, remote};

pub const POLICY: Policy = Policy::Command;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    home: bool,
    command: &[OsString],
    resume: bool,
) -> Result<i32> {
    if command.is_empty() {
        return Err(Error::Usage(
            "no command: write it after `--`, as in `runcode exec -- ls -la`".to_owned(),
        ));
    }
    let a = attach::require(&ctx.paths)?;
    let req = flags.request(POLICY);
    let (s, _) = session::acquire(ctx, a.id, req)?;
    let line = remote::command_line(if home { None } else { Some(&s.meta.workdir) }, command);
    crate::remote::resume::run_line(ctx, req, s, &line, resume)
}
