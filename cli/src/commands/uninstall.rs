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
use crate::remote::sshconfig;
use crate::wiring::edit::{Backup, Owned};
use crate::wiring::{claude, found};
use crate::{paths, session};

struct Removal {
    what: &'static str,
    path: PathBuf,
    detail: String,
}

pub fn run(ctx: &Ctx, all: bool, dry_run: bool) -> Result<i32> {
    let mut done = Vec::new();
    // The edits below take runcode's edit lock in the cache folder; one
    // that was not there before is runcode's own doing, and goes again.
    let had_cache = ctx.paths.cache.exists();
    if let Some(settings) = claude::settings_path() {
        // The permission first: the status line's own restore then sees a
        // file in which nothing else changed.
        if let Some(file) = readable(ctx, &settings)? {
            claude_allow(&file, dry_run, &mut done)?;
        }
        if let Some(file) = readable(ctx, &settings)? {
            statusline(&file, dry_run, &mut done)?;
        }
    }
    if let Some(config) = crate::wiring::codex::config_path()
        && let Some(file) = readable(ctx, &config)?
    {
        codex_block(&file, dry_run, &mut done)?;
    }
    let home = paths::home()?;
    if let Some(file) = readable(ctx, &home.join(".ssh/config"))? {
        ssh_block(&file, dry_run, &mut done)?;
    }
    let link = found::path_link(&home);
    if found::our_link(&link).is_some() {
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
            if dir.exists() && (what != "cache" || had_cache) {
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
    if !had_cache {
        let _ = std::fs::remove_file(ctx.paths.cache.join(".edit.lock"));
        let _ = std::fs::remove_dir(&ctx.paths.cache);
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

/// `path` opened for an edit; one that is not text holds nothing of ours.
fn readable(ctx: &Ctx, path: &Path) -> Result<Option<Owned>> {
    match Owned::open(&ctx.paths, path) {
        Ok(file) if file.exists() => Ok(Some(file)),
        Ok(_) | Err(Error::LeftUntouched { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Our status line out of settings.json. When nothing else changed since it
/// went in, the file is put back byte for byte from settings.json.bak (or
/// removed, when runcode created it); otherwise only the key changes, and
/// the status line it replaced comes back from the backup.
fn statusline(file: &Owned, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let settings = &file.path;
    let Ok(mut current) = serde_json::from_str::<Value>(&file.text) else {
        return Ok(());
    };
    let ours = current["statusLine"]["command"]
        .as_str()
        .is_some_and(claude::is_ours);
    if !ours {
        return Ok(());
    }
    let backup = file.runcodes_backup(Backup::StatusLine);
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
        path: settings.clone(),
        detail: detail.to_owned(),
    });
    // Nothing else changed since it went in: the backup is the file as it
    // was, put back whole.
    if before.as_ref() == Some(&current) {
        if !dry_run {
            let old = std::fs::read_to_string(&backup).map_err(Error::io(&backup))?;
            file.put(&old)?;
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
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
            Some(out) => file.put(out)?,
            None => file.remove()?,
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
fn ssh_block(file: &Owned, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let config = &file.path;
    // A block that holds the user's own lines stays: removing it would
    // lose them (`config-ssh --remove` says which).
    if crate::wiring::ssh_host::check_block(file).is_err() {
        return Ok(());
    }
    let Ok(Some(rest)) = sshconfig::remove_block(&file.text) else {
        return Ok(());
    };
    // config.bak holding our block is a copy of runcode's state (written
    // when config-ssh rewrote it), and one holding exactly what the config
    // goes back to is a copy of the user's: either goes. Any other stays.
    let backup = file.runcodes_backup(Backup::SshConfig);
    let ours_backed_up = std::fs::read_to_string(&backup)
        .is_ok_and(|t| matches!(sshconfig::find_block(&t), Ok(Some(_))));
    let backup_goes =
        ours_backed_up || redundant(&backup, Some(rest.as_str()).filter(|r| !r.is_empty()));
    if !dry_run {
        if rest.is_empty() {
            file.remove()?;
        } else {
            file.put(&rest)?;
        }
        if backup_goes {
            std::fs::remove_file(&backup).map_err(Error::io(&backup))?;
        }
    }
    done.push(Removal {
        what: "ssh_config",
        path: config.clone(),
        detail: "the runcode managed block".to_owned(),
    });
    if backup_goes {
        done.push(backup_removal(backup, ours_backed_up));
    }
    Ok(())
}

/// The agent-setup block in Codex's config.toml.
fn codex_block(file: &Owned, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let config = &file.path;
    let Ok(Some(without)) = crate::wiring::codex::remove(&file.text) else {
        return Ok(());
    };
    if !dry_run {
        file.put(&without)?;
    }
    done.push(Removal {
        what: "codex_approvals",
        path: config.clone(),
        detail: "the agent-setup block".to_owned(),
    });
    // agent-setup's backup is the file as it was before the block: once the
    // block is out, the same bytes (or, made later, runcode's own wiring).
    let backup = file.runcodes_backup(Backup::CodexBlock);
    if let Ok(old) = std::fs::read_to_string(&backup)
        && (old == without || crate::wiring::codex::has_block(&old))
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
fn claude_allow(file: &Owned, dry_run: bool, done: &mut Vec<Removal>) -> Result<()> {
    let settings = &file.path;
    let Ok(Some(without)) = claude::allow_edit(&file.text, true) else {
        return Ok(());
    };
    if !dry_run {
        file.put(&without)?;
    }
    done.push(Removal {
        what: "claude_permission",
        path: settings.clone(),
        detail: format!("{} in permissions.allow", claude::ALLOW_RULE),
    });
    let backup = file.runcodes_backup(Backup::ClaudeAllow);
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
