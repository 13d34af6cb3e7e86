//! The arguments of each MCP tool: what a model may send, with the defaults
//! and descriptions schemars turns into each tool's input schema.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, JsonSchema)]
pub(super) struct ListArgs {
    /// Also show workspaces that cannot take SSH (default false).
    #[serde(default)]
    pub(super) all: bool,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct WorkspaceArgs {
    /// The workspace: its title, custom title, or numeric id, as `list` shows.
    #[serde(deserialize_with = "name_or_id")]
    pub(super) workspace: String,
    /// Power it on first if it is stopped.
    #[serde(default = "yes")]
    pub(super) start: bool,
    /// Seconds to wait in all for it to run and for SSH to answer.
    #[serde(default = "connect_timeout")]
    pub(super) timeout_seconds: u64,
}

/// A workspace as a string, or an id sent as a JSON number (models do).
fn name_or_id<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "a workspace is a name or an id, not {other}"
        ))),
    }
}

fn yes() -> bool {
    true
}

fn connect_timeout() -> u64 {
    180
}

fn exec_timeout() -> u64 {
    super::EXEC_TIMEOUT
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct ContextArgs {
    /// The workspace (empty: the attached one).
    #[serde(default, deserialize_with = "name_or_id")]
    pub(super) workspace: String,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct ExecArgs {
    /// A shell command line, run by the workspace's shell in the project
    /// directory (pipes, redirections and `&&` work). A background process
    /// must redirect all its streams: `(npm run dev &) </dev/null >/dev/null 2>&1`.
    pub(super) command: String,
    /// Text fed to the command's stdin (empty: stdin is empty).
    #[serde(default)]
    pub(super) stdin: String,
    /// Run in the home directory instead of the project directory.
    #[serde(default)]
    pub(super) home: bool,
    /// Seconds before the command is ended on the workspace (default 600),
    /// whether or not this call still waits for it.
    #[serde(default = "exec_timeout")]
    pub(super) timeout_seconds: u64,
    /// Seconds to wait for the command before handing back its run_id with
    /// `running: true` (default 120; it goes on running: follow it with
    /// run_output).
    #[serde(default)]
    pub(super) wait_seconds: Option<u64>,
    /// Names of secrets to put in the command's environment (the `secrets`
    /// tool lists them; the user keeps them with `runcode secret set`).
    /// Only names: a value never goes through this call.
    #[serde(default)]
    pub(super) secrets: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct RunOutputArgs {
    /// The run, as exec's answer or `runs` gave it.
    pub(super) run_id: String,
    /// Seconds to wait for more output or the end (default 120).
    #[serde(default)]
    pub(super) wait_seconds: Option<u64>,
    /// Re-read stdout from this byte (default: where the last answer about
    /// this run stopped).
    #[serde(default)]
    pub(super) stdout_offset: Option<u64>,
    /// Re-read stderr from this byte.
    #[serde(default)]
    pub(super) stderr_offset: Option<u64>,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct RunArgs {
    /// The run, as exec's answer or `runs` gave it.
    pub(super) run_id: String,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct ReadArgs {
    /// The remote file, relative to the project directory or absolute.
    pub(super) path: String,
    /// The first line to read, from 1. With `offset` or `limit` the answer
    /// is numbered lines (`<n>\t<line>`), with `total_lines` and
    /// `next_offset`; without either, the file's bytes as they are.
    #[serde(default)]
    pub(super) offset: Option<u64>,
    /// How many lines to read (default 2000).
    #[serde(default)]
    pub(super) limit: Option<u64>,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct EditArgs {
    /// The remote file, relative to the project directory or absolute.
    pub(super) path: String,
    /// The exact text to replace, whitespace and indentation included; it
    /// must occur once, unless `replace_all`.
    pub(super) old_string: String,
    /// The text to put in its place.
    pub(super) new_string: String,
    /// Replace every occurrence (default false).
    #[serde(default)]
    pub(super) replace_all: bool,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct SearchArgs {
    /// An extended regular expression (`grep -E`).
    pub(super) pattern: String,
    /// A file or directory to search (default: the project directory).
    #[serde(default)]
    pub(super) path: String,
    /// Only files whose name matches this glob, such as `*.py`.
    #[serde(default)]
    pub(super) glob: String,
    /// Ignore case (default false).
    #[serde(default)]
    pub(super) ignore_case: bool,
    /// The most matching lines returned (default 100).
    #[serde(default = "hundred")]
    pub(super) max_results: u64,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct ListFilesArgs {
    /// The directory to list (default: the project directory).
    #[serde(default)]
    pub(super) path: String,
    /// How many levels down (default 2).
    #[serde(default = "two")]
    pub(super) depth: u64,
    /// The most paths returned (default 500).
    #[serde(default = "five_hundred")]
    pub(super) max_results: u64,
}

fn hundred() -> u64 {
    100
}

fn two() -> u64 {
    2
}

fn five_hundred() -> u64 {
    500
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct WriteArgs {
    /// The remote file to create or replace (parent directories are made).
    pub(super) path: String,
    /// The whole new content.
    pub(super) content: String,
    /// `content` is base64 (for binary files); default false, plain text.
    #[serde(default)]
    pub(super) base64: bool,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct PutArgs {
    /// A file or directory on this machine (relative to the agent's directory).
    pub(super) local: String,
    /// Where it goes on the workspace (relative to the project directory).
    pub(super) remote: String,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct GetArgs {
    /// A file or directory on the workspace (relative to the project directory).
    pub(super) remote: String,
    /// Where it goes on this machine (relative to the agent's directory).
    pub(super) local: String,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
pub(super) enum ForwardAction {
    /// Forward `port` (the default).
    #[default]
    Add,
    /// Show the forwards in place.
    List,
    /// Remove the forward of `port`.
    Cancel,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct ForwardArgs {
    /// `add`, `list`, or `cancel`.
    #[serde(default)]
    pub(super) action: ForwardAction,
    /// The port on the workspace (for `add` and `cancel`).
    #[serde(default)]
    pub(super) port: u16,
    /// The port on this machine (0: the same as `port`).
    #[serde(default)]
    pub(super) local_port: u16,
}

#[derive(Deserialize, JsonSchema)]
pub(super) struct DisconnectArgs {
    /// Keep the cached session files (default false).
    #[serde(default)]
    pub(super) keep: bool,
}
