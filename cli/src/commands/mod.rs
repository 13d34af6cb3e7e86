//! One file per command; `dispatch` is the one place that maps the parsed
//! command line to its handler. Handlers return the process exit status.

mod clean;
mod completions;
mod config_ssh;
mod connect;
mod context;
mod create;
mod current;
mod delete;
mod disconnect;
mod doctor;
mod exec;
mod forward;
mod get;
mod install_path;
mod install_statusline;
mod list;
mod login;
mod logout;
mod open;
mod proxy;
mod put;
mod ssh;
mod start;
mod status;
mod statusline;
mod stop;
mod write;

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
        Command::Put {
            local,
            remote,
            session,
        } => {
            ctx.set_session(session);
            put::run(ctx, &local, &remote)
        }
        Command::Get {
            remote,
            out,
            session,
        } => {
            ctx.set_session(session);
            get::run(ctx, &remote, out.as_deref())
        }
        Command::Write {
            remote,
            file,
            session,
        } => {
            ctx.set_session(session);
            write::run(ctx, &remote, file.as_deref())
        }
        Command::Forward {
            port,
            local,
            to,
            cancel,
            list,
            session,
        } => {
            ctx.set_session(session);
            forward::run(ctx, port, local, &to, cancel, list)
        }
        Command::ConfigSsh { remove, dry_run } => config_ssh::run(ctx, remove, dry_run),
        Command::Proxy { id, session } => {
            ctx.set_session(session);
            proxy::run(ctx, &id)
        }
        Command::Statusline { plain } => statusline::run(ctx, plain),
        Command::InstallStatusline { remove, force } => install_statusline::run(ctx, remove, force),
        Command::InstallPath { remove } => install_path::run(ctx, remove),
        Command::Open { workspace, print } => open::run(ctx, workspace.as_deref(), print),
        Command::Create { name } => create::run(ctx, name.as_deref()),
        Command::Delete { workspace, yes } => delete::run(ctx, &workspace, yes),
        Command::Completions { shell } => completions::run(shell),
        Command::Doctor => doctor::run(ctx),
        Command::Clean { workspace, all } => clean::run(ctx, workspace.as_deref(), all),
    }
}

#[cfg(any(test, feature = "fuzz"))]
pub use config_ssh::managed_host;
#[cfg(any(test, feature = "fuzz"))]
pub use statusline::dirs_from as statusline_dirs_from;

/// "12 min" / "45 s" for a number of seconds left.
pub fn minutes(seconds: i64) -> String {
    if seconds >= 120 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} s", seconds.max(0))
    }
}
