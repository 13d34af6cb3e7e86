//! `runcode agent-setup codex|claude [--remove] [--dry-run]`: lets the
//! runcode plugin's tools run without asking, for a user who has decided
//! that an agent working on a cloud workspace they attached may act there
//! unattended. Claude Code: our rule in `permissions.allow` of its
//! settings.json. Codex: one marked block at the end of Codex's
//! `config.toml` (`[plugins."runcode@<marketplace>".mcp_servers.runcode]`
//! with `default_tools_approval_mode = "approve"`), after a copy to
//! `config.toml.bak`, atomically, and never touches a config whose own
//! lines already set that policy. `--remove` (and `runcode uninstall`)
//! takes the block out again.

use serde_json::json;

use crate::cli::AgentClient;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::wiring::edit::{Backup, Owned};
use crate::{wiring::claude, wiring::codex};

pub fn run(ctx: &Ctx, client: AgentClient, remove: bool, dry_run: bool) -> Result<i32> {
    match client {
        AgentClient::Codex => codex_setup(ctx, remove, dry_run),
        AgentClient::Claude => claude_setup(ctx, remove, dry_run),
    }
}

fn claude_setup(ctx: &Ctx, remove: bool, dry_run: bool) -> Result<i32> {
    let file = claude::settings_path()
        .ok_or_else(|| Error::Usage("neither CLAUDE_CONFIG_DIR nor HOME is set".to_owned()))?;
    let owned = Owned::open(&ctx.paths, &file)?;
    let new = claude::allow_edit(&owned.text, remove).map_err(|why| owned.refuse(why))?;
    let changed = new.is_some();
    if let Some(new) = new.filter(|_| !dry_run) {
        owned.write(&new, Backup::ClaudeAllow)?;
    }
    let human = match (remove, changed) {
        (true, true) => format!(
            "took the runcode tools' permission out of {}",
            file.display()
        ),
        (true, false) => format!("{} does not allow the runcode tools", file.display()),
        (false, true) => format!(
            "Claude Code now runs every runcode tool without asking ({} in permissions.allow of {})",
            claude::ALLOW_RULE,
            file.display()
        ),
        (false, false) => format!("{} already allows the runcode tools", file.display()),
    };
    ctx.out.result(
        &json!({
            "client": "claude",
            "path": file,
            "rule": claude::ALLOW_RULE,
            "changed": changed,
            "dry_run": dry_run,
            "unattended": !remove,
        }),
        &human,
    );
    Ok(0)
}

fn codex_setup(ctx: &Ctx, remove: bool, dry_run: bool) -> Result<i32> {
    let file = codex::config_path()
        .ok_or_else(|| Error::Usage("neither CODEX_HOME nor HOME is set".to_owned()))?;
    let owned = Owned::open(&ctx.paths, &file)?;
    let text = owned.text.as_str();
    let untouched = |why: String| owned.refuse(why);
    let plugin = codex::plugin_key(text);
    let new = if remove {
        codex::remove(text).map_err(untouched)?
    } else {
        let Some(plugin) = plugin.as_deref() else {
            return Err(Error::NotOurs {
                path: file,
                what: "has no runcode plugin installed".to_owned(),
                fix: "add it first: `codex plugin marketplace add <the runcode plugin folder>`, then `codex plugin add runcode@runcode`",
            });
        };
        Some(codex::insert(text, plugin).map_err(untouched)?)
    };
    let changed = new.as_ref().is_some_and(|n| *n != text);
    if changed && !dry_run {
        owned.write(new.as_deref().unwrap_or_default(), Backup::CodexBlock)?;
    }
    let asks = if remove || !changed && !codex::has_block(text) {
        crate::mcp::codex_asks()
    } else {
        Vec::new()
    };
    let verb = match (remove, changed, dry_run) {
        (_, false, _) if remove => "no runcode agent-setup block in".to_owned(),
        (_, false, _) => "the runcode tools already run without asking in".to_owned(),
        (true, true, dry) => format!(
            "{} the runcode agent-setup block from",
            if dry { "would remove" } else { "removed" }
        ),
        (false, true, dry) => format!(
            "{} so every runcode tool runs without asking:",
            if dry { "would write" } else { "wrote" }
        ),
    };
    let mut human = format!("{verb} {}", file.display());
    if !asks.is_empty() {
        human.push_str(&format!("\nCodex asks before: {}", asks.join(", ")));
    }
    ctx.out.result(
        &json!({
            "client": "codex",
            "path": file,
            "plugin": plugin,
            "changed": changed,
            "dry_run": dry_run,
            "unattended": !remove,
            "asks": asks,
        }),
        &human,
    );
    Ok(0)
}
