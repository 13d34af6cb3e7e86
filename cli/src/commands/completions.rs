//! `runcode completions <shell>`: a completion script on stdout.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Result;

pub fn run(shell: clap_complete::Shell) -> Result<i32> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "runcode", &mut out);
    Ok(0)
}
