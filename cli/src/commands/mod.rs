//! One file per command; `dispatch` is the one place that maps the parsed
//! command line to its handler. Handlers return the process exit status.

mod agent_setup;
mod attach;
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
mod editor;
mod exec;
mod forward;
mod forward_auto;
mod get;
mod install_path;
mod install_statusline;
mod list;
mod login;
mod logout;
mod open;
mod proxy;
mod put;
mod runs;
mod secret;
mod ssh;
mod start;
mod status;
mod statusline;
mod stop;
mod uninstall;
mod write;

use crate::cli::Command;
use crate::ctx::Ctx;
use crate::error::Result;

pub fn dispatch(ctx: &Ctx, command: Command) -> Result<i32> {
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
        } => connect::run(ctx, session, &workspace, start, wait, timeout),
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
            no_resume,
            session,
        } => ssh::run(ctx, session, workspace.as_deref(), &command, !no_resume),
        Command::Exec {
            home,
            detach,
            wait,
            timeout,
            command,
            no_resume,
            secret,
            session,
        } => {
            if detach && !secret.is_empty() {
                Err(crate::error::Error::Usage(
                    "--secret needs the command's stdin, which a --detach run does not have: run it without --detach (with --wait to hand it back)".to_owned(),
                ))
            } else if detach {
                exec::detach(ctx, session, home, &command, timeout)
            } else {
                let plan = crate::remote::resume::Plan {
                    resume: !no_resume,
                    wait: wait.map(std::time::Duration::from_secs),
                    timeout,
                };
                exec::run(ctx, session, home, &command, plan, &secret)
            }
        }
        Command::Context {
            workspace,
            timeout,
            session,
        } => context::run(ctx, session, workspace.as_deref(), timeout),
        Command::Put {
            local,
            remote,
            replace,
            session,
        } => put::run(ctx, session, &local, &remote, replace),
        Command::Get {
            remote,
            out,
            replace,
            session,
        } => get::run(ctx, session, &remote, out.as_deref(), replace),
        Command::Write {
            remote,
            file,
            expect_cksum,
            replace,
            session,
        } => write::run(
            ctx,
            session,
            &remote,
            file.as_deref(),
            expect_cksum.as_deref(),
            replace,
        ),
        Command::Forward {
            auto: true,
            exclude,
            session,
            ..
        } => forward_auto::run(ctx, session, &exclude),
        Command::Forward {
            port,
            local,
            to,
            cancel,
            list,
            session,
            ..
        } => forward::run(ctx, session, port, local, &to, cancel, list),
        Command::ConfigSsh { remove, dry_run } => config_ssh::run(ctx, remove, dry_run),
        Command::Proxy { id, session } => proxy::run(ctx, session, &id),
        Command::KeepForwards { id } => crate::remote::forwards::keep(&ctx.paths, id),
        Command::WarmMaster { id } => crate::remote::warm::run(&ctx.paths, id),
        Command::SshBuiltin {
            session,
            log,
            connect_timeout,
            control,
            hold,
            line,
        } => Ok(match control.as_deref() {
            Some(op) => crate::remote::builtin::control(&session, op),
            None if hold => crate::remote::builtin::hold(&session, connect_timeout),
            None => crate::remote::builtin::run(&crate::remote::builtin::Request {
                session_dir: session,
                log,
                connect_timeout,
                line: line.into_iter().next(),
            }),
        }),
        Command::Secret { action } => secret::run(ctx, action),
        Command::Statusline { plain } => statusline::run(ctx, plain),
        Command::InstallStatusline { remove, force } => install_statusline::run(ctx, remove, force),
        Command::InstallPath { remove } => install_path::run(ctx, remove),
        Command::AgentSetup {
            client,
            remove,
            dry_run,
        } => agent_setup::run(ctx, client, remove, dry_run),
        Command::Uninstall { all, dry_run } => uninstall::run(ctx, all, dry_run),
        Command::Open {
            workspace,
            editor: Some(editor),
            print,
            start,
            session,
        } => editor::run(ctx, session, workspace.as_deref(), editor, print, start),
        Command::Open {
            workspace, print, ..
        } => open::run(ctx, workspace.as_deref(), print),
        Command::Create { name } => create::run(ctx, name.as_deref()),
        Command::Delete { workspace, yes } => delete::run(ctx, &workspace, yes),
        Command::Completions { shell } => completions::run(shell),
        Command::Doctor => doctor::run(ctx),
        Command::Mcp => crate::mcp::run(ctx),
        Command::Runs { stop, session } => match stop {
            Some(run_id) => runs::stop(ctx, session, &run_id),
            None => runs::run(ctx, session),
        },
        Command::Attach {
            run_id,
            wait,
            stdout_offset,
            stderr_offset,
            session,
        } => {
            let from = crate::remote::resume::Got {
                out: stdout_offset,
                err: stderr_offset,
                ..Default::default()
            };
            attach::run(ctx, session, &run_id, wait, from)
        }
        Command::Clean { workspace, all } => clean::run(ctx, workspace.as_deref(), all),
    }
}

#[cfg(test)]
mod tests {
    use crate::session::Policy;

    /// Which session rule each command uses (docs/sessions.md): a change
    /// here is a change of behaviour users notice.
    #[test]
    fn each_session_command_has_its_policy() {
        let table = [
            ("connect", super::connect::POLICY, Policy::Attach),
            ("ssh", super::ssh::POLICY, Policy::Attach),
            ("context", super::context::POLICY, Policy::Attach),
            ("exec", super::exec::POLICY, Policy::Command),
            ("runs", super::runs::POLICY, Policy::Command),
            ("attach", super::attach::POLICY, Policy::Command),
            (
                "put/get/write",
                crate::remote::transfer::POLICY,
                Policy::Command,
            ),
            ("forward", crate::remote::forwards::POLICY, Policy::Command),
            ("proxy", super::proxy::POLICY, Policy::Proxy),
        ];
        for (command, actual, expected) in table {
            assert_eq!(actual, expected, "{command}");
        }
        assert_eq!(Policy::Attach.margin(), 90);
        assert_eq!(Policy::Command.margin(), 10);
        assert_eq!(Policy::Proxy.margin(), 60);
    }
}
