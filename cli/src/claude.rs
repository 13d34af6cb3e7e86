//! Claude Code's settings, as far as the CLI reads them: where they are and
//! whether our status line is wired in.

use std::path::PathBuf;

/// `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`.
pub fn settings_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("settings.json"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".claude").join("settings.json"))
}

/// Is our status line (`<path to runcode> statusline`) the one configured?
pub fn statusline_installed() -> bool {
    let Some(text) = settings_path().and_then(|p| std::fs::read_to_string(p).ok()) else {
        return false;
    };
    let Ok(settings) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    settings["statusLine"]["command"]
        .as_str()
        .is_some_and(is_ours)
}

/// A status line command that runs this CLI's `statusline`.
pub fn is_ours(command: &str) -> bool {
    let command = command.trim();
    command.ends_with(" statusline")
        && command
            .split_whitespace()
            .next()
            .is_some_and(|p| p.trim_matches('"').ends_with("runcode"))
}
