//! The `runcode-devplane` command: `serve` runs a local control plane.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// A local RunCode control plane whose workspaces are real OpenSSH servers.
#[derive(Debug, Parser)]
#[command(name = "runcode-devplane", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the control-plane API on 127.0.0.1 until SIGINT or SIGTERM.
    ///
    /// Prints one JSON line on stdout when ready: api_base, web_base,
    /// token, data_dir and the workspaces.
    Serve {
        /// Where the token, the workspaces and the gateways' files live.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Owned SSH-capable workspaces to create on first start (plus one
        /// shared and one that is not SSH-capable).
        #[arg(long, default_value_t = 2, value_name = "N")]
        workspaces: u32,
        /// Seconds a workspace stays `starting` before its gateway is up.
        #[arg(long, default_value_t = 2.0, value_name = "SECS")]
        boot_delay: f64,
        /// Answer every SSH session request with 503, as a server without
        /// the SSH feature does.
        #[arg(long)]
        ssh_disabled: bool,
        /// Use this API token instead of the generated one.
        #[arg(long, value_name = "TOKEN")]
        token: Option<String>,
        /// Put a relay in front of each gateway, whose network faults
        /// (delay, freeze, reset, down) `/_dev/link` switches; bundles name
        /// the relay.
        #[arg(long)]
        relay: bool,
        /// How gateways know a minted key: `key` lists it in
        /// authorized_keys; `certificate` signs it with the devplane's
        /// user CA (gateways trust only that CA, and are pinned by a host
        /// CA).
        #[arg(long, value_enum, default_value_t = Credential::Key)]
        credential: Credential,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Credential {
    Key,
    Certificate,
}

fn main() -> ExitCode {
    let Command::Serve {
        data_dir,
        port,
        workspaces,
        boot_delay,
        ssh_disabled,
        token,
        relay,
        credential,
    } = Cli::parse().command;
    let data_dir = data_dir.unwrap_or_else(default_data_dir);
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let opts = runcode_devplane::Options {
        data_dir,
        workspaces,
        boot_delay: Duration::from_secs_f64(boot_delay.clamp(0.0, 3600.0)),
        ssh_disabled,
        token,
        relay,
        credential: match credential {
            Credential::Key => runcode_devplane::ca::Mode::Key,
            Credential::Certificate => runcode_devplane::ca::Mode::Certificate,
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            runcode_devplane::say(&format!("cannot start: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(runcode_devplane::serve(opts, port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            runcode_devplane::say(&e);
            ExitCode::FAILURE
        }
    }
}

/// `$XDG_DATA_HOME/runcode-devplane`, else `~/.local/share/runcode-devplane`.
fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("runcode-devplane");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/runcode-devplane")
}
