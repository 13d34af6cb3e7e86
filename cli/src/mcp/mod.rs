//! `runcode mcp`: the workspace tools as a Model Context Protocol server on
//! stdio, for any agent that has the plugin, whatever its PATH. stdout
//! carries protocol messages only; diagnostics go to stderr. Each tool call
//! runs this CLI once (`child`), so a tool's result has the shape and the
//! error codes of the matching command's `--json`, and a failure is a tool
//! error carrying `{"error": code, "message"}`. docs/mcp.md has the tools,
//! their limits and the reasons.

mod args;
mod child;
mod editing;
mod local;
mod results;
mod runs;
mod server;
mod tools;

pub use server::run;

/// Bytes of each of `exec`'s streams a result carries; the rest is counted
/// in `stdout_dropped_bytes` / `stderr_dropped_bytes`.
pub const EXEC_KEEP: usize = 32 * 1024;
/// Bytes of a file `read_file` returns; the rest is counted.
pub const READ_KEEP: usize = 64 * 1024;
/// The largest `stdin` of `exec` and `content` of `write_file`, decoded.
pub const INPUT_LIMIT: usize = 8 * 1024 * 1024;
/// `exec`'s timeout when the call names none, and the longest it may name.
pub(crate) const EXEC_TIMEOUT: u64 = 600;
pub(crate) const EXEC_TIMEOUT_MAX: u64 = 24 * 3600;

/// The tools Codex asks about before it runs them at its default approval
/// mode (`auto`): every tool except those whose annotations say they only
/// read (and do not destroy), or that they neither destroy nor reach past
/// the workspace (docs/mcp.md has each tool's annotations).
pub fn codex_asks() -> Vec<String> {
    server::Server::every_tool()
        .list_all()
        .into_iter()
        .filter(|t| !codex_runs_unasked(t.annotations.as_ref()))
        .map(|t| t.name.to_string())
        .collect()
}

fn codex_runs_unasked(a: Option<&rmcp::model::ToolAnnotations>) -> bool {
    let Some(a) = a else {
        return false;
    };
    let reads = a.read_only_hint == Some(true) && a.destructive_hint != Some(true);
    let harmless = a.destructive_hint == Some(false) && a.open_world_hint == Some(false);
    reads || harmless
}
