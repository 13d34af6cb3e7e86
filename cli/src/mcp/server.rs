//! The server itself: its boot on stdio (a current-thread runtime, a
//! private directory for the calls' files), its instructions, and the two
//! ways a tool hands a call to the CLI and shapes the answer.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CallToolResult, Implementation, ProgressNotificationParam, RequestMetaObject,
    ServerCapabilities, ServerConfig,
};
use rmcp::{Peer, RoleServer, ServerHandler, ServiceExt, tool_handler};
use tokio_util::sync::CancellationToken;

use super::child::{self, Call, Runner};
use super::results::{plain_result, spawn_failed};
use crate::ctx::Ctx;
use crate::error::{Error, Result};

const INSTRUCTIONS: &str = "Tools for the user's RunCode cloud workspace. \
Your own shell and file tools act on THIS machine; these act on the workspace. \
Start with `list`, then `connect` (it powers a stopped workspace on and waits \
until SSH answers), then `context`. `exec`, `read_file`, `edit_file`, `write_file`, \
`search`, `list_files`, `put`, `get` and `forward` act on the attached workspace; \
relative remote paths are under its project directory. Edit files there as you \
would locally: `read_file` with `offset`/`limit` for numbered lines, `edit_file` \
for an exact, unique replacement. `exec` hands a command still running after \
`wait_seconds` back with `running: true` and a `run_id`: tell the user, then call \
`run_output` with it until `running` is false; never run it again. \
A failed call returns {\"error\": code, \"message\"}: \
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
        local: Arc::new(super::local::Rule::new(&ctx.paths)),
        marks: Arc::default(),
        tool_router: Server::every_tool(),
        paths: Arc::new(ctx.paths.clone()),
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
        // Clients stop a server by closing stdin, then with SIGTERM: both
        // end the calls that still run as a cancellation does.
        let token = service.cancellation_token();
        tokio::spawn(async move {
            terminated().await;
            token.cancel();
        });
        service.waiting().await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    });
    // Calls still running are interrupted as their tasks are dropped here.
    // After SIGTERM the thread reading stdin may still be blocked in its
    // read: do not wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    let _ = std::fs::remove_dir_all(&dir);
    match outcome {
        Ok(()) => Ok(0),
        Err(e) => {
            ctx.out.progress(&format!("runcode mcp: {e}"));
            Ok(1)
        }
    }
}

/// Resolves at SIGTERM (never on Windows, where clients end a server by
/// closing its stdin or killing it).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}

#[derive(Clone)]
pub(super) struct Server {
    pub(super) runner: Arc<Runner>,
    /// Which local paths `put` and `get` may touch.
    pub(super) local: Arc<super::local::Rule>,
    /// Where the agent stands in each run it followed.
    pub(super) marks: Arc<super::runs::Marks>,
    /// Every tool, built once: the handler dispatches through it.
    tool_router: ToolRouter<Server>,
    /// Where the secrets to hide in every answer are kept.
    paths: Arc<crate::paths::Paths>,
}

impl Server {
    /// Every tool: the workspace tools and the editing ones.
    pub(super) fn every_tool() -> ToolRouter<Server> {
        Server::tool_router() + Server::editing_router() + Server::runs_router()
    }

    /// A command whose whole answer is its result object.
    pub(super) async fn simple(&self, args: &[&str], ct: CancellationToken) -> CallToolResult {
        self.plain(Call::new(args), ct, |_| {}).await
    }

    /// A call whose answer is its result object; `lines` gets its progress.
    pub(super) async fn plain(
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

/// The folders the client says the user works in (MCP roots), when it
/// declares them and answers within 5 s; none otherwise.
#[allow(deprecated)] // roots are deprecated by a newer MCP revision, still what clients send
async fn client_roots(peer: &Peer<RoleServer>) -> Vec<std::path::PathBuf> {
    let declared = peer
        .peer_info()
        .is_some_and(|info| info.capabilities.roots.is_some());
    if !declared {
        return Vec::new();
    }
    let asked = tokio::time::timeout(std::time::Duration::from_secs(5), peer.list_roots()).await;
    let Ok(Ok(listed)) = asked else {
        return Vec::new();
    };
    listed
        .roots
        .iter()
        .filter_map(|r| file_uri_path(&r.uri))
        .collect()
}

/// The folders the user works in, for `put` and `get`: the client's MCP
/// roots; else, from Codex, the folder its session runs in, which it puts
/// in each call's `_meta` (`codex/sandbox-state`, `sandboxCwd`) for a
/// server that declares that capability, as this one does.
pub(super) async fn local_roots(
    peer: &Peer<RoleServer>,
    meta: &RequestMetaObject,
) -> Vec<std::path::PathBuf> {
    let roots = client_roots(peer).await;
    if !roots.is_empty() {
        return roots;
    }
    ["codex/sandbox-state", "codex/sandbox-state-meta"]
        .iter()
        .filter_map(|key| meta.0.0.get(*key))
        .filter_map(|state| state["sandboxCwd"].as_str())
        .filter_map(file_uri_path)
        .take(1)
        .collect()
}

/// The local path a `file://` URI names.
fn file_uri_path(uri: &str) -> Option<std::path::PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let decoded = String::from_utf8(runcode_rules::percent::decode(rest, false)).ok()?;
    // `file:///C:/src` names `C:/src` on Windows.
    let path = if cfg!(windows) {
        decoded.trim_start_matches('/').to_owned()
    } else {
        decoded
    };
    Some(std::path::PathBuf::from(path)).filter(|p| p.is_absolute())
}

/// The CLI's progress lines as progress notifications, when the client
/// asked for them with a progress token; dropped otherwise.
pub(super) fn progress(
    meta: &RequestMetaObject,
    peer: Peer<RoleServer>,
) -> impl FnMut(String) + use<> {
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

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Server {
    /// Every tool's answer, with each value of a secret the attached
    /// workspace may use replaced by `[secret:NAME]`, whether or not the
    /// call named it (docs/security.md, "Secrets").
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<RoleServer>,
    ) -> std::result::Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        let tcc = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        let answer = self.tool_router.call(tcc).await?;
        Ok(super::results::hidden(answer, &self.paths))
    }

    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        // Codex then says in each call which folder its session runs in.
        capabilities.experimental = Some(
            ["codex/sandbox-state", "codex/sandbox-state-meta"]
                .into_iter()
                .map(|k| (k.to_owned(), serde_json::Map::new()))
                .collect(),
        );
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("runcode", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}
