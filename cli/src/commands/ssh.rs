//! `runcode ssh [ws] [-- cmd...]` (aliases `run`, `shell`): one command with
//! its own exit status, or an interactive shell in the project directory;
//! on the attached workspace when none is named.

use std::ffi::OsString;
use std::io::IsTerminal;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::Result;
use crate::plane::workspaces::{self, Target};
use crate::remote;
use crate::session::{self, Policy};

pub const POLICY: Policy = Policy::Attach;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    arg: Option<&str>,
    command: &[OsString],
    resume: bool,
) -> Result<i32> {
    // An id with a valid cached session needs no network at all; none
    // means the attached workspace, as for `exec`.
    let id = match arg {
        None => crate::attach::require(&ctx.paths)?.id,
        Some(arg) => match workspaces::target(arg)? {
            Target::Id(id) => id,
            Target::Name(_) => ctx.resolve(arg)?.id,
        },
    };
    let req = flags.request(POLICY);
    let (s, _) = session::acquire(ctx, id, req)?;
    if !command.is_empty() {
        let line = remote::command_line(Some(&s.meta.workdir), command);
        let plan = crate::remote::resume::Plan::resumed(resume);
        let ran = crate::remote::resume::run_line(ctx, req, s, &line, plan)?;
        return Ok(ran.ended.map_or(255, |(code, _)| code));
    }
    // A shell: ssh takes over the terminal.
    let line = format!(
        "cd {} && exec \"${{SHELL:-/bin/sh}}\" -l",
        crate::text::shell_quote(&s.meta.workdir)
    );
    let mut ssh = s.ssh().run(line);
    if std::io::stdin().is_terminal() {
        ssh = ssh.tty();
    }
    let cmd = ssh.command();
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = { cmd }.exec();
        Err(crate::error::Error::spawn("ssh")(err))
    }
    #[cfg(not(unix))]
    {
        Ok(remote::exit_code(remote::spawn_status(cmd)?))
    }
}
