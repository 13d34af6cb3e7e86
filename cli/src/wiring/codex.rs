//! Codex's `config.toml`, as far as runcode touches it: one marked block
//! that lets the runcode plugin's tools run without asking, which the user
//! adds with `runcode agent-setup codex` and takes out with `--remove` (or
//! `runcode uninstall`). Pure text functions; the command does the I/O.
//!
//! The block goes at the end of the file: a TOML table cannot be closed, so
//! anything after it would belong to it, and Codex itself appends its own
//! tables (which is harmless after ours).

use std::path::PathBuf;

pub const BEGIN: &str =
    "# >>> runcode agent-setup (`runcode agent-setup codex --remove` takes this block out)";
pub const END: &str = "# <<< runcode agent-setup";

/// `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(home).join("config.toml"));
    }
    crate::paths::home()
        .ok()
        .map(|h| h.join(".codex/config.toml"))
}

/// The runcode plugin's key in the config (`runcode@<marketplace>`), from
/// its `[plugins."runcode@..."]` table, when Codex has it installed.
pub fn plugin_key(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let squeezed: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        let key = squeezed
            .strip_prefix("[plugins.\"runcode@")?
            .strip_suffix("\"]")?;
        let ok = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        ok.then(|| format!("runcode@{key}"))
    })
}

/// The block's byte range (from its first line to the end of its last),
/// or an error for a broken one.
fn find_block(text: &str) -> Result<Option<(usize, usize)>, String> {
    crate::text::find_marked(text, BEGIN, END)
}

/// Whether the block is there.
pub fn has_block(text: &str) -> bool {
    matches!(find_block(text), Ok(Some(_)))
}

/// The line of the block that lets every tool run without a prompt.
const APPROVE: &str = "default_tools_approval_mode = \"approve\"";

/// The table the block opens for `plugin`.
fn table(plugin: &str) -> String {
    format!("[plugins.\"{plugin}\".mcp_servers.runcode]")
}

/// The block for `plugin` (`runcode@<marketplace>`): every runcode tool
/// runs without a prompt.
#[cfg(test)]
pub fn block(plugin: &str) -> String {
    block_with(plugin, &[])
}

/// The block with the user's own `lines` after runcode's.
fn block_with(plugin: &str, lines: &[&str]) -> String {
    let mut out = format!("{BEGIN}\n{}\n{APPROVE}\n", table(plugin));
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// The lines inside the block that runcode did not write (a user's
/// `tool_timeout_sec = 900`, which TOML allows only in that table), and
/// the table's header as it stands.
fn users_lines(inside: &str) -> (Option<&str>, Vec<&str>) {
    let mut header = None;
    let mut own = Vec::new();
    for line in inside.lines().map(|l| l.trim_end_matches('\r')) {
        if line == BEGIN || line == END || line == APPROVE {
            continue;
        }
        if header.is_none() && line.starts_with("[plugins.\"runcode@") {
            header = Some(line);
            continue;
        }
        own.push(line);
    }
    (header, own)
}

/// `text` with the block for `plugin` at its end (in place of an old one).
/// Refused when the user's own lines already set the runcode server's
/// policy: two definitions of one table would break Codex's config.
pub fn insert(text: &str, plugin: &str) -> Result<String, String> {
    let kept: Vec<&str> = match find_block(text)? {
        Some((start, end)) => users_lines(&text[start..end]).1,
        None => Vec::new(),
    };
    let base = match find_block(text)? {
        Some((start, end)) => format!("{}{}", &text[..start], &text[end..]),
        None => text.to_owned(),
    };
    let squeezed: String = base.chars().filter(|c| !c.is_whitespace()).collect();
    if squeezed.contains("mcp_servers.runcode") || squeezed.contains("mcp_servers.\"runcode\"") {
        return Err(
            "it already sets the runcode server's approvals itself; change them there".to_owned(),
        );
    }
    let sep = if base.is_empty() || base.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    Ok(format!("{base}{sep}{}", block_with(plugin, &kept)))
}

/// `text` without the block, or `None` when there is none. Lines the user
/// added inside it stay, under their table's header, without runcode's
/// markers and approval line.
pub fn remove(text: &str) -> Result<Option<String>, String> {
    Ok(find_block(text)?.map(|(start, end)| {
        let (header, own) = users_lines(&text[start..end]);
        let kept = match header {
            Some(header) if own.iter().any(|l| !l.trim().is_empty()) => {
                let mut kept = format!("{header}\n");
                for line in own {
                    kept.push_str(line);
                    kept.push('\n');
                }
                kept
            }
            _ => String::new(),
        };
        format!("{}{kept}{}", &text[..start], &text[end..])
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "model = \"gpt-5\"\n\n[marketplaces.runcode]\nsource = \"/p\"\n\n[plugins.\"runcode@runcode\"]\nenabled = true\n";

    #[test]
    fn the_block_goes_last_and_comes_out_byte_for_byte() {
        for original in [CONFIG, "", "model = \"x\"", "[a]\r\nb = 1\r\n"] {
            let with = insert(original, "runcode@runcode").unwrap();
            assert!(with.ends_with(&format!("{END}\n")), "{with}");
            assert!(has_block(&with));
            assert_eq!(
                insert(&with, "runcode@runcode").unwrap(),
                with,
                "again: same"
            );
            let back = remove(&with).unwrap().unwrap();
            if original.is_empty() || original.ends_with('\n') {
                assert_eq!(back, original);
            } else {
                assert_eq!(back, format!("{original}\n"), "only a final newline added");
            }
        }
        assert_eq!(remove(CONFIG).unwrap(), None);
    }

    #[test]
    fn the_users_lines_inside_the_block_stay() {
        let with = insert(CONFIG, "runcode@runcode").unwrap();
        let edited = with.replace(
            &format!("{APPROVE}\n"),
            &format!("{APPROVE}\ntool_timeout_sec = 900\n"),
        );
        let again = insert(&edited, "runcode@runcode").unwrap();
        assert!(again.contains("tool_timeout_sec = 900\n"), "{again}");
        assert_eq!(again, edited, "nothing else changes");
        let removed = remove(&again).unwrap().unwrap();
        assert!(
            removed.ends_with(
                "[plugins.\"runcode@runcode\".mcp_servers.runcode]\ntool_timeout_sec = 900\n"
            ),
            "{removed}"
        );
        assert!(!removed.contains(APPROVE) && !removed.contains(BEGIN));
    }

    #[test]
    fn the_plugin_key_is_read_from_its_table() {
        assert_eq!(plugin_key(CONFIG).as_deref(), Some("runcode@runcode"));
        assert_eq!(
            plugin_key("[ plugins . \"runcode@my-market\" ]\n").as_deref(),
            Some("runcode@my-market")
        );
        assert_eq!(plugin_key("[plugins.\"other@runcode\"]\n"), None);
        assert_eq!(plugin_key("[plugins.\"runcode@a\\\"]\"]\n"), None);
    }

    #[test]
    fn the_users_own_policy_and_broken_blocks_are_left_alone() {
        let own = format!(
            "{CONFIG}[plugins.\"runcode@runcode\".mcp_servers.runcode]\ndefault_tools_approval_mode = \"prompt\"\n"
        );
        assert!(insert(&own, "runcode@runcode").is_err());
        let dotted = format!("{CONFIG}mcp_servers . runcode.enabled_tools = []\n");
        assert!(insert(&dotted, "runcode@runcode").is_err());
        let b = block("runcode@runcode");
        for broken in [format!("{BEGIN}\n"), format!("{END}\n"), format!("{b}{b}")] {
            assert!(insert(&broken, "runcode@runcode").is_err(), "{broken}");
            assert!(remove(&broken).is_err());
        }
    }
}
