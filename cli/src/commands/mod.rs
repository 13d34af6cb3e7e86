//! One file per command; `dispatch` is the one place that maps the parsed
//! command line to its handler. Handlers return the process exit status.

mod clean;
mod connect;
mod context;
mod current;
mod disconnect;
mod doctor;
mod exec;
mod list;
mod login;
mod logout;
mod ssh;
mod start;
mod status;
mod stop;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::Result;

pub fn dispatch(ctx: &mut Ctx, command: Command) -> Result<i32> {
    match command {
        Command::Login {
            paste,
            no_browser,
            timeout,
        } => login::run(ctx, paste, no_browser, timeout),
        Command::Logout => logout::run(ctx),
        Command::List { all } => list::run(ctx, all),
        Command::Connect {
            workspace,
            start,
            wait,
            timeout,
            session,
        } => {
            ctx.set_session(session);
            connect::run(ctx, &workspace, start, wait, timeout)
        }
        Command::Start {
            workspace,
            no_wait,
            timeout,
        } => start::run(ctx, &workspace, !no_wait, timeout),
        Command::Stop { workspace, keep } => stop::run(ctx, workspace.as_deref(), keep),
        Command::Current => current::run(ctx),
        Command::Status => status::run(ctx),
        Command::Disconnect { keep } => disconnect::run(ctx, keep),
        Command::Ssh {
            workspace,
            command,
            session,
        } => {
            ctx.set_session(session);
            ssh::run(ctx, &workspace, &command)
        }
        Command::Exec {
            home,
            command,
            session,
        } => {
            ctx.set_session(session);
            exec::run(ctx, home, &command)
        }
        Command::Context {
            workspace,
            timeout,
            session,
        } => {
            ctx.set_session(session);
            context::run(ctx, workspace.as_deref(), timeout)
        }
        Command::Doctor => doctor::run(ctx),
        Command::Clean { workspace, all } => clean::run(ctx, workspace.as_deref(), all),
    }
}

/// "12 min" / "45 s" for a number of seconds left.
pub fn minutes(seconds: i64) -> String {
    if seconds >= 120 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} s", seconds.max(0))
    }
}
