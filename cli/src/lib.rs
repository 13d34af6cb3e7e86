//! The `runcode` CLI as a library: `run` parses the command line, dispatches
//! to the command, and turns the outcome into output and an exit status.

mod attach;
#[cfg(any(test, feature = "fuzz"))]
#[doc(hidden)]
pub mod checks;
mod cli;
mod commands;
mod ctx;
pub mod error;
mod mcp;
mod output;
mod paths;
mod plane;
mod redact;
mod remote;
#[cfg(target_os = "linux")]
mod secret_service;
mod secrets;
mod session;
mod text;
pub mod tuning;
mod wiring;

use runcode_rules::url;
#[cfg(test)]
mod props;

use std::ffi::OsString;

use clap::Parser;

pub use error::{Code, Error};

/// Runs the CLI with `args` (the first being the program name); returns the
/// process exit status.
pub fn run(args: &[OsString]) -> i32 {
    // Every process runcode starts gets only the handles it is given:
    // without this, one that outlives its command (the held connection,
    // the forwards' keeper) would hold the caller's pipes open on Windows.
    #[cfg(windows)]
    runcode_win::keep_std_handles();
    let json = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json");
    let out = output::Output { json };
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, out),
    };
    // Bare `runcode` is a question, not a mistake: the grouped help, exit 0
    // (as `gh` does), whatever the environment sets.
    let Some(command) = cli.command else {
        use clap::CommandFactory;
        let _ = cli::Cli::command().print_help();
        return 0;
    };
    // The status line runs no child and writes nothing to undo: it keeps
    // the default Ctrl-C and spares the handler's thread on its 2 ms path.
    // The MCP server keeps it too: its stdout is the protocol's, and each of
    // its calls is a CLI of its own with its own handler.
    // runcode's own SSH client dies at Ctrl-C as ssh does: its parent, the
    // CLI, is the one that ends the remote command.
    if !matches!(
        command,
        cli::Command::Statusline { .. } | cli::Command::Mcp | cli::Command::SshBuiltin { .. }
    ) {
        remote::interrupt::install(out);
    }
    let paths = paths::Paths::from_env();
    // The status line never fails, even without a home directory.
    if paths.is_err() && matches!(command, cli::Command::Statusline { .. }) {
        return 0;
    }
    let result = paths.and_then(|paths| {
        let ctx = ctx::Ctx {
            out,
            paths,
            api_base: cli.global.api_base,
            web_base: cli.global.web_base,
            token: cli.global.token,
        };
        commands::dispatch(&ctx, command)
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            out.failure(&err);
            err.exit_status()
        }
    }
}

/// Help and version go where clap puts them; a usage error under `--json`
/// is JSON too.
fn usage_error(e: &clap::Error, out: output::Output) -> i32 {
    use clap::error::ErrorKind;
    // Bare `runcode` prints the help and succeeds, as `gh` does.
    let informational = matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informational || !out.json {
        let _ = e.print();
        return if informational { 0 } else { 2 };
    }
    let text = e.render().to_string();
    let first = text
        .lines()
        .next()
        .unwrap_or("usage error")
        .trim_start_matches("error: ")
        .to_owned();
    out.failure(&Error::Usage(format!("{first} (see `runcode --help`)")));
    2
}
