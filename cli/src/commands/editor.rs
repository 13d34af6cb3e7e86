//! `runcode open [ws] --editor <name> [--print] [--start]`: opens the
//! workspace's project directory in a local editor through the
//! `runcode.<title>` host of `config-ssh` (written when missing), each
//! editor started the way its own docs give for a remote SSH folder.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::attach;
use crate::cli::{Editor, SessionFlags};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::boot::ready_for_ssh;
use crate::session::{self, Policy};
use crate::wiring::{open, ssh_host};
use runcode_rules::percent::encode as percent_path;

/// How an editor is started for `host` and `dir`: a program and its
/// arguments, or a URL for the OS to open.
#[derive(Debug, PartialEq, Eq)]
pub enum Launch {
    Program {
        program: &'static str,
        args: Vec<String>,
    },
    Url(String),
}

impl Launch {
    /// The exact command line a user could run.
    pub fn printed(&self) -> String {
        match self {
            Launch::Program { program, args } => std::iter::once((*program).to_owned())
                .chain(args.iter().map(|a| word(a)))
                .collect::<Vec<_>>()
                .join(" "),
            Launch::Url(url) => url.clone(),
        }
    }
}

/// `text` as one word of a command line: bare when it holds only
/// characters no shell reads specially, quoted otherwise.
fn word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        text.to_owned()
    } else {
        crate::text::command_quote(text)
    }
}

/// The launch of `editor` for the managed host `host`, user `user`, and
/// the remote directory `dir`.
pub fn launch(editor: Editor, host: &str, user: &str, dir: &str) -> Launch {
    let vscode_like = |program| Launch::Program {
        program,
        args: vec![
            "--remote".to_owned(),
            format!("ssh-remote+{host}"),
            dir.to_owned(),
        ],
    };
    match editor {
        Editor::Vscode => vscode_like(if cfg!(windows) { "code.cmd" } else { "code" }),
        Editor::Cursor => vscode_like(if cfg!(windows) {
            "cursor.cmd"
        } else {
            "cursor"
        }),
        Editor::Windsurf => vscode_like(if cfg!(windows) {
            "windsurf.cmd"
        } else {
            "windsurf"
        }),
        Editor::Zed => Launch::Program {
            program: "zed",
            args: vec![format!("ssh://{host}{dir}")],
        },
        Editor::Gateway => Launch::Url(format!(
            "jetbrains-gateway://connect#type=ssh&deploy=false&host={host}&port=22&user={}&projectPath={}",
            percent_path(user),
            percent_path(dir)
        )),
    }
}

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    arg: Option<&str>,
    editor: Editor,
    print: bool,
    start: bool,
) -> Result<i32> {
    let ws = match arg {
        Some(a) => ctx.resolve(a)?,
        None => ctx.resolve(&attach::require(&ctx.paths)?.id.to_string())?,
    };
    let started = ready_for_ssh(ctx, &ws, start, Instant::now() + Duration::from_secs(600))?;
    let mut req = flags.request(Policy::Attach);
    req.force |= started;
    let (session, _) = session::acquire(ctx, ws.id, req)?;
    let host = format!("runcode.{}", ws.title);
    // --print changes nothing: it says when the host is missing instead.
    let written = if print {
        if !ssh_host::present(&ws.title)? {
            ctx.out.progress(&format!(
                "runcode: ~/.ssh/config has no {host} host yet: run `runcode config-ssh` (or open without --print, which writes it)"
            ));
        }
        false
    } else {
        ssh_host::ensure(ctx, &ws.title)?
    };
    if written {
        ctx.out.progress(&format!(
            "runcode: wrote the {host} host into ~/.ssh/config (`runcode config-ssh --remove` takes it out)"
        ));
    }
    let how = launch(editor, &host, &session.meta.user, &session.meta.workdir);
    let printed = how.printed();
    let opened = if print {
        false
    } else {
        let (program, mut args) = match &how {
            Launch::Program { program, args } => (*program, args.clone()),
            Launch::Url(url) => open::url_command(url),
        };
        let path = open::program(
            program,
            format!(
                "install {} (or its command-line launcher), or run it yourself: {printed}",
                editor.display_name()
            ),
        )?;
        let mut cmd = std::process::Command::new(path);
        cmd.args(args.drain(..))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd.spawn().map_err(|e| Error::Spawn {
            program: editor.display_name(),
            source: e,
        })?;
        true
    };
    let mut value = json!({
        "workspace_id": ws.id,
        "editor": editor.display_name(),
        "host": host,
        "workdir": session.meta.workdir,
        "ssh_config_written": written,
        "opened": opened,
        "started": started,
    });
    match &how {
        Launch::Program { program, args } => {
            let mut command = vec![(*program).to_owned()];
            command.extend(args.iter().cloned());
            value["command"] = json!(command);
        }
        Launch::Url(url) => value["url"] = json!(url),
    }
    let human = if opened {
        format!(
            "opening {} in {} ({printed})",
            session.meta.workdir,
            editor.display_name()
        )
    } else {
        printed
    };
    ctx.out.result(&value, &human);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_editor_is_started_as_its_docs_give() {
        let l = |e| launch(e, "runcode.royal-tree", "dev", "/home/dev/my app").printed();
        #[cfg(not(windows))]
        {
            assert_eq!(
                l(Editor::Vscode),
                "code --remote ssh-remote+runcode.royal-tree '/home/dev/my app'"
            );
            assert_eq!(
                l(Editor::Cursor),
                "cursor --remote ssh-remote+runcode.royal-tree '/home/dev/my app'"
            );
        }
        assert_eq!(
            l(Editor::Zed),
            "zed 'ssh://runcode.royal-tree/home/dev/my app'"
        );
        assert_eq!(
            l(Editor::Gateway),
            "jetbrains-gateway://connect#type=ssh&deploy=false&host=runcode.royal-tree&port=22&user=dev&projectPath=%2Fhome%2Fdev%2Fmy%20app"
        );
    }
}
