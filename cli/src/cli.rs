//! Every command and flag, with its help, in one place (clap derive).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::session::{Policy, Request};

const AFTER_HELP: &str = "\
Examples:
  runcode login                          log in through the browser
  runcode list                           workspaces you can connect to
  runcode connect my-app --start --wait  power on, mint a session, attach
  runcode exec -- make test              run in the attached workspace
  runcode disconnect                     detach and drop the session

Every command takes --json: results on stdout as one JSON object, failures as
{\"error\": \"<code>\", \"message\": \"...\"} with a non-zero exit status.";

/// The top-level help: the commands grouped by purpose (a tidy test keeps
/// this list and the commands the same), then the options.
const HELP_TEMPLATE: &str = "\
{before-help}{about-with-newline}
{usage-heading} {usage}

Account:
  login               Log in through the browser (or paste a token)
  logout              Remove the saved API token
  doctor              Check this machine: ssh, token, API, directories

Workspaces:
  list                List workspaces (by default those reachable over SSH)
  create              Create a workspace (it starts at once)
  start               Power a workspace on
  stop                Power a workspace off
  delete              Delete a workspace
  open                Open a workspace's web page, or its project in an editor

Sessions:
  connect             Attach a workspace: power it on if asked, start a session
  current             The attached workspace and the time left
  status              Every cached session and its expiry
  disconnect          Detach and drop the session (never powers off)
  clean               Remove cached session material

Work on the workspace:
  exec                Run a command in the attached workspace's project
  ssh                 A shell there, or one command (aliases: run, shell)
  runs                The runs recorded there
  attach              Follow a run to its end
  context             A one-round-trip digest: OS, git, markers, tools
  put                 Copy a local file or folder there
  get                 Copy a file or folder from there
  write               Write stdin (or a file) to a file there
  forward             Forward a workspace port to localhost (alias: port-forward)
  secret              Keep secrets here for commands there (`exec --secret`)

Your tools and agents:
  config-ssh          `runcode.<title>` hosts in ~/.ssh/config
  install-path        Put `runcode` on your PATH
  statusline          The Claude Code status line
  install-statusline  Wire the status line into Claude Code
  agent-setup         Let an agent client run the runcode tools unasked
  mcp                 Serve the workspace tools to an agent over MCP
  completions         A shell completion script
  uninstall           Take out everything runcode wrote outside its folders

Global options:
{options}{after-help}";

/// Connect your own tools and coding agents to a RunCode workspace over SSH.
///
/// Every connect mints a throwaway ed25519 key, registers only its public
/// half for a short window, and writes an isolated ssh config, so ssh, git,
/// rsync, editors and agents reach the workspace without touching ~/.ssh.
#[derive(Debug, Parser)]
#[command(
    name = "runcode",
    bin_name = "runcode",
    version,
    about,
    long_about,
    after_help = AFTER_HELP,
    propagate_version = true,
    help_template = HELP_TEMPLATE,
    subcommand_help_heading = "All commands"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// None: bare `runcode`, which prints the help and succeeds.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Print the result (or the failure) as one JSON object on stdout.
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Control-plane API base URL.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "RUNCODE_API_BASE",
        default_value = "https://app.runcode.io",
        value_name = "URL"
    )]
    pub api_base: String,
    /// Web base URL (the browser login page lives there).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        env = "RUNCODE_WEB_BASE",
        default_value = "https://runcode.io",
        value_name = "URL"
    )]
    pub web_base: String,
    /// API token (prefer the RUNCODE_TOKEN variable: flags show up in `ps`).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
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

impl SessionFlags {
    /// What `session::acquire` is asked for by a command of `policy`.
    pub fn request(self, policy: Policy) -> Request {
        Request {
            policy,
            ttl: self.ttl,
            force: self.force,
        }
    }
}

/// What `runcode secret` does.
#[derive(Debug, Subcommand)]
pub enum SecretAction {
    /// Keep a secret: its value from stdin, or from a prompt that does not
    /// echo.
    Set {
        /// Its name: the environment variable the command gets.
        name: String,
        /// Only for this workspace (name or id), usable while it is
        /// attached; without it, for every workspace.
        #[arg(long, value_name = "WS")]
        workspace: Option<String>,
    },
    /// List the secrets kept: names and scopes, never values.
    List {
        /// Only those a command on the attached workspace may use.
        #[arg(long)]
        attached: bool,
    },
    /// Remove a secret.
    Rm {
        name: String,
        /// The workspace it was kept for.
        #[arg(long, value_name = "WS")]
        workspace: Option<String>,
    },
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
        /// Workspace title, custom title, a unique prefix of one, or id
        /// (default: the attached one).
        workspace: Option<String>,
        /// The command to run (after `--`); none opens a shell.
        #[arg(last = true, value_name = "CMD")]
        command: Vec<OsString>,
        /// When the link drops mid-command, fail at once (`ssh_failed`)
        /// instead of reconnecting and picking the running command up.
        #[arg(long)]
        no_resume: bool,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Run a command on the attached workspace, in its project directory.
    Exec {
        /// Run in the home directory instead of the project directory.
        #[arg(long)]
        home: bool,
        /// Start the command in the background and print its run id at
        /// once; `runcode attach <run-id>` follows it.
        #[arg(long)]
        detach: bool,
        /// Follow the command this many seconds at most, then leave it
        /// running on the workspace and exit 75 (`still_running`) naming its
        /// run; `runcode attach <run-id>` goes on from there.
        #[arg(long, value_name = "SECS", conflicts_with = "detach")]
        wait: Option<u64>,
        /// End the command on the workspace after this many seconds (exit
        /// status 124, as `timeout` gives), even when nobody follows it any
        /// more.
        #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=604_800))]
        timeout: Option<u64>,
        /// The command and its arguments (`--` before it when one of them
        /// could be read as a runcode flag).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "CMD"
        )]
        command: Vec<OsString>,
        /// When the link drops mid-command, fail at once (`ssh_failed`)
        /// instead of reconnecting and picking the running command up.
        #[arg(long)]
        no_resume: bool,
        /// Give the command these secrets as environment variables (kept
        /// with `runcode secret set`); comma-separated or repeated.
        #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
        secret: Vec<String>,

        #[command(flatten)]
        session: SessionFlags,
    },
    /// Keep secrets on this machine for commands on a workspace; the agent
    /// names them, never sees them.
    ///
    /// `runcode exec --secret NAME -- cmd` (and the MCP `exec` tool's
    /// `secrets`) puts a secret in the command's environment over the SSH
    /// channel; every value a command may use is replaced by `[secret:NAME]`
    /// in what runcode prints and answers. A command given a secret can
    /// still send it anywhere: give one only to commands you trust.
    Secret {
        #[command(subcommand)]
        action: SecretAction,
    },
    /// List the runs recorded on the attached workspace, newest first.
    ///
    /// Every exec (and `ssh <ws> -- cmd`) is recorded there while it runs, so
    /// that a dropped link does not lose it; a run whose client gave up is
    /// listed here and `runcode attach <run-id>` picks it up.
    Runs {
        /// Stop this run instead: its command and every process it started
        /// end on the workspace.
        #[arg(long, value_name = "RUN_ID")]
        stop: Option<String>,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Follow a run on the attached workspace to its end: its output so far,
    /// the rest as it comes, and its exit status.
    Attach {
        /// The run's id, as `runcode runs` or a `disconnected` error names it.
        run_id: String,
        /// Stop waiting after this many seconds and leave the run going
        /// (`still_running`, exit 75); below an agent's shell timeout.
        #[arg(long, value_name = "SECS")]
        wait: Option<u64>,
        /// Start at this byte of the run's stdout instead of its first (the
        /// `stdout_next_offset` an earlier `--json` answer gave).
        #[arg(long, value_name = "BYTES", default_value_t = 0)]
        stdout_offset: u64,
        /// Start at this byte of the run's stderr.
        #[arg(long, value_name = "BYTES", default_value_t = 0)]
        stderr_offset: u64,
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
    /// Copy a local file or directory to the attached workspace.
    Put {
        /// Local file or directory.
        local: PathBuf,
        /// Remote destination (relative to the project directory).
        remote: String,
        /// Replace a folder with a file or a file with a folder at the
        /// destination (refused otherwise, so nothing is lost by a typo).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Copy a remote file (to stdout by default) or directory from the attached workspace.
    Get {
        /// Remote file or directory (relative to the project directory).
        remote: String,
        /// Local destination; `-` or none writes a file to stdout.
        #[arg(long, short, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Replace a folder with a file or a file with a folder at the
        /// destination (refused otherwise, so nothing is lost by a typo).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Write stdin (or --file) to a remote file on the attached workspace.
    Write {
        /// Remote file (relative to the project directory).
        remote: String,
        /// Read this local file instead of stdin.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Replace the file only while it still holds what this POSIX
        /// `cksum` line describes, keeping its mode (the MCP `edit_file`).
        #[arg(long, value_name = "CKSUM", hide = true)]
        expect_cksum: Option<String>,
        /// Replace a folder at the destination with the file (refused otherwise, so nothing is lost by a typo).
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Forward a workspace port to localhost through the session.
    #[command(visible_alias = "port-forward")]
    Forward {
        /// The port on the workspace.
        port: Option<u16>,
        /// Local port (default: the same as the remote one).
        #[arg(long, value_name = "PORT")]
        local: Option<u16>,
        /// Host to reach from the workspace (default: localhost).
        #[arg(long, value_name = "HOST", default_value = "localhost")]
        to: String,
        /// Remove the forward instead.
        #[arg(long)]
        cancel: bool,
        /// Show the forwards this CLI added.
        #[arg(long)]
        list: bool,
        /// Watch the workspace and forward each port that starts listening
        /// there to the same local port (the next free one when it is
        /// taken here), until Ctrl-C or `disconnect`. Ports already
        /// listening when it starts are left alone.
        #[arg(long, conflicts_with_all = ["port", "cancel", "list", "local"])]
        auto: bool,
        /// With --auto: never forward this workspace port (repeatable).
        #[arg(long, value_name = "PORT", requires = "auto")]
        exclude: Vec<u16>,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Write (or remove) the managed block of `runcode.<title>` hosts in ~/.ssh/config.
    ConfigSsh {
        /// Take the managed block out again.
        #[arg(long)]
        remove: bool,
        /// Show what would change, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Keeps a session's forwards through dropped links (started by
    /// `forward`; not for direct use).
    #[command(hide = true)]
    KeepForwards {
        /// The workspace id.
        id: u64,
    },
    /// Opens a session's OpenSSH master ahead of its first command (started
    /// by `connect`; not for direct use).
    #[command(hide = true)]
    WarmMaster {
        /// The workspace id.
        id: u64,
    },
    /// runcode's own SSH client, the builtin transport: one remote command
    /// of a session, as `ssh -F <config> <alias> <line>` runs it (not for
    /// direct use).
    #[command(hide = true)]
    SshBuiltin {
        /// The session's directory.
        #[arg(long)]
        session: std::path::PathBuf,
        /// Where the transport's own messages go.
        #[arg(long)]
        log: Option<std::path::PathBuf>,
        #[arg(long)]
        connect_timeout: Option<u64>,
        /// A control request to the session's held connection (`check`,
        /// `exit`), as `ssh -O` asks a master.
        #[arg(long)]
        control: Option<String>,
        /// Hold the session's connection for its commands (started by the
        /// first command that needs it).
        #[arg(long)]
        hold: bool,
        /// The remote command line.
        #[arg(last = true)]
        line: Vec<String>,
    },
    /// The ProxyCommand of the managed ssh hosts (not for direct use).
    #[command(hide = true)]
    Proxy {
        /// Workspace id (digits only).
        id: String,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Print the Claude Code status line for the attached workspace.
    Statusline {
        /// `working-on:<name> ~<n>m`, without colours.
        #[arg(long)]
        plain: bool,
    },
    /// Wire the status line into Claude Code's settings.json.
    InstallStatusline {
        /// Remove our status line instead.
        #[arg(long)]
        remove: bool,
        /// Replace a different status line.
        #[arg(long)]
        force: bool,
    },
    /// Let an agent client run every runcode MCP tool without asking.
    ///
    /// For a cloud workspace you attached, where you want the agent to work
    /// unattended. Codex: a marked block in its config.toml; Claude Code: a
    /// rule in its settings.json (each backed up first); `--remove` takes
    /// it out.
    AgentSetup {
        /// The client: `codex` or `claude`.
        client: AgentClient,
        /// Take it out again (the client asks again).
        #[arg(long)]
        remove: bool,
        /// Say what would change; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Put `runcode` on your own PATH (a link in ~/.local/bin).
    InstallPath {
        /// Remove our link instead.
        #[arg(long)]
        remove: bool,
    },
    /// Take out what runcode wrote outside its own folders: the status line
    /// (the one it replaced comes back), the managed ssh block, the PATH
    /// link. It lists exactly what it removed.
    Uninstall {
        /// Also close every session and delete the cache and the config
        /// folder (keys, cached CLIs, the token).
        #[arg(long)]
        all: bool,
        /// Say what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Open a workspace's web page, or its project in a local editor.
    ///
    /// Without --editor: the web page in the browser. With --editor: the
    /// project directory in that editor, over ssh. --print prints the
    /// address or the command instead.
    Open {
        /// Workspace title, custom title, or id (default: the attached one).
        workspace: Option<String>,
        /// Open the project directory in this local editor, through the
        /// `runcode.<title>` host of config-ssh (written when missing),
        /// instead of the web page in a browser.
        #[arg(long, value_enum, value_name = "EDITOR")]
        editor: Option<Editor>,
        /// Print the address, or the editor's command or URL, instead of
        /// opening it.
        #[arg(long)]
        print: bool,
        /// With --editor: power a stopped workspace on first and wait.
        #[arg(long, requires = "editor")]
        start: bool,
        #[command(flatten)]
        session: SessionFlags,
    },
    /// Create a workspace (it starts at once).
    Create {
        /// Its name (custom title).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Delete a workspace (asks first unless --yes or --json).
    Delete {
        /// Workspace title, custom title, or id.
        workspace: String,
        /// Do not ask.
        #[arg(long)]
        yes: bool,
    },
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Check this machine: ssh, token, API base, directories, status line.
    Doctor,
    /// Serve the workspace tools to an agent over MCP on stdio.
    ///
    /// The tools: list, connect, current, context, exec, read_file,
    /// write_file, put, get, forward, disconnect and doctor; their results and
    /// error codes are those of the commands' --json. The runcode plugin
    /// registers this server with Claude Code and Codex; without it, run
    /// `claude mcp add runcode -- runcode mcp` (or `codex mcp add runcode --
    /// runcode mcp`).
    Mcp,
    /// Remove cached session material.
    Clean {
        /// Workspace title or id (default: the attached one).
        workspace: Option<String>,
        /// Remove every cached session.
        #[arg(long)]
        all: bool,
    },
}

/// The agent clients `agent-setup` knows.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AgentClient {
    /// OpenAI's Codex CLI: a marked block in its config.toml.
    Codex,
    /// Anthropic's Claude Code: a rule in permissions.allow of its settings.json.
    Claude,
}

/// The editors `open --editor` starts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Editor {
    /// Visual Studio Code with Remote - SSH (`code`).
    Vscode,
    /// Cursor (`cursor`).
    Cursor,
    /// Windsurf (`windsurf`).
    Windsurf,
    /// Zed (`zed`).
    Zed,
    /// JetBrains Gateway (its `jetbrains-gateway://` link).
    Gateway,
}

impl Editor {
    pub fn display_name(self) -> &'static str {
        match self {
            Editor::Vscode => "VS Code",
            Editor::Cursor => "Cursor",
            Editor::Windsurf => "Windsurf",
            Editor::Zed => "Zed",
            Editor::Gateway => "JetBrains Gateway",
        }
    }
}

#[cfg(test)]
mod help_tests {
    use clap::CommandFactory;

    /// The grouped list of the top-level help names every visible command
    /// once, and nothing else.
    #[test]
    fn the_grouped_help_lists_every_command_once() {
        let cli = super::Cli::command();
        let mut visible: Vec<String> = cli
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name().to_owned())
            .collect();
        visible.sort();
        let mut listed: Vec<String> = super::HELP_TEMPLATE
            .lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect();
        listed.sort();
        assert_eq!(listed, visible);
    }
}
