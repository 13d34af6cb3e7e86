//! `runcode config-ssh [--remove] [--dry-run]`: one managed block of
//! `Host runcode.<title>` entries in `~/.ssh/config`, so editors, git and
//! rsync reach workspaces by name through `runcode proxy`. Only the block is
//! ever touched; the old file is copied to `config.bak`; writes are atomic
//! (`wiring::edit`).

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::remote::sshconfig;
use crate::wiring::edit::{Backup, Owned};
use crate::wiring::ssh_host;

pub fn run(ctx: &Ctx, remove: bool, dry_run: bool) -> Result<i32> {
    let owned = Owned::open(&ctx.paths, &ssh_host::config_path()?)?;
    let file = owned.path.clone();
    let old = owned.text.as_str();
    ssh_host::check_block(&owned)?;
    let broken = ssh_host::broken(&owned);
    let (new, hosts) = if remove {
        match sshconfig::remove_block(old).map_err(&broken)? {
            Some(text) => (text, Vec::new()),
            None => {
                ctx.out.result(
                    &json!({"path": file, "changed": false, "hosts": []}),
                    "no runcode block in ~/.ssh/config",
                );
                return Ok(0);
            }
        }
    } else {
        sshconfig::find_block(old).map_err(&broken)?;
        let hosts = ssh_host::managed_hosts(ctx)?;
        let block = sshconfig::render_block(&hosts)?;
        (
            sshconfig::insert_block(old, &block).map_err(&broken)?,
            hosts,
        )
    };
    let names: Vec<String> = hosts
        .iter()
        .map(|h| format!("runcode.{}", h.title))
        .collect();
    let changed = new != old;
    if dry_run {
        let value =
            json!({"path": file, "changed": changed, "hosts": names, "diff": diff(old, &new)});
        ctx.out.result(
            &value,
            &if changed {
                diff(old, &new)
            } else {
                "no change".to_owned()
            },
        );
        return Ok(0);
    }
    if changed {
        owned.write(&new, Backup::SshConfig)?;
    }
    let human = if remove {
        format!("removed the runcode block from {}", file.display())
    } else if names.is_empty() {
        format!(
            "no workspace reachable over SSH; wrote an empty block to {}",
            file.display()
        )
    } else {
        format!(
            "{} now has: {}\n  try: ssh {} 'pwd'",
            file.display(),
            names.join(", "),
            names[0]
        )
    };
    ctx.out.result(
        &json!({"path": file, "changed": changed, "hosts": names}),
        &human,
    );
    Ok(0)
}

/// A line diff good enough to review a block change.
fn diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = String::from("--- ~/.ssh/config\n+++ ~/.ssh/config (runcode)\n");
    for line in old_lines.iter().filter(|l| !new_lines.contains(l)) {
        out.push_str(&format!("-{line}\n"));
    }
    for line in new_lines.iter().filter(|l| !old_lines.contains(l)) {
        out.push_str(&format!("+{line}\n"));
    }
    out
}
