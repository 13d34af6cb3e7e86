//! `runcode ssh <ws> [-- cmd...]` (aliases `run`, `shell`): one command with
//! its own exit status, or an interactive shell in the project directory.

use std::ffi::OsString;
use std::io::IsTerminal;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::remote;
use crate::session;
use crate::workspaces::{self, Target};

pub fn run(ctx: &Ctx, arg: &str, command: &[OsString]) -> Result<i32> {
    // An id with a valid cached session needs no network at all.
    let id = match workspaces::target(arg)? {
        Target::Id(id) => id,
        Target::Name(_) => ctx.resolve(arg)?.id,
    };
    let (s, _) = session::ensure(ctx, id, false)?;
    if !command.is_empty() {
        let line = remote::command_line(Some(&s.meta.workdir), command);
        return remote::run(ctx, &s, &line);
    }
    // A shell: ssh takes over the terminal.
    let line = format!(
        "cd {} && exec \"${{SHELL:-/bin/sh}}\" -l",
        crate::text::shell_quote(&s.meta.workdir)
    );
    let mut cmd = s.ssh();
    if std::io::stdin().is_terminal() {
        cmd.arg("-t");
    }
    cmd.arg(s.alias()).arg(line);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(remote::ssh_error(err))
    }
    #[cfg(not(unix))]
    {
        Ok(remote::exit_code(remote::spawn_status(cmd)?))
    }
}
