//! The end-to-end suites, one test binary with a module per area (as
//! ripgrep and uv keep theirs): each drives the real binaries (the CLI, the
//! launcher, the devplane's real sshd, Claude Code and Codex) from a scratch
//! directory of its own. `util` is the harness they share.

mod util;

mod agents;
mod agents_long;
mod agents_mcp;
mod agents_tui;
mod certificates;
mod cli;
mod devplane;
mod devplane_lifecycle;
mod editors;
mod entry;
mod files;
mod first_hour;
mod held;
mod hostile;
mod hostile_server;
mod hostile_workspace;
mod journey;
mod json_failures;
mod launcher;
mod launcher_refusals;
mod long_runs;
mod mcp;
mod mcp_editing;
mod network;
mod once;
mod platforms;
mod plugin;
mod secret_service;
mod secrets;
mod ssh_config;
mod tidy;
mod transports;
mod warm;
mod windows;
mod wiring;
