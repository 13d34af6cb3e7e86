//! `runcode uninstall [--all] [--dry-run]`: takes out everything runcode
//! wrote outside its own folders: the status line (putting back the one it
//! replaced, from settings.json.bak), the managed ssh block, the
//! agent-setup block in Codex's config.toml and the PATH link. With `--all`, also every session (closing its ssh master), the
//! cache and the config folder with the token. It says exactly what it
//! removed; `--dry-run` says the same and removes nothing.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::{claude, paths, session, sshconfig, wiring};

struct Removal {
    what: &'static str,
    path: PathBuf,
    detail: String,
}

pub fn run(ctx: &Ctx, all: bool, dry_run: bool) -> Result<i32> {
    let mut done = Vec::new();
    if let Some(settings) = claude::settings_path() {
        // The permission first: the status line's own restore then sees a
        // file in which nothing else changed.
        claude_allow(&settings, dry_run, &mut done)?;
        statusline(&settings, dry_run, &mut done)?;
    }
    if let Some(config) = crate::codex::config_path() {
        codex_block(&config, dry_run, &mut done)?;
    }
    let home = paths::home()?;
    ssh_block(&home.join(".ssh/config"), dry_run, &mut done)?;
    let link = wiring::path_link(&home);
    if wiring::our_link(&link).is_some() {
        if !dry_run {
            std::fs::remove_file(&link).map_err(Error::io(&link))?;
        }
        done.push(Removal {
            what: "path_link",
            path: link,
            detail: "the runcode link".to_owned(),
        });
    }
    if all {
        for s in session::all(&ctx.paths) {
            if !dry_run {
                s.close_master();
            }
        }
        for (what, dir) in [("cache", &ctx.paths.cache), ("config", &ctx.paths.config)] {
            if dir.exists() {
                if !dry_run {
                    std::fs::remove_dir_all(dir).map_err(Error::io(dir))?;
                }
                done.push(Removal {
                    what,
                    path: dir.clone(),
                    detail: if what == "cache" {
                        "sessions, keys and cached CLIs".to_owned()
                    } else {
                        "settings and the token".to_owned()
                    },
                });
            }
        }
    }
    let list: Vec<Value> = done
        .iter()
        .map(|r| json!({"what": r.what, "path": r.path, "detail": r.detail}))
        .collect();
    let verb = if dry_run { "would remove" } else { "removed" };
    let human = if done.is_empty() {
        "nothing of runcode's to remove".to_owned()
    } else {
        done.iter()
            .map(|r| format!("{verb} {} ({})", r.path.display(), r.detail))
            .collect::<Vec<_>>()
            .join("\n")
    };
    ctx.out
        .result(&json!({"removed": list, "dry_run": dry_run}), &human);
    Ok(0)
}

/// Our status line out of settings.json. When nothing else changed since it
/// went in, the file is put back byte for byte from settings.json.bak (or
/// removed, when runcode created it); otherwise only the key changes, and
/// the status line it replaced comes back from the backup.
fn statusline(settings: &Path, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(settings) else {
        return Ok(());
    };
    let Ok(mut current) = serde_json::from_str::<Value>(&text) else {
        return Ok(());
    };
    let ours = current["statusLine"]["command"]
        .as_str()
        .is_some_and(claude::is_ours);
    if !ours {
        return Ok(());
    }
    let backup = settings.with_file_name("settings.json.bak");
    let before: Option<Value> = std::fs::read_to_string(&backup)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let previous = before
        .as_ref()
        .map(|b| b["statusLine"].clone())
        .filter(|p| !p.is_null() && !p["command"].as_str().is_some_and(claude::is_ours));
    let Some(map) = current.as_object_mut() else {
        return Ok(());
    };
    map.remove("statusLine");
    if let Some(p) = &previous {
        map.insert("statusLine".to_owned(), p.clone());
    }
    let detail = if previous.is_some() {
        "the runcode status line; the one it replaced is back"
    } else {
        "the runcode status line"
    };
    done.push(Removal {
        what: "statusline",
        path: settings.to_path_buf(),
        detail: detail.to_owned(),
    });
    // Nothing else changed since it went in: the backup is the file as it
    // was, put back whole.
    if before.as_ref() == Some(&current) {
        if !dry_run {
            std::fs::rename(&backup, settings).map_err(Error::io(settings))?;
        }
        return Ok(());
    }
    let rest = if before.is_none() && current == json!({}) {
        None
    } else {
        let mut out =
            serde_json::to_string_pretty(&current).map_err(Error::encode("settings.json"))?;
        out.push('\n');
        Some(out)
    };
    // A backup holding our own status line is a copy of runcode's state,
    // and one holding exactly what the file goes back to is a copy of the
    // user's: either goes. Any other backup stays.
    let ours_backed_up = before.as_ref().is_some_and(|b| {
        b["statusLine"]["command"]
            .as_str()
            .is_some_and(claude::is_ours)
    });
    let backup_goes = ours_backed_up || redundant(&backup, rest.as_deref());

    if !dry_run {
        match &rest {
            Some(out) => paths::write_private(settings, out.as_bytes(), 0o600)?,
            None => std::fs::remove_file(settings).map_err(Error::io(settings))?,
        }
        if backup_goes {
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
        }
    }
    if backup_goes {
        done.push(backup_removal(backup, ours_backed_up));
    }
    Ok(())
}

/// Whether `backup` holds exactly `rest`, what the file goes back to.
fn redundant(backup: &Path, rest: Option<&str>) -> bool {
    rest.is_some_and(|rest| std::fs::read(backup).is_ok_and(|b| b == rest.as_bytes()))
}

fn backup_removal(path: PathBuf, ours: bool) -> Removal {
    Removal {
        what: "backup",
        path,
        detail: if ours {
            "runcode's backup, holding runcode's own wiring"
        } else {
            "runcode's backup, the same bytes as what is back in place"
        }
        .to_owned(),
    }
}

/// The managed block out of ~/.ssh/config, byte for byte what surrounded
/// it; a config that held nothing else goes.
fn ssh_block(config: &Path, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return Ok(());
    };
    let Ok(Some(rest)) = sshconfig::remove_block(&text) else {
        return Ok(());
    };
    // config.bak holding our block is a copy of runcode's state (written
    // when config-ssh rewrote it), and one holding exactly what the config
    // goes back to is a copy of the user's: either goes. Any other stays.
    let backup = config.with_file_name("config.bak");
    let ours_backed_up = std::fs::read_to_string(&backup)
        .is_ok_and(|t| matches!(sshconfig::find_block(&t), Ok(Some(_))));
    let backup_goes =
        ours_backed_up || redundant(&backup, Some(rest.as_str()).filter(|r| !r.is_empty()));
    if !dry_run {
        if rest.is_empty() {
            std::fs::remove_file(config).map_err(Error::io(config))?;
        } else {
            paths::write_private(config, rest.as_bytes(), 0o600)?;
        }
        if backup_goes {
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
        }
    }
    done.push(Removal {
        what: "ssh_config",
        path: config.to_path_buf(),
        detail: "the runcode managed block".to_owned(),
    });
    if backup_goes {
        done.push(backup_removal(backup, ours_backed_up));
    }
    Ok(())
}

/// The agent-setup block in Codex's config.toml.
fn codex_block(config: &Path, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return Ok(());
    };
    let Ok(Some(without)) = crate::codex::remove(&text) else {
        return Ok(());
    };
    if !dry_run {
        paths::write_private(config, without.as_bytes(), 0o600)?;
    }
    done.push(Removal {
        what: "codex_approvals",
        path: config.to_path_buf(),
        detail: "the agent-setup block".to_owned(),
    });
    // agent-setup's backup is the file as it was before the block: once the
    // block is out, the same bytes (or, made later, runcode's own wiring).
    let backup = config.with_file_name("config.toml.bak");
    if let Ok(old) = std::fs::read_to_string(&backup)
        && (old == without || crate::codex::has_block(&old))
    {
        if !dry_run {
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
        }
        done.push(Removal {
            what: "backup",
            path: backup,
            detail: "agent-setup's copy of config.toml".to_owned(),
        });
    }
    Ok(())
}

/// agent-setup's rule in Claude Code's `permissions.allow`, and its backup
/// when that holds nothing more than what is back in place.
fn claude_allow(settings: &Path, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(settings) else {
        return Ok(());
    };
    let Ok(Some(without)) = claude::allow_edit(&text, true) else {
        return Ok(());
    };
    if !dry_run {
        paths::write_private(settings, without.as_bytes(), 0o600)?;
    }
    done.push(Removal {
        what: "claude_permission",
        path: settings.to_path_buf(),
        detail: format!("{} in permissions.allow", claude::ALLOW_RULE),
    });
    let backup = settings.with_file_name(super::agent_setup::CLAUDE_BACKUP);
    if let Ok(old) = std::fs::read_to_string(&backup)
        && (old == without || claude::allows_tools(&old))
    {
        if !dry_run {
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
        }
        done.push(Removal {
            what: "backup",
            path: backup,
            detail: "agent-setup's copy of settings.json".to_owned(),
        });
    }
    Ok(())
}
