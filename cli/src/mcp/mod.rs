//! `runcode mcp`: the workspace tools as a Model Context Protocol server on
//! stdio, for any agent that has the plugin, whatever its PATH. stdout
//! carries protocol messages only; diagnostics go to stderr. Each tool call
//! runs this CLI once (`child`), so a tool's result has the shape and the
//! error codes of the matching command's `--json`, and a failure is a tool
//! error carrying `{"error": code, "message"}`. docs/mcp.md has the tools,
//! their limits and the reasons.

mod args;
mod child;
mod results;
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
