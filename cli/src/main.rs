//! The `runcode` command line. For now it knows its version and how to ask for
//! help; the commands of cli.md arrive with their own modules under `commands/`.

use clap::Parser;

/// Connect your own tools and coding agents to a RunCode workspace over SSH.
#[derive(Debug, Parser)]
#[command(name = "runcode", version, about, long_about = None)]
struct Cli {
    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
}

fn main() {
    let _cli = Cli::parse();
}
