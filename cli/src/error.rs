//! The CLI's one error type. Each variant carries what failed; `code` gives
//! its stable code and `exit_status` the process exit status. The codes are
//! one table (`codes!` below): `Code::ALL`, the README's table and
//! docs/errors.md are all made from it, and a tidy test checks the docs.

use std::path::PathBuf;

/// Declares the stable codes once: the enum, the list, the exit status and
/// the one-line meaning printed in the docs.
macro_rules! codes {
    ($($variant:ident = $name:literal, $exit:literal, $meaning:literal;)*) => {
        /// A stable error code (docs/errors.md). Never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            pub fn exit_status(self) -> i32 {
                match self { $(Code::$variant => $exit,)* }
            }

            /// What it means and what to do, for the docs.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    NoToken = "no_token", 1, "not logged in: `runcode login`, `RUNCODE_TOKEN`, or `--token`";
    Unauthorized = "unauthorized", 2, "the token was refused (401): log in again";
    Forbidden = "forbidden", 2, "not allowed (403)";
    NotFound = "not_found", 2, "no such workspace (404, or no name matched), or no such remote file: `runcode list --all`";
    Conflict = "conflict", 2, "the workspace is not running or not SSH-capable (409): `connect --start`";
    RateLimited = "rate_limited", 2, "too many requests (429): wait and retry";
    Unavailable = "unavailable", 2, "the control plane is unavailable (503); on the session endpoint, SSH is not enabled there yet";
    BadRequest = "bad_request", 2, "the server rejected the request (400)";
    HttpError = "http_error", 2, "any other HTTP failure, a 2xx body that is not JSON, or a 2xx that says `\"error\": true`";
    Network = "network", 2, "no connection, DNS, TLS or timeout (20 s per request)";
    NetworkBlocked = "network_blocked", 2, "this process may not open network sockets, loopback included: an agent's sandbox refused it (not an outage). Use the runcode MCP tools, whose server runs outside the sandbox, or allow network in the sandbox (Codex: `network_access = true` under `[sandbox_workspace_write]`)";
    InsecureBase = "insecure_base", 2, "a base or redirect that is not `https://` (or `http://` to loopback), or an API redirect to another scheme, host or port (the token goes to the API's origin only); refused before any request";
    UnsafeBundle = "unsafe_bundle", 2, "the session bundle broke a rule of docs/security.md: the server is broken or hostile";
    StartFailed = "start_failed", 2, "the server refused to power the workspace on (its message says why)";
    StopFailed = "stop_failed", 2, "the server refused to power the workspace off (its message says why)";
    NotReady = "not_ready", 2, "the workspace did not reach `running`, or ssh did not answer, within `--timeout`";
    NotAttached = "not_attached", 1, "nothing attached: `runcode connect <ws>`";
    SshMissing = "ssh_missing", 1, "the OpenSSH client is not on PATH";
    SshFailed = "ssh_failed", 255, "ssh itself failed (its status 255): it could not connect even with a fresh session, or the connection dropped while the command ran, which is never re-run: check the workspace before running it again";
    Usage = "usage", 2, "a usage error (also: a name that matches several workspaces)";
    Io = "io", 1, "a local file could not be read or written, or a local program could not be started";
    Internal = "internal", 1, "runcode could not encode a value or make a key (a bug or a broken OS random source): please report it";
    LoginFailed = "login_failed", 1, "the browser login timed out, came back without a token, or with another `state`";
    Interrupted = "interrupted", 130, "Ctrl-C: the command stopped, its remote command was ended, nothing was left half-written";
    Disconnected = "disconnected", 255, "the connection dropped while a command ran and the workspace could not be reached again within 5 minutes; the command may still be running there: `runcode runs`, then `runcode attach <run-id>`";
    LeftUntouched = "left_untouched", 1, "a file another program owns (`~/.ssh/config`, Claude Code's settings.json, Codex's config.toml) is in a state runcode will not rewrite (not UTF-8, not JSON, broken runcode markers, the user's own setting): it was left exactly as it was; the message says what to fix by hand";
    ChangedSinceRead = "changed_since_read", 1, "an `edit_file` found the file changed on the workspace since it was read, and left it as it is: read it again and redo the edit";
    ProgramMissing = "program_missing", 1, "a local program runcode starts (an editor, the browser opener) is not on PATH: install it, or run the printed command yourself";
    TransferFailed = "transfer_failed", 1, "a `put`, `get` or `write` failed on the workspace side (its remote status is in the message); nothing was left at the destination";
    LocalPathRefused = "local_path_refused", 2, "an MCP `put` or `get` named a local path outside the places the agent works in (the client's roots, else the server's folder), or one of runcode's, ssh's, the shell's or an agent client's own files: nothing was read or written. `RUNCODE_MCP_ROOTS` widens the places; the CLI's own `put` and `get` are not limited";
    RunDisputed = "run_disputed", 2, "the workspace answered that a run never started when it had (it printed output, or the mark was not runcode's), or a command had to be started again too often: nothing was started again. A hostile or broken workspace; check it before running the command again";
    OversizedAnswer = "oversized_answer", 2, "the workspace answered one of runcode's own questions (a probe, the run listing, a written file's path) with more than 1 MiB: a broken or hostile workspace (a shell that prints at every start, say); runcode stopped reading and acted on none of it";
    NotReplaced = "not_replaced", 1, "a `put`, `get` or `write` would have replaced a folder with a file or a file with a folder (or written into a folder): nothing was changed; pick another destination, or pass `--replace` to mean it";
    StillRunning = "still_running", 75, "`attach --wait` or `exec --wait` ran out before the run ended (an `exec --detach` run, an MCP exec handed back): every byte so far was printed, the run goes on, and the failure object names it (`run_id`, `stdout_next_offset`, `stderr_next_offset`); `runcode attach <run-id>` with those offsets follows it (75 is EX_TEMPFAIL: try again)";
    SecretRefused = "secret_refused", 2, "a secret's name is not an environment variable name or is one that changes how a shell or the loader starts (`PATH`, `LD_*`, `BASH_ENV`...: docs/security.md lists them), or its value is shorter than 8 bytes, longer than 64 KiB or holds a NUL: nothing was stored or sent";
    SecretMissing = "secret_missing", 2, "a command named a secret that the attached workspace may not use (none of that name was set, or it is another workspace's): nothing was sent or run. Ask the user to run `runcode secret set NAME` in a terminal (the value never goes through the agent); `runcode secret list` shows the names";
    Timeout = "timeout", 124, "an `exec` tool call of `runcode mcp` ran past its `timeout_seconds`: the command was ended on the workspace, whether or not the call still waited for it (the CLI's `exec --timeout` ends it the same way and exits 124)";
}

/// How to get the OpenSSH client, in this OS's words (the `ssh_missing`
/// message and doctor's ssh check).
pub const SSH_HINT: &str = if cfg!(windows) {
    "ssh.exe is not on PATH: add Windows' OpenSSH Client (Settings > System > Optional features), then open a new terminal"
} else if cfg!(target_os = "macos") {
    "ssh is not on PATH: macOS ships it in /usr/bin; put /usr/bin back on PATH"
} else {
    "ssh is not on PATH: install the OpenSSH client (Debian/Ubuntu: `sudo apt-get install openssh-client`)"
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not logged in: run `runcode login`, set RUNCODE_TOKEN, or pass --token")]
    NoToken,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// The server said 404.
    #[error("{0}")]
    NotFound(String),
    #[error("no workspace #{id} on this account; `runcode list --all` shows them")]
    NoWorkspaceId { id: u64 },
    #[error("no workspace is called {name:?}{hint}; `runcode list --all` shows them")]
    NoWorkspaceNamed { name: String, hint: String },
    #[error("no readable file or directory at {path} on the workspace")]
    NoRemoteFile { path: String },
    #[error("no run {run_id} on the workspace; `runcode runs` lists them")]
    NoRun { run_id: String },
    #[error("no forward of port {port} to cancel; `runcode forward --list` shows them")]
    NoForward { port: u16 },
    /// The server said 409.
    #[error("{0}")]
    Conflict(String),
    #[error("workspace #{id} ({name}) cannot be reached over SSH")]
    NotSshCapable { id: u64, name: String },
    #[error("workspace #{id} is {state}; run again with --start to power it on")]
    NotRunning { id: u64, state: String },
    #[error("could not forward localhost:{local} ({why}); try another --local port")]
    ForwardRefused { local: u16, why: String },
    #[error("{path} {what}; {fix}")]
    NotOurs {
        path: PathBuf,
        what: String,
        fix: &'static str,
    },
    #[error("{0}")]
    RateLimited(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Network(String),
    #[error("{0}")]
    NetworkBlocked(String),
    #[error(
        "refusing {url}: use https://, or http:// only to localhost or 127.0.0.1 (the token would travel in clear text)"
    )]
    InsecureBase { url: String },
    #[error(
        "the API redirected to {url}, which is not its own origin {origin}; refused, so the token is sent nowhere else"
    )]
    OtherOrigin { url: String, origin: String },
    #[error("the server sent an unsafe session bundle ({0}); refusing to connect")]
    UnsafeBundle(String),
    #[error("could not start the workspace: {0}")]
    StartFailed(String),
    #[error("could not stop the workspace: {0}")]
    StopFailed(String),
    #[error("workspace #{id} is still {state} after {waited} s; try again with a longer --timeout")]
    StillStarting { id: u64, state: String, waited: u64 },
    #[error(
        "ssh to #{id} did not answer within {waited} s; try `runcode connect` again in a minute"
    )]
    NotAnswering { id: u64, waited: u64 },
    #[error("the probe did not finish within {timeout} s; try --timeout")]
    ProbeTimeout { timeout: u64 },
    #[error("no workspace is attached: run `runcode connect <workspace>` first")]
    NotAttached,
    #[error("{}", SSH_HINT)]
    SshMissing,
    /// ssh could not connect to workspace `id`, even with a fresh session.
    #[error("ssh could not connect to workspace #{id} ({reason}); {next}")]
    SshUnreachable {
        id: u64,
        reason: String,
        next: &'static str,
    },
    /// The connection dropped after the remote command may have started.
    #[error(
        "ssh to workspace #{id} ended with status 255 after the command started{reason}: the connection dropped, or the command itself exited 255; it was not run again: check the workspace before re-running it"
    )]
    SshDropped { id: u64, reason: String },
    /// A run's link dropped and its command was ended on the workspace
    /// (a reboot, a kill) before it finished.
    #[error(
        "the connection to workspace #{id} dropped, and run {run_id} was ended on the workspace before it finished; it was not run again: check the workspace before re-running it"
    )]
    RunLost { id: u64, run_id: String },
    /// The workspace could not be reached again within the bound while a
    /// run was going.
    #[error(
        "lost the connection to workspace #{id} during run {run_id} and could not reach it again in {waited} s; the command may still be running there: `runcode runs` lists it, `runcode attach {run_id}` picks it up"
    )]
    Disconnected {
        id: u64,
        run_id: String,
        waited: u64,
    },
    /// The workspace's account of a run cannot be true, or would start it
    /// too often.
    #[error(
        "workspace #{id} says run {run_id} never started, but {why}; nothing was started again: check the workspace before running the command again"
    )]
    RunDisputed {
        id: u64,
        run_id: String,
        why: String,
    },
    /// The workspace said more than `remote::ANSWER_LIMIT` in answer to
    /// one of runcode's own scripts.
    #[error(
        "workspace #{id} answered with more than 1 MiB where runcode's own script prints a line; runcode stopped reading: check the workspace's shell start-up files"
    )]
    OversizedAnswer { id: u64 },
    /// A copy would have replaced a folder with a file, or the other way.
    #[error(
        "{path} is a folder where a file would go, or a file where a folder would go; nothing was replaced: choose another destination, or pass --replace to replace it"
    )]
    NotReplaced { path: String },
    /// `attach --wait` ran out of time before the run ended.
    #[error(
        "run {run_id} is still running after {waited} s; it goes on: `runcode attach {run_id}` follows it again"
    )]
    StillRunning { run_id: String, waited: u64 },
    /// ssh (or another local program) could not be started.
    #[error("could not start {program}: {source}")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A value could not be encoded as JSON.
    #[error("could not encode {what}: {source}")]
    Encode {
        what: &'static str,
        source: serde_json::Error,
    },
    /// The ed25519 key could not be made or written out.
    #[error("could not make an ed25519 key: {detail}")]
    KeyGen { detail: String },
    #[error("login failed: {0}")]
    LoginFailed(String),
    #[error("interrupted (Ctrl-C): stopped, with nothing left running or half-written")]
    Interrupted,
    #[error("{path} {why}; it was left untouched: fix it by hand")]
    LeftUntouched { path: PathBuf, why: String },
    #[error(
        "{path} changed on the workspace since it was read, so it was left as it is; read it again and redo the edit"
    )]
    ChangedSinceRead { path: String },
    #[error(
        "the local path {path:?} is refused: {why}; this agent's put and get work under: {allowed} (RUNCODE_MCP_ROOTS widens that; `runcode put`/`get` typed in a terminal are not limited)"
    )]
    LocalPathRefused {
        path: String,
        why: String,
        allowed: String,
    },
    #[error("{program} is not on PATH: {hint}")]
    ProgramMissing { program: String, hint: String },
    #[error(
        "the transfer of {path} failed (remote status {status}); nothing was left at the destination"
    )]
    TransferFailed { path: String, status: i32 },
    #[error("secret refused: {0}")]
    SecretRefused(String),
    #[error(
        "no secret {name} for workspace #{ws}{}: ask the user to run `runcode secret set {name}{}` in a terminal; the value never goes through the agent",
        if *elsewhere { " (one of that name is kept for another workspace)" } else { "" },
        if *elsewhere { format!(" --workspace {ws}") } else { String::new() }
    )]
    SecretMissing {
        name: String,
        ws: u64,
        elsewhere: bool,
    },
    #[error(
        "the command ran past its timeout of {seconds} s and was ended on the workspace; raise timeout_seconds, or start it detached and poll"
    )]
    Timeout { seconds: u64 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The failure object every `--json` failure and every failed MCP tool
/// call carries: `{"error": <code>, "message": <text>}`, the message cleaned
/// of control characters (it may quote what a server sent).
pub fn failure_object(code: Code, message: &str) -> serde_json::Value {
    serde_json::json!({
        "error": code.as_str(),
        "message": crate::text::clean(message, false),
    })
}

impl Error {
    /// `SshUnreachable`, with what to do next for that `reason`: a refused
    /// key is the control plane's and the gateway's affair, not this
    /// machine's setup.
    pub fn unreachable(id: u64, reason: String) -> Error {
        let next = if reason.contains("Permission denied") {
            "the gateway refused even a newly issued key: wait a minute and connect again, or report it if it persists"
        } else {
            "`runcode doctor` checks this machine's setup"
        };
        Error::SshUnreachable { id, reason, next }
    }

    /// This error as its failure object.
    pub fn to_json(&self) -> serde_json::Value {
        failure_object(self.code(), &self.to_string())
    }

    pub fn code(&self) -> Code {
        match self {
            Error::NoToken => Code::NoToken,
            Error::Unauthorized(_) => Code::Unauthorized,
            Error::Forbidden(_) => Code::Forbidden,
            Error::NotFound(_)
            | Error::NoWorkspaceId { .. }
            | Error::NoWorkspaceNamed { .. }
            | Error::NoRemoteFile { .. }
            | Error::NoForward { .. }
            | Error::NoRun { .. } => Code::NotFound,
            Error::Conflict(_)
            | Error::NotSshCapable { .. }
            | Error::NotRunning { .. }
            | Error::ForwardRefused { .. }
            | Error::NotOurs { .. } => Code::Conflict,
            Error::RateLimited(_) => Code::RateLimited,
            Error::Unavailable(_) => Code::Unavailable,
            Error::BadRequest(_) => Code::BadRequest,
            Error::Http(_) => Code::HttpError,
            Error::Network(_) => Code::Network,
            Error::NetworkBlocked(_) => Code::NetworkBlocked,
            Error::InsecureBase { .. } | Error::OtherOrigin { .. } => Code::InsecureBase,
            Error::UnsafeBundle(_) => Code::UnsafeBundle,
            Error::StartFailed(_) => Code::StartFailed,
            Error::StopFailed(_) => Code::StopFailed,
            Error::StillStarting { .. }
            | Error::NotAnswering { .. }
            | Error::ProbeTimeout { .. } => Code::NotReady,
            Error::NotAttached => Code::NotAttached,
            Error::SshMissing => Code::SshMissing,
            Error::SshUnreachable { .. } | Error::SshDropped { .. } | Error::RunLost { .. } => {
                Code::SshFailed
            }
            Error::Disconnected { .. } => Code::Disconnected,
            Error::Usage(_) => Code::Usage,
            Error::Io { .. } | Error::Spawn { .. } => Code::Io,
            Error::Encode { .. } | Error::KeyGen { .. } => Code::Internal,
            Error::LoginFailed(_) => Code::LoginFailed,
            Error::Interrupted => Code::Interrupted,
            Error::Timeout { .. } => Code::Timeout,
            Error::RunDisputed { .. } => Code::RunDisputed,
            Error::OversizedAnswer { .. } => Code::OversizedAnswer,
            Error::NotReplaced { .. } => Code::NotReplaced,
            Error::StillRunning { .. } => Code::StillRunning,
            Error::LeftUntouched { .. } => Code::LeftUntouched,
            Error::ChangedSinceRead { .. } => Code::ChangedSinceRead,
            Error::ProgramMissing { .. } => Code::ProgramMissing,
            Error::TransferFailed { .. } => Code::TransferFailed,
            Error::LocalPathRefused { .. } => Code::LocalPathRefused,
            Error::SecretRefused(_) => Code::SecretRefused,
            Error::SecretMissing { .. } => Code::SecretMissing,
        }
    }

    /// The process exit status: the code's (docs/errors.md).
    pub fn exit_status(&self) -> i32 {
        self.code().exit_status()
    }

    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub fn encode(what: &'static str) -> impl FnOnce(serde_json::Error) -> Error {
        move |source| Error::Encode { what, source }
    }

    /// A program that could not be started: `ssh_missing` when it is ssh
    /// and not installed.
    pub fn spawn(program: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| {
            if program == "ssh" && source.kind() == std::io::ErrorKind::NotFound {
                Error::SshMissing
            } else {
                Error::Spawn { program, source }
            }
        }
    }
}

/// The codes as the Markdown table the README and docs/errors.md carry.
pub fn codes_table() -> String {
    let mut table =
        String::from("| code | exit | meaning, and what to do |\n| --- | --- | --- |\n");
    for code in Code::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.exit_status(),
            code.meaning()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_unique_snake_case_and_exit_non_zero() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let name = code.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
            assert_ne!(code.exit_status(), 0, "{name}");
        }
    }
}
