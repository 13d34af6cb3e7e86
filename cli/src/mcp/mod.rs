//! `runcode mcp`: the workspace tools as a Model Context Protocol server on
//! stdio, for any agent that has the plugin, whatever its PATH. stdout
//! carries protocol messages only; diagnostics go to stderr. Each tool call
//! runs this CLI once (`child`), so a tool's result has the shape and the
//! error codes of the matching command's `--json`, and a failure is a tool
//! error carrying `{"error": code, "message"}`. docs/mcp.md has the tools,
//! their limits and the reasons.

mod child;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, Implementation, ProgressNotificationParam, RequestMetaObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use child::{Call, Captured, Outcome, Runner};

/// Bytes of each of `exec`'s streams a result carries; the rest is counted
/// in `stdout_dropped_bytes` / `stderr_dropped_bytes`.
pub const EXEC_KEEP: usize = 32 * 1024;
/// Bytes of a file `read_file` returns; the rest is counted.
pub const READ_KEEP: usize = 64 * 1024;
/// The largest `stdin` of `exec` and `content` of `write_file`, decoded.
pub const INPUT_LIMIT: usize = 8 * 1024 * 1024;
/// `exec`'s timeout when the call names none, and the longest it may name.
const EXEC_TIMEOUT: u64 = 600;
const EXEC_TIMEOUT_MAX: u64 = 24 * 3600;

const INSTRUCTIONS: &str = "Tools for the user's RunCode cloud workspace. \
Your own shell and file tools act on THIS machine; these act on the workspace. \
Start with `list`, then `connect` (it powers a stopped workspace on and waits \
until SSH answers), then `context`. `exec`, `read_file`, `write_file`, `put`, \
`get` and `forward` act on the attached workspace; relative remote paths are \
under its project directory. A failed call returns {\"error\": code, \"message\"}: \
act on it once, never retry the same failing call in a loop. `disconnect` \
detaches and never powers anything off.";

pub fn run(ctx: &Ctx) -> Result<i32> {
    let exe = std::env::current_exe().map_err(|e| Error::Io {
        path: "the runcode executable".into(),
        source: e,
    })?;
    let dir = child::private_dir(&std::env::temp_dir()).map_err(|e| Error::Io {
        path: std::env::temp_dir(),
        source: e,
    })?;
    let mut env = vec![
        ("RUNCODE_API_BASE", ctx.api_base.clone()),
        ("RUNCODE_WEB_BASE", ctx.web_base.clone()),
    ];
    if let Some(token) = &ctx.token {
        env.push(("RUNCODE_TOKEN", token.clone()));
    }
    let server = Server {
        runner: Arc::new(Runner::new(exe, dir.clone(), env)),
        tool_router: Server::tool_router(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            path: "the async runtime".into(),
            source: e,
        })?;
    let outcome = runtime.block_on(async move {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| e.to_string())?;
        service.waiting().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    // Calls still running are interrupted as their tasks are dropped here.
    drop(runtime);
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(()) => Ok(0),
        Err(e) => {
            ctx.out.progress(&format!("runcode mcp: {e}"));
            Ok(1)
        }
    }
}

#[derive(Clone)]
struct Server {
    runner: Arc<Runner>,
    #[allow(dead_code, reason = "read by the tool_handler macro")]
    tool_router: ToolRouter<Server>,
}

#[derive(Deserialize, JsonSchema)]
struct ListArgs {
    /// Also show workspaces that cannot take SSH (default false).
    #[serde(default)]
    all: bool,
}

#[derive(Deserialize, JsonSchema)]
struct WorkspaceArgs {
    /// The workspace: its title, custom title, or numeric id, as `list` shows.
    #[serde(deserialize_with = "name_or_id")]
    workspace: String,
    /// Power it on first if it is stopped.
    #[serde(default = "yes")]
    start: bool,
    /// Seconds to wait in all for it to run and for SSH to answer.
    #[serde(default = "connect_timeout")]
    timeout_seconds: u64,
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
    EXEC_TIMEOUT
}

#[derive(Deserialize, JsonSchema)]
struct ContextArgs {
    /// The workspace (empty: the attached one).
    #[serde(default, deserialize_with = "name_or_id")]
    workspace: String,
}

#[derive(Deserialize, JsonSchema)]
struct ExecArgs {
    /// A shell command line, run by the workspace's shell in the project
    /// directory (pipes, redirections and `&&` work). A background process
    /// must redirect all its streams: `(npm run dev &) </dev/null >/dev/null 2>&1`.
    command: String,
    /// Text fed to the command's stdin (empty: stdin is empty).
    #[serde(default)]
    stdin: String,
    /// Run in the home directory instead of the project directory.
    #[serde(default)]
    home: bool,
    /// Seconds before the command is ended on the workspace.
    #[serde(default = "exec_timeout")]
    timeout_seconds: u64,
}

#[derive(Deserialize, JsonSchema)]
struct ReadArgs {
    /// The remote file, relative to the project directory or absolute.
    path: String,
}

#[derive(Deserialize, JsonSchema)]
struct WriteArgs {
    /// The remote file to create or replace (parent directories are made).
    path: String,
    /// The whole new content.
    content: String,
    /// `content` is base64 (for binary files); default false, plain text.
    #[serde(default)]
    base64: bool,
}

#[derive(Deserialize, JsonSchema)]
struct PutArgs {
    /// A file or directory on this machine (relative to the agent's directory).
    local: String,
    /// Where it goes on the workspace (relative to the project directory).
    remote: String,
}

#[derive(Deserialize, JsonSchema)]
struct GetArgs {
    /// A file or directory on the workspace (relative to the project directory).
    remote: String,
    /// Where it goes on this machine (relative to the agent's directory).
    local: String,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(rename_all = "lowercase")]
enum ForwardAction {
    /// Forward `port` (the default).
    #[default]
    Add,
    /// Show the forwards in place.
    List,
    /// Remove the forward of `port`.
    Cancel,
}

#[derive(Deserialize, JsonSchema)]
struct ForwardArgs {
    /// `add`, `list`, or `cancel`.
    #[serde(default)]
    action: ForwardAction,
    /// The port on the workspace (for `add` and `cancel`).
    #[serde(default)]
    port: u16,
    /// The port on this machine (0: the same as `port`).
    #[serde(default)]
    local_port: u16,
}

#[derive(Deserialize, JsonSchema)]
struct DisconnectArgs {
    /// Keep the cached session files (default false).
    #[serde(default)]
    keep: bool,
}

#[tool_router]
impl Server {
    #[tool(
        description = "List the user's RunCode workspaces: id, title, state, and whether SSH works."
    )]
    async fn list(
        &self,
        Parameters(a): Parameters<ListArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let mut args = vec!["list"];
        if a.all {
            args.push("--all");
        }
        self.simple(&args, ct).await
    }

    #[tool(
        description = "Attach a workspace so the other tools act on it: powers it on if stopped, waits until SSH answers (a boot can take minutes; progress is reported), and returns its ssh alias and project directory (`workdir`)."
    )]
    async fn connect(
        &self,
        Parameters(a): Parameters<WorkspaceArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let timeout = a.timeout_seconds.to_string();
        let mut args = vec!["connect", "--wait", "--timeout", &timeout];
        if a.start {
            args.push("--start");
        }
        args.extend(["--", &a.workspace]);
        self.plain(Call::new(&args), ct, progress(&meta, peer))
            .await
    }

    #[tool(description = "Which workspace is attached, and how long its session has left.")]
    async fn current(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["current"], ct).await
    }

    #[tool(
        description = "A one-round-trip digest of the workspace to read before working: OS, project markers, git branch and state, tools."
    )]
    async fn context(
        &self,
        Parameters(a): Parameters<ContextArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let mut args = vec!["context"];
        if !a.workspace.is_empty() {
            args.extend(["--", a.workspace.as_str()]);
        }
        self.simple(&args, ct).await
    }

    #[tool(
        description = "Run a shell command on the attached workspace, in its project directory. Returns exit_status, stdout and stderr (each cut after 32 KiB, with the count of bytes dropped; binary output comes as base64, marked by stdout_encoding). A timeout or a cancellation ends the command on the workspace. It is never run twice."
    )]
    async fn exec(
        &self,
        Parameters(a): Parameters<ExecArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let stdin = a.stdin.into_bytes();
        if let Some(refused) = too_big("stdin", &stdin) {
            return refused;
        }
        let seconds = a.timeout_seconds.clamp(1, EXEC_TIMEOUT_MAX);
        let mut args = vec!["exec"];
        if a.home {
            args.push("--home");
        }
        args.extend(["--", &a.command]);
        let call = Call {
            stdin: Some(stdin),
            keep: EXEC_KEEP,
            timeout: Some(Duration::from_secs(seconds)),
            ..Call::new(&args)
        };
        let outcome = match self.runner.run(call, ct, progress(&meta, peer)).await {
            Ok(outcome) => outcome,
            Err(e) => return spawn_failed(e),
        };
        let mut value = json!({"exit_status": outcome.status});
        stream(&mut value, "stdout", &outcome.stdout);
        stream(&mut value, "stderr", &outcome.stderr);
        if outcome.timed_out {
            let error = Error::Timeout { seconds };
            value["error"] = json!(error.code().as_str());
            value["message"] = json!(error.to_string());
            return CallToolResult::structured_error(value);
        }
        if let Some(failure) = outcome.result.as_ref().filter(|r| r.get("error").is_some()) {
            // Nothing ran (not attached, no session): the error alone. The
            // connection dropped or Ctrl-C: what the command printed too.
            if outcome.stdout.bytes.is_empty() && outcome.stderr.bytes.is_empty() {
                return CallToolResult::structured_error(failure.clone());
            }
            value["error"] = failure["error"].clone();
            value["message"] = failure["message"].clone();
            return CallToolResult::structured_error(value);
        }
        CallToolResult::structured(value)
    }

    #[tool(
        description = "Read a file on the attached workspace. Returns its content (text, or base64 when binary, marked by `encoding`), cut after 64 KiB with `dropped_bytes` saying how much more there is; use `get` for big files and directories."
    )]
    async fn read_file(
        &self,
        Parameters(a): Parameters<ReadArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let call = Call::new(&["get", "--", &a.path]);
        let outcome = match self.runner.run(call, ct, |_| {}).await {
            Ok(outcome) => outcome,
            Err(e) => return spawn_failed(e),
        };
        if let Some(failure) = failure(&outcome) {
            return CallToolResult::structured_error(failure);
        }
        let (content, encoding, dropped) = encode(&outcome.stdout);
        CallToolResult::structured(json!({
            "path": a.path,
            "content": content,
            "encoding": encoding,
            "bytes": outcome.stdout.bytes.len() as u64 + outcome.stdout.dropped,
            "dropped_bytes": dropped,
        }))
    }

    #[tool(
        description = "Create or replace a file on the attached workspace with the given content, atomically (a failure leaves the old file as it was). Content is text, or base64 with `base64: true`; at most 8 MiB (use `put` for more)."
    )]
    async fn write_file(
        &self,
        Parameters(a): Parameters<WriteArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let bytes = if a.base64 {
            match base64::engine::general_purpose::STANDARD.decode(a.content.as_bytes()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    return refusal(&Error::Usage(format!(
                        "content is not base64 ({e}); send text with base64 false"
                    )));
                }
            }
        } else {
            a.content.into_bytes()
        };
        if let Some(refused) = too_big("content", &bytes) {
            return refused;
        }
        let call = Call {
            stdin: Some(bytes),
            ..Call::new(&["write", "--", &a.path])
        };
        self.plain(call, ct, |_| {}).await
    }

    #[tool(
        description = "Copy a file or directory from this machine to the attached workspace (atomically: nothing half-written on failure)."
    )]
    async fn put(
        &self,
        Parameters(a): Parameters<PutArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = local_in_plugin(&a.local) {
            return refused;
        }
        self.simple(&["put", "--", &a.local, &a.remote], ct).await
    }

    #[tool(
        description = "Copy a file or directory from the attached workspace to this machine (atomically: nothing half-written on failure)."
    )]
    async fn get(
        &self,
        Parameters(a): Parameters<GetArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = local_in_plugin(&a.local) {
            return refused;
        }
        self.simple(&["get", "--out", &a.local, "--", &a.remote], ct)
            .await
    }

    #[tool(
        description = "Forward a workspace port to localhost on this machine through the session (`add`, the default), show the forwards (`list`), or remove one (`cancel`). Start the server on the workspace first, detached."
    )]
    async fn forward(
        &self,
        Parameters(a): Parameters<ForwardArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let mut args = vec!["forward".to_owned()];
        match a.action {
            ForwardAction::List => args.push("--list".to_owned()),
            action => {
                if a.port == 0 {
                    return refusal(&Error::Usage(
                        "`port` is needed to add or cancel a forward".to_owned(),
                    ));
                }
                if matches!(action, ForwardAction::Cancel) {
                    args.push("--cancel".to_owned());
                }
                if a.local_port != 0 {
                    args.extend(["--local".to_owned(), a.local_port.to_string()]);
                }
                args.push(a.port.to_string());
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.simple(&args, ct).await
    }

    #[tool(
        description = "Detach the workspace and drop its cached session. Never powers anything off: the workspace keeps running."
    )]
    async fn disconnect(
        &self,
        Parameters(a): Parameters<DisconnectArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let mut args = vec!["disconnect"];
        if a.keep {
            args.push("--keep");
        }
        self.simple(&args, ct).await
    }

    #[tool(
        description = "Check this machine's setup: the OpenSSH client, the login token, the control plane, the status line and ssh config wiring. Each check that is not ok says how to fix it."
    )]
    async fn doctor(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["doctor"], ct).await
    }
}

impl Server {
    /// A command whose whole answer is its result object.
    async fn simple(&self, args: &[&str], ct: CancellationToken) -> CallToolResult {
        self.plain(Call::new(args), ct, |_| {}).await
    }

    /// A call whose answer is its result object; `lines` gets its progress.
    async fn plain(
        &self,
        call: Call,
        ct: CancellationToken,
        lines: impl FnMut(String),
    ) -> CallToolResult {
        match self.runner.run(call, ct, lines).await {
            Ok(outcome) => plain_result(&outcome),
            Err(e) => spawn_failed(e),
        }
    }
}

/// The CLI's progress lines as progress notifications, when the client
/// asked for them with a progress token; dropped otherwise.
fn progress(meta: &RequestMetaObject, peer: Peer<RoleServer>) -> impl FnMut(String) + use<> {
    let token = meta.get_progress_token();
    let mut step = 0u32;
    move |line: String| {
        if let Some(token) = &token {
            step += 1;
            let note = ProgressNotificationParam::new(token.clone(), f64::from(step))
                .with_message(line.trim_start_matches("runcode: ").to_owned());
            let peer = peer.clone();
            tokio::spawn(async move {
                let _ = peer.notify_progress(note).await;
            });
        }
    }
}

#[tool_handler]
impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("runcode", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

/// The failure object of a call, if it failed.
fn failure(outcome: &Outcome) -> Option<Value> {
    match &outcome.result {
        Some(r) if r.get("error").is_some() => Some(r.clone()),
        Some(_) => None,
        None if outcome.status == 0 => None,
        None => Some(json!({
            "error": crate::error::Code::Internal.as_str(),
            "message": format!(
                "runcode ended with status {} and no result: {}",
                outcome.status,
                String::from_utf8_lossy(&outcome.stderr.bytes).trim()
            ),
        })),
    }
}

/// The result object as the command's `--json` gives it, or its failure.
fn plain_result(outcome: &Outcome) -> CallToolResult {
    if let Some(failure) = failure(outcome) {
        return CallToolResult::structured_error(failure);
    }
    CallToolResult::structured(outcome.result.clone().unwrap_or_else(|| json!({})))
}

fn refusal(error: &Error) -> CallToolResult {
    CallToolResult::structured_error(json!({
        "error": error.code().as_str(),
        "message": error.to_string(),
    }))
}

/// This CLI could not be started for a call (`io`, as any program that
/// cannot be started).
fn spawn_failed(e: std::io::Error) -> CallToolResult {
    refusal(&Error::Spawn {
        program: "runcode",
        source: e,
    })
}

/// A client that starts the server in the plugin's own folder (Codex does)
/// gives it no project directory: a relative local path would land in the
/// plugin, so it is refused.
fn local_in_plugin(local: &str) -> Option<CallToolResult> {
    let in_plugin = [".codex-plugin", ".claude-plugin"]
        .iter()
        .any(|d| std::path::Path::new(d).is_dir());
    (in_plugin && std::path::Path::new(local).is_relative()).then(|| {
        refusal(&Error::Usage(format!(
            "{local:?} is relative, and this server runs in the plugin's folder: give an absolute local path"
        )))
    })
}

/// `usage` for an input over the limit, before anything runs.
fn too_big(what: &str, bytes: &[u8]) -> Option<CallToolResult> {
    let len = bytes.len();
    (len > INPUT_LIMIT).then(|| {
        refusal(&Error::Usage(format!(
            "{what} is {len} bytes, over the {INPUT_LIMIT}-byte limit of a tool call: write it to a local file and copy it with `put`"
        )))
    })
}

/// Text when the kept bytes are UTF-8 (a character cut by the limit is
/// dropped whole), else base64; and the bytes dropped.
fn encode(captured: &Captured) -> (String, &'static str, u64) {
    let bytes = &captured.bytes;
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf-8", captured.dropped),
        Err(e) if e.error_len().is_none() && captured.dropped > 0 => {
            let valid = e.valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            (
                text,
                "utf-8",
                captured.dropped + (bytes.len() - valid) as u64,
            )
        }
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            "base64",
            captured.dropped,
        ),
    }
}

fn stream(value: &mut Value, name: &str, captured: &Captured) {
    let (text, encoding, dropped) = encode(captured);
    value[name] = json!(text);
    value[format!("{name}_encoding")] = json!(encoding);
    value[format!("{name}_dropped_bytes")] = json!(dropped);
}
