//! The tools: each one turns its arguments into one run of this CLI (with
//! the command's `--json`), and its result into the tool's answer.

use base64::Engine as _;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, RequestMetaObject};
use rmcp::{Peer, RoleServer, tool, tool_router};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::args::{
    ContextArgs, DisconnectArgs, ForwardAction, ForwardArgs, GetArgs, ListArgs, PutArgs, ReadArgs,
    WorkspaceArgs, WriteArgs,
};
use super::child::Call;
use super::results::{encode, failure, local_in_plugin, refusal, spawn_failed, too_big};
use super::server::{Server, local_roots, progress};
use crate::error::Error;

#[tool_router(vis = "pub(super)")]
impl Server {
    #[tool(
        description = "List the user's RunCode workspaces: id, title, state, and whether SSH works.",
        annotations(
            title = "List workspaces",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
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
        description = "Attach a workspace so the other tools act on it: powers it on if stopped, waits until SSH answers (a boot can take minutes; progress is reported), and returns its ssh alias and project directory (`workdir`).",
        annotations(
            title = "Attach a workspace",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
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

    #[tool(
        description = "Which workspace is attached, and how long its session has left.",
        annotations(
            title = "Attached workspace",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn current(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["current"], ct).await
    }

    #[tool(
        description = "The names of the secrets the user kept for commands on the attached workspace (`runcode secret set`), never their values: pass names to exec's `secrets` to put them in the command's environment. Ask the user to keep one when a command needs a credential; never ask for the value in the chat. Every value listed is shown as `[secret:NAME]` wherever it appears in this server's answers.",
        annotations(
            title = "List secret names",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn secrets(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["secret", "list", "--attached"], ct).await
    }

    #[tool(
        description = "A one-round-trip digest of the workspace to read before working: OS, project markers, git branch and state, tools.",
        annotations(
            title = "Workspace digest",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
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
        description = "Read a file on the attached workspace. With `offset` and/or `limit` (lines; default 2000 lines) it returns numbered lines (`<n>\\t<line>`, as `cat -n`), `total_lines` and `next_offset` to page on. Without them it returns the content as it is (text, or base64 when binary, marked by `encoding`), cut after 64 KiB with `dropped_bytes`; use `get` for big files and directories.",
        annotations(
            title = "Read a workspace file",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn read_file(
        &self,
        Parameters(a): Parameters<ReadArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if a.offset.is_some() || a.limit.is_some() {
            let limit = a.limit.unwrap_or(super::editing::PAGE_LINES);
            return self
                .read_lines(&a.path, a.offset.unwrap_or(1), limit, ct)
                .await;
        }
        let call = Call::new(&["get", "--", &a.path]);
        let outcome = match self.runner.run(call, ct, |_| {}).await {
            Ok(outcome) => outcome,
            Err(e) => return spawn_failed(e),
        };
        if let Some(failure) = failure(&outcome) {
            return CallToolResult::structured_error(failure);
        }
        let (content, encoding, dropped) = encode(&outcome.stdout);
        let mut value = json!({
            "path": a.path,
            "content": content,
            "encoding": encoding,
            "bytes": outcome.stdout.bytes.len() as u64 + outcome.stdout.dropped,
            "dropped_bytes": dropped,
        });
        if dropped > 0 {
            value["hint"] = json!(
                "the file is longer than one answer: read it by lines with offset and limit (next_offset says where to go on), or copy it with get"
            );
        }
        CallToolResult::structured(value)
    }

    #[tool(
        description = "Create or replace a file on the attached workspace with the given content, atomically (a failure leaves the old file as it was). Content is text, or base64 with `base64: true`; at most 8 MiB (use `put` for more).",
        annotations(
            title = "Write a workspace file",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
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
        description = "Copy a file or directory from this machine to the attached workspace (atomically: nothing half-written on failure). A long copy reports its progress when the call carries a progress token.",
        annotations(
            title = "Copy to the workspace",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn put(
        &self,
        Parameters(a): Parameters<PutArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = local_in_plugin(&a.local) {
            return refused;
        }
        let roots = local_roots(&peer, &meta).await;
        let local = match self.local.check(&roots, &a.local, None) {
            Ok(path) => path.display().to_string(),
            Err(e) => return refusal(&e),
        };
        let call = Call::new(&["put", "--", &local, &a.remote]);
        self.plain(call, ct, progress(&meta, peer)).await
    }

    #[tool(
        description = "Copy a file or directory from the attached workspace to this machine (atomically: nothing half-written on failure). A long copy reports its progress when the call carries a progress token.",
        annotations(
            title = "Copy from the workspace",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn get(
        &self,
        Parameters(a): Parameters<GetArgs>,
        meta: RequestMetaObject,
        peer: Peer<RoleServer>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if let Some(refused) = local_in_plugin(&a.local) {
            return refused;
        }
        let roots = local_roots(&peer, &meta).await;
        let local = match self.local.check(&roots, &a.local, Some(&a.remote)) {
            Ok(path) => path.display().to_string(),
            Err(e) => return refusal(&e),
        };
        let call = Call::new(&["get", "--out", &local, "--", &a.remote]);
        self.plain(call, ct, progress(&meta, peer)).await
    }

    #[tool(
        description = "Forward a workspace port to localhost on this machine through the session (`add`, the default), show the forwards (`list`), or remove one (`cancel`). Start the server on the workspace first, detached.",
        annotations(
            title = "Forward a port",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
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
        description = "Detach the workspace and drop its cached session. Never powers anything off: the workspace keeps running.",
        annotations(
            title = "Detach the workspace",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
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
        description = "Check this machine's setup: the OpenSSH client, the login token, the control plane, the status line and ssh config wiring. Each check that is not ok says how to fix it.",
        annotations(
            title = "Check the setup",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn doctor(&self, ct: CancellationToken) -> CallToolResult {
        self.simple(&["doctor"], ct).await
    }
}
