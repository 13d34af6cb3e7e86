//! Every command and flag, with its help, in one place (clap derive).

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Examples:
  runcode login                          log in through the browser
  runcode list                           workspaces you can connect to
  runcode connect my-app --start --wait  power on, mint a session, attach
  runcode exec -- make test              run in the attached workspace
  runcode disconnect                     detach and drop the session

Every command takes --json: results on stdout as one JSON object, failures as
{\"error\": \"<code>\", \"message\": \"...\"} with a non-zero exit status.";

/// Connect your own tools and coding agents to a RunCode workspace over SSH.
///
/// Every connect mints a throwaway ed25519 key, registers only its public
/// half for a short window, and writes an isolated ssh config, so ssh, git,
/// rsync, editors and agents reach the workspace without touching ~/.ssh.
#[derive(Debug, Parser)]
#[command(name = "runcode", version, about, long_about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Print the result (or the failure) as one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Control-plane API base URL.
    #[arg(
        long,
        global = true,
        env = "RUNCODE_API_BASE",
        default_value = "https://app.runcode.io",
        value_name = "URL"
    )]
    pub api_base: String,
    /// Web base URL (the browser login page lives there).
    #[arg(
        long,
        global = true,
        env = "RUNCODE_WEB_BASE",
        default_value = "https://runcode.io",
        value_name = "URL"
    )]
    pub web_base: String,
    /// API token (prefer the RUNCODE_TOKEN variable: flags show up in `ps`).
    #[arg(
        long,
        global = true,
        env = "RUNCODE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

/// Flags of the commands that use a session.
#[derive(Debug, Args, Clone, Copy)]
pub struct SessionFlags {
    /// Lifetime to request for a new session, in seconds (the server caps it).
    #[arg(long, default_value_t = 1800, value_name = "SECS")]
    pub ttl: u64,
    /// Mint a new session even when the cached one is still valid.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in through the browser (or paste a token) and save the API token.
    Login {
        /// Read the token from the terminal (without echo) or from stdin.
        #[arg(long)]
        paste: bool,
        /// Print the login URL instead of opening a browser.
        #[arg(long)]
        no_browser: bool,
        /// Seconds to wait for the browser to come back.
        #[arg(long, default_value_t = 180, value_name = "SECS")]
        timeout: u64,
    },
    /// Remove the saved API token.
    Logout,
    /// List workspaces (by default only those reachable over SSH).
    List {
        /// Show every workspace, SSH-capable or not.
        #[arg(long)]
        all: bool,
    },
    /// Mint or reuse a session and attach the workspace.
    Connect {
        /// Workspace title, custom title, or id.
        workspace: String,
        /// Power the workspace on first if it is not running.
        #[arg(long)]
        start: bool,
        /// Wait until ssh actually answers through the session.
        #[arg(long)]
        wait: bool,
        /// Seconds to wait in all (starting and answering).
        #[arg(long, default_value_t = 180, value_name = "SECS")]
        timeout: u64,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Power a workspace on without attaching it.
    Start {
        /// Workspace title, custom title, or id.
        workspace: String,
        /// Return at once instead of waiting for `running`.
        #[arg(long)]
        no_wait: bool,
        /// Seconds to wait for `running`.
        #[arg(long, default_value_t = 180, value_name = "SECS")]
        timeout: u64,
    },
    /// Power a workspace off (default: the attached one, which is detached).
    Stop {
        /// Workspace title, custom title, or id (default: the attached one).
        workspace: Option<String>,
        /// Keep the cached session files.
        #[arg(long)]
        keep: bool,
    },
    /// Show the attached workspace and the time left on its session.
    Current,
    /// Show every cached session and its expiry.
    Status,
    /// Detach; drop the cached session unless --keep. Never powers anything off.
    Disconnect {
        /// Keep the cached session files.
        #[arg(long)]
        keep: bool,
    },
    /// Open a shell on a workspace, or run one command there.
    #[command(visible_aliases = ["run", "shell"])]
    Ssh {
        /// Workspace title, custom title, or id.
        workspace: String,
        /// The command to run (after `--`); none opens a shell.
        #[arg(last = true, value_name = "CMD")]
        command: Vec<OsString>,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Run a command on the attached workspace, in its project directory.
    Exec {
        /// Run in the home directory instead of the project directory.
        #[arg(long)]
        home: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, value_name = "CMD")]
        command: Vec<OsString>,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// A one-round-trip digest of the workspace: OS, git, project markers, tools.
    Context {
        /// Workspace title, custom title, or id (default: the attached one).
        workspace: Option<String>,
        /// Seconds to wait for the probe.
        #[arg(long, default_value_t = 30, value_name = "SECS")]
        timeout: u64,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Check this machine: ssh, token, API base, directories, status line.
    Doctor,
    /// Remove cached session material.
    Clean {
        /// Workspace title or id (default: the attached one).
        workspace: Option<String>,
        /// Remove every cached session.
        #[arg(long)]
        all: bool,
    },
}
