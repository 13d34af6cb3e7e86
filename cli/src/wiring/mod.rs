//! The other programs runcode wires itself into: Claude Code's settings
//! (`claude`), Codex's config (`codex`), the managed `runcode.<title>` hosts
//! of `~/.ssh/config` (`ssh_host`), what runcode left in them found again
//! (`found`), the one way to edit a file another program owns (`edit`), and
//! handing a URL or folder to the desktop (`open`).

pub mod claude;
pub mod codex;
pub mod edit;
pub mod found;
pub mod open;
pub mod ssh_host;
