//! `runcode exec [--home] -- <cmd...>`: run on the attached workspace, in its
//! project directory, with stdio passed through and the command's own exit
//! status. A valid cached session means no control-plane call at all.

use std::ffi::OsString;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{attach, remote, session};

pub fn run(ctx: &Ctx, home: bool, command: &[OsString]) -> Result<i32> {
    if command.is_empty() {
        return Err(Error::Usage(
            "no command: write it after `--`, as in `runcode exec -- ls -la`".to_owned(),
        ));
    }
    let a = attach::require(&ctx.paths)?;
    let cached = session::load(&ctx.paths, a.id).filter(|s| s.seconds_left() > 0 && !ctx.force);
    let s = match cached {
        Some(s) => s,
        None => session::mint(ctx, a.id)?,
    };
    let line = remote::command_line(if home { None } else { Some(&s.meta.workdir) }, command);
    remote::run(ctx, &s, &line)
}
