//! The tools of commands that outlast a tool call: `exec` hands a run back
//! after `wait_seconds` (below every client's tool timeout), `run_output`
//! follows it from where the agent's last answer stopped, `run_stop` ends
//! it and `runs` lists them. Each is one CLI command (`exec --wait`,
//! `attach --wait --stdout-offset --stderr-offset`, `runs --stop`, `runs`).
//!
//! The server remembers, per run, the next byte of each stream it has not
//! answered yet, and a run's ending once an answer told it: so a second
//! `run_output` repeats nothing, a link that dropped between two calls
//! changes nothing, and an ended run answers the same again. docs/mcp.md
//! ("Long commands") has the rules and each client's limits.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, RequestMetaObject};
use rmcp::{Peer, RoleServer, tool, tool_router};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::args::{ExecArgs, RunArgs, RunOutputArgs};
use super::child::{Call, Outcome};
use super::results::{encode, failure, refusal, spawn_failed, too_big};
use super::server::{Server, progress};
use super::{EXEC_KEEP, EXEC_TIMEOUT_MAX};
use crate::error::Error;
use crate::remote::runs::valid_id;

/// Where the agent stands in a run: the next byte of each stream no answer
/// has given yet, and the run's ending once an answer told it.
#[derive(Debug, Default, Clone)]
pub(super) struct Mark {
    out: u64,
    err: u64,
    ended: Option<Value>,
}

/// The marks of the runs this server has answered about.
#[derive(Debug, Default)]
pub(super) struct Marks(Mutex<HashMap<String, Mark>>);

impl Marks {
    fn get(&self, run_id: &str) -> Option<Mark> {
        self.0.lock().ok()?.get(run_id).cloned()
    }

    fn set(&self, run_id: &str, mark: Mark) {
        if let Ok(mut marks) = self.0.lock() {
            // A long session's marks stay few: the oldest ended go first.
            if marks.len() >= 1000 {
                marks.retain(|_, m| m.ended.is_none());
            }
            marks.insert(run_id.to_owned(), mark);
        }
    }
}

/// The wait of `exec` and `run_output` when the call names none
/// (`RUNCODE_MCP_WAIT_SECS`, 120 s by default).
fn default_wait() -> u64 {
    crate::tuning::MCP_WAIT.get().as_secs()
}

/// The longest wait a call may name: past this no client we know waits.
const WAIT_MAX: u64 = 3600;

/// A run id as the CLI makes them; anything else is refused before
/// anything reaches the workspace.
fn refused_id(run_id: &str) -> Option<CallToolResult> {
    if valid_id(run_id) {
        return None;
    }
    Some(refusal(&Error::Usage(format!(
        "{:?} is not a run id: use the run_id an exec answer or `runs` gave",
        crate::text::clean(&run_id.chars().take(80).collect::<String>(), false)
    ))))
}

/// The answer about a run from what the CLI told (`Output::details`) and
/// printed: the run's id and state, each stream's new bytes, where they
/// start and where the next answer goes on. Bytes the answer had no room
/// for, or that the workspace no longer kept, are counted in
/// `<stream>_dropped_bytes`.
fn answer(outcome: &Outcome, told: &Value) -> Value {
    let mut value = json!({
        "run_id": told["run_id"],
        "running": told["running"],
    });
    for (name, captured) in [("stdout", &outcome.stdout), ("stderr", &outcome.stderr)] {
        let (text, encoding, dropped) = encode(captured);
        let skipped = told[format!("{name}_skipped_bytes")].as_u64().unwrap_or(0);
        value[name] = json!(text);
        value[format!("{name}_encoding")] = json!(encoding);
        value[format!("{name}_dropped_bytes")] = json!(dropped + skipped);
        value[format!("{name}_offset")] = told[format!("{name}_offset")].clone();
        value[format!("next_{name}_offset")] = told[format!("{name}_next_offset")].clone();
    }
    if told["running"] == json!(false) {
        value["exit_status"] = told["exit_status"].clone();
        value["ended"] = told["ended"].clone();
    } else {
        value["hint"] = json!(
            "still running on the workspace: tell the user what it is doing, then call run_output with this run_id to go on (run_stop ends it)"
        );
    }
    value
}

impl Server {
    /// What a run's call came to, as a tool answer, its mark kept.
    fn run_answer(&self, outcome: &Outcome, timeout: Option<u64>) -> CallToolResult {
        if let (true, Some(seconds)) = (outcome.timed_out, timeout) {
            // The CLI itself was stuck past the command's timeout.
            return refusal(&Error::Timeout { seconds });
        }
        let Some(told) = outcome
            .result
            .as_ref()
            .filter(|r| r.get("run_id").is_some())
        else {
            // Nothing ran (not attached, a refused id, no such run).
            return match failure(outcome) {
                Some(f) => CallToolResult::structured_error(f),
                None => CallToolResult::structured_error(
                    Error::Usage("the run gave no answer".to_owned()).to_json(),
                ),
            };
        };
        let mut value = answer(outcome, told);
        let run_id = told["run_id"].as_str().unwrap_or_default().to_owned();
        let ended = told["running"] == json!(false);
        self.marks.set(
            &run_id,
            Mark {
                out: told["stdout_next_offset"].as_u64().unwrap_or(0),
                err: told["stderr_next_offset"].as_u64().unwrap_or(0),
                ended: ended
                    .then(|| json!({"exit_status": told["exit_status"], "ended": told["ended"]})),
            },
        );
        if let (Some(seconds), true) = (timeout, told["ended"] == json!("timeout")) {
            let failure = Error::Timeout { seconds }.to_json();
            value["error"] = failure["error"].clone();
            value["message"] = failure["message"].clone();
            return CallToolResult::structured_error(value);
        }
        match told.get("error").and_then(Value::as_str) {
            // Still running is the hand-back, not a failure.
            None | Some("still_running") => CallToolResult::structured(value),
            Some(_) => {
                // The link dropped for good, Ctrl-C: what came, and why.
                value["error"] = told["error"].clone();
                value["message"] = told["message"].clone();
                CallToolResult::structured_error(value)
            }
        }
    }
}

#[tool_router(router = runs_router, vis = "pub(super)")]
impl Server {
    #[tool(
        description = "Run a shell command on the attached workspace, in its project directory. Waits up to `wait_seconds` (default 120, below every client's tool timeout): a command that ends by then returns exit_status, stdout and stderr; one still running returns `running: true`, its `run_id` and the output so far, and goes on running: follow it with run_output until `running` is false. Each stream is cut after 32 KiB per answer, with the count of bytes dropped (binary output comes as base64, marked by stdout_encoding). `timeout_seconds` (default 600) ends the command on the workspace, as does a cancellation while waiting. It is never run twice.",
        annotations(
            title = "Run a command on the workspace",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = true
        )
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
        let wait = a
            .wait_seconds
            .unwrap_or_else(default_wait)
            .clamp(1, WAIT_MAX);
        let (timeout, wait_text) = (seconds.to_string(), wait.to_string());
        let mut args = vec!["exec", "--timeout", &timeout];
        // A wait as long as the timeout is no wait: the command's end
        // (its own, or the timeout's) comes first.
        if wait < seconds {
            args.extend(["--wait", &wait_text]);
        }
        if a.home {
            args.push("--home");
        }
        let names = a.secrets.join(",");
        if !a.secrets.is_empty() {
            args.extend(["--secret", &names]);
        }
        args.extend(["--", &a.command]);
        let call = Call {
            stdin: Some(stdin),
            keep: EXEC_KEEP,
            // The workspace ends the command at its timeout; this only
            // ends a call whose CLI is stuck well past it.
            timeout: Some(Duration::from_secs(seconds + 60)),
            ..Call::new(&args)
        };
        match self.runner.run(call, ct, progress(&meta, peer)).await {
            Ok(outcome) => self.run_answer(&outcome, Some(seconds)),
            Err(e) => spawn_failed(e),
        }
    }

    #[tool(
        description = "Go on with a run that exec handed back (`running: true`): waits up to `wait_seconds` (default 120) for more output or the end, and returns only the output no earlier answer about this run returned, with `running`, and once it ended `exit_status` and `ended` (exit, timeout or interrupted). Asking again about an ended run gives the same ending. `stdout_offset` / `stderr_offset` re-read from an earlier byte (the workspace keeps the last 64 MiB of each stream).",
        annotations(
            title = "Follow a run",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn run_output(
        &self,
        Parameters(a): Parameters<RunOutputArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = refused_id(&a.run_id) {
            return refused;
        }
        let mark = self.marks.get(&a.run_id).unwrap_or_default();
        let (out, err) = (
            a.stdout_offset.unwrap_or(mark.out),
            a.stderr_offset.unwrap_or(mark.err),
        );
        if let Some(ended) = mark
            .ended
            .as_ref()
            .filter(|_| (out, err) == (mark.out, mark.err))
        {
            // Everything was answered already: the same ending again.
            let mut value = json!({"run_id": a.run_id, "running": false});
            for name in ["stdout", "stderr"] {
                value[name] = json!("");
                value[format!("{name}_encoding")] = json!("utf-8");
                value[format!("{name}_dropped_bytes")] = json!(0);
            }
            value["stdout_offset"] = json!(out);
            value["next_stdout_offset"] = json!(out);
            value["stderr_offset"] = json!(err);
            value["next_stderr_offset"] = json!(err);
            value["exit_status"] = ended["exit_status"].clone();
            value["ended"] = ended["ended"].clone();
            return CallToolResult::structured(value);
        }
        let wait = a
            .wait_seconds
            .unwrap_or_else(default_wait)
            .clamp(1, WAIT_MAX);
        let (wait_text, out_text, err_text) = (wait.to_string(), out.to_string(), err.to_string());
        let args = [
            "attach",
            "--wait",
            &wait_text,
            "--stdout-offset",
            &out_text,
            "--stderr-offset",
            &err_text,
            "--",
            &a.run_id,
        ];
        let call = Call {
            keep: EXEC_KEEP,
            ..Call::new(&args)
        };
        // A cancellation stops the following, never the run: `attach`'s
        // own Ctrl-C would end it, so the call is left to its wait.
        let _ = ct;
        match self
            .runner
            .run(call, CancellationToken::new(), progress(&meta, peer))
            .await
        {
            Ok(outcome) => self.run_answer(&outcome, None),
            Err(e) => spawn_failed(e),
        }
    }

    #[tool(
        description = "End a run on the workspace: its command and every process it started. Returns its exit status.",
        annotations(
            title = "Stop a run",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn run_stop(
        &self,
        Parameters(a): Parameters<RunArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = refused_id(&a.run_id) {
            return refused;
        }
        self.simple(&["runs", "--stop", &a.run_id], ct).await
    }

    #[tool(
        description = "List the runs recorded on the attached workspace, newest first: run_id, the command's first line, when it started, and whether it is running or ended (with its exit status).",
        annotations(
            title = "List runs",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn runs(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["runs"], ct).await
    }
}
