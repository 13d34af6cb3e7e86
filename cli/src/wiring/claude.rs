//! Claude Code's settings, as far as the CLI reads them: where they are and
//! whether our status line is wired in.

use std::path::{Path, PathBuf};

/// `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`.
pub fn settings_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLAUDE_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("settings.json"));
    }
    crate::paths::home()
        .ok()
        .map(|h| h.join(".claude").join("settings.json"))
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

/// A status line command that runs a runcode binary's `statusline` (the
/// program may be quoted, and the cached binary is `runcode-<version>-...`).
pub fn is_ours(command: &str) -> bool {
    our_program(command).is_some()
}

/// The runcode program our status line command runs, if it is ours.
pub fn our_program(command: &str) -> Option<&Path> {
    let rest = command.trim().strip_suffix(" statusline")?;
    let program = Path::new(rest.trim().trim_matches('"'));
    is_runcode(program).then_some(program)
}

/// A file named `runcode`, `runcode.exe` or `runcode-<version>-...`.
pub fn is_runcode(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("runcode"))
}

/// The status line entry for `exe`. Claude Code runs it with a shell (Git
/// Bash on Windows), which would eat the backslashes of a bare Windows path:
/// such paths, and any with a space, go in double quotes, where bash and
/// cmd.exe both keep them.
pub fn statusline_entry(exe: &str) -> serde_json::Value {
    let command = if exe.contains(' ') || exe.contains('\\') {
        format!("\"{exe}\" statusline")
    } else {
        format!("{exe} statusline")
    };
    serde_json::json!({"type": "command", "command": command, "padding": 0})
}

/// What `install-statusline` did, or would refuse.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    /// The new settings text.
    Write(String),
    /// Nothing to change.
    Same,
    /// A different status line is configured (and no --force).
    Foreign(String),
}

/// The settings text as JSON (an empty file: an empty object).
fn parse(text: &str) -> Result<serde_json::Value, String> {
    if text.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_str(text).map_err(|e| format!("it is not valid JSON ({e})"))
}

/// Edits the settings text (pure): installs or removes our status line,
/// keeping every other setting and its order. `Err` when the text is not a
/// JSON object: such a file is never overwritten.
pub fn edit(text: &str, exe: &str, remove: bool, force: bool) -> Result<Edit, String> {
    let mut settings = parse(text)?;
    let Some(map) = settings.as_object_mut() else {
        return Err("it is not a JSON object".to_owned());
    };
    let current = map.get("statusLine").cloned();
    let ours = current
        .as_ref()
        .and_then(|c| c["command"].as_str())
        .is_some_and(is_ours);
    if remove {
        if !ours {
            return Ok(Edit::Same);
        }
        map.remove("statusLine");
    } else {
        let wanted = statusline_entry(exe);
        if current.as_ref() == Some(&wanted) {
            return Ok(Edit::Same);
        }
        if let Some(other) = current.filter(|_| !ours && !force) {
            return Ok(Edit::Foreign(
                other["command"]
                    .as_str()
                    .unwrap_or("another status line")
                    .to_owned(),
            ));
        }
        map.insert("statusLine".to_owned(), wanted);
    }
    let mut out = serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(Edit::Write(out))
}

/// The permission rule that lets every tool of the plugin's MCP server run
/// without asking.
pub const ALLOW_RULE: &str = "mcp__plugin_runcode_runcode";

/// Whether `permissions.allow` of the settings text holds our rule.
pub fn allows_tools(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| {
        v["permissions"]["allow"]
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e == ALLOW_RULE))
    })
}

/// Adds our rule to `permissions.allow` (or, with `remove`, takes it out,
/// with the `allow` list and `permissions` object when that leaves them
/// empty), keeping every other setting and its order. `Ok(None)`: nothing
/// to change. `Err` for a file that is not a JSON object, or whose
/// `permissions` or `allow` has another shape: never overwritten.
pub fn allow_edit(text: &str, remove: bool) -> Result<Option<String>, String> {
    let mut settings = parse(text)?;
    let Some(map) = settings.as_object_mut() else {
        return Err("it is not a JSON object".to_owned());
    };
    let permissions = map
        .entry("permissions")
        .or_insert_with(|| serde_json::json!({}));
    let Some(permissions) = permissions.as_object_mut() else {
        return Err("its `permissions` is not an object".to_owned());
    };
    let allow = permissions
        .entry("allow")
        .or_insert_with(|| serde_json::json!([]));
    let Some(allow) = allow.as_array_mut() else {
        return Err("its `permissions.allow` is not a list".to_owned());
    };
    let has = allow.iter().any(|e| e == ALLOW_RULE);
    if has != remove {
        return Ok(None);
    }
    if remove {
        allow.retain(|e| e != ALLOW_RULE);
        if allow.is_empty() {
            permissions.remove("allow");
        }
        if permissions.is_empty() {
            map.remove("permissions");
        }
    } else {
        allow.push(serde_json::json!(ALLOW_RULE));
    }
    let mut out = serde_json::to_string_pretty(&settings).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(Some(out))
}

/// The folders Claude Code's status-line input names (the session's
/// working and project folders), absolute ones only; any other input, none.
pub fn statusline_dirs(raw: &[u8]) -> Vec<std::path::PathBuf> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(raw) else {
        return Vec::new();
    };
    [
        &v["workspace"]["current_dir"],
        &v["workspace"]["project_dir"],
        &v["cwd"],
    ]
    .iter()
    .filter_map(|x| x.as_str())
    .filter(|p| p.starts_with('/') || p.contains(":\\"))
    .map(std::path::PathBuf::from)
    .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn stdin_json_of_any_shape_is_survived() {
        assert_eq!(
            super::statusline_dirs(
                br#"{"cwd": "/p", "workspace": {"current_dir": "/p/x", "project_dir": 3}}"#
            ),
            [PathBuf::from("/p/x"), PathBuf::from("/p")]
        );
        assert!(super::statusline_dirs(b"\xff garbage").is_empty());
        assert!(super::statusline_dirs(b"[]").is_empty());
        assert!(super::statusline_dirs(br#"{"cwd": "relative"}"#).is_empty());
    }

    use super::*;

    #[test]
    fn numbers_are_kept_exactly_as_written() {
        // Found by the fuzzer: a float parse rewrote this number's digits.
        let text = r#"{"n": 1111111110000000000000000000000000000000000000000000000010568736221687243660, "f": 0.1000000000000000055511151231257827}"#;
        let Edit::Write(new) = edit(text, "/bin/runcode", false, false).unwrap() else {
            panic!()
        };
        assert!(
            new.contains(
                "1111111110000000000000000000000000000000000000000000000010568736221687243660,"
            ),
            "{new}"
        );
        assert!(
            new.contains("0.1000000000000000055511151231257827"),
            "{new}"
        );
    }

    #[test]
    fn settings_edits_keep_everything_else() {
        let text = r#"{"model": "opus", "hooks": {"a": [1, 2]}, "zeta": true}"#;
        let Edit::Write(new) = edit(text, "/bin/runcode", false, false).unwrap() else {
            panic!()
        };
        assert!(
            new.find("\"model\"").unwrap() < new.find("\"hooks\"").unwrap()
                && new.find("\"hooks\"").unwrap() < new.find("\"zeta\"").unwrap(),
            "order kept: {new}"
        );
        assert!(new.contains("/bin/runcode statusline"));
        assert_eq!(
            edit(&new, "/bin/runcode", false, false).unwrap(),
            Edit::Same,
            "idempotent"
        );
        let Edit::Write(back) = edit(&new, "/bin/runcode", true, false).unwrap() else {
            panic!()
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&back).unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        let foreign = r#"{"statusLine": {"type": "command", "command": "ccline"}}"#;
        assert_eq!(
            edit(foreign, "/bin/runcode", false, false).unwrap(),
            Edit::Foreign("ccline".into())
        );
        assert!(matches!(
            edit(foreign, "/bin/runcode", false, true).unwrap(),
            Edit::Write(_)
        ));
        assert_eq!(
            edit(foreign, "/bin/runcode", true, false).unwrap(),
            Edit::Same,
            "--remove leaves a foreign line"
        );
        assert!(edit("{not json", "/bin/runcode", false, false).is_err());
        assert!(edit("[1]", "/bin/runcode", false, false).is_err());
        assert!(is_ours("\"/a b/runcode\" statusline") && !is_ours("/bin/other statusline"));
        assert!(is_ours(
            "/h/.cache/runcode/bin/runcode-v0.1.0-linux-amd64 statusline"
        ));
        assert!(!is_ours("/bin/runcode-helper") && !is_ours("runcode statusline --plain"));
    }

    #[test]
    fn the_allow_rule_goes_in_and_out_keeping_the_rest() {
        let text = "{\n  \"model\": \"opus\",\n  \"permissions\": {\n    \"allow\": [\n      \"Bash(ls:*)\"\n    ]\n  }\n}\n";
        let with = allow_edit(text, false).unwrap().unwrap();
        assert!(allows_tools(&with));
        assert_eq!(allow_edit(&with, false).unwrap(), None, "once");
        assert_eq!(allow_edit(&with, true).unwrap().unwrap(), text);
        let fresh = allow_edit("", false).unwrap().unwrap();
        assert_eq!(allow_edit(&fresh, true).unwrap().unwrap(), "{}\n");
        assert!(allow_edit("[]", false).is_err());
        assert!(allow_edit("{\"permissions\": []}", false).is_err());
        assert!(allow_edit("{\"permissions\": {\"allow\": \"x\"}}", false).is_err());
    }
}
