//! `runcode config-ssh [--remove] [--dry-run]`: one managed block of
//! `Host runcode.<title>` entries in `~/.ssh/config`, so editors, git and
//! rsync reach workspaces by name through `runcode proxy`. Only the block is
//! ever touched; the old file is copied to `config.bak`; writes are atomic.

use std::path::PathBuf;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::sshconfig::{self, ManagedHost, managed_host};
use crate::workspaces;
use crate::{paths, text};

const DEFAULT_API: &str = "https://app.runcode.io";

fn ssh_dir() -> Result<PathBuf> {
    Ok(crate::paths::home()?.join(".ssh"))
}

pub fn run(ctx: &Ctx, remove: bool, dry_run: bool) -> Result<i32> {
    let dir = ssh_dir()?;
    let file = dir.join("config");
    let old = read_config(&file)?;
    let broken = broken(&file);
    let (new, hosts) = if remove {
        match sshconfig::remove_block(&old).map_err(&broken)? {
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
        sshconfig::find_block(&old).map_err(&broken)?;
        let hosts = managed_hosts(ctx)?;
        let block = sshconfig::render_block(&hosts)?;
        (
            sshconfig::insert_block(&old, &block).map_err(&broken)?,
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
            json!({"path": file, "changed": changed, "hosts": names, "diff": diff(&old, &new)});
        ctx.out.result(
            &value,
            &if changed {
                diff(&old, &new)
            } else {
                "no change".to_owned()
            },
        );
        return Ok(0);
    }
    if changed {
        paths::private_dir(&dir)?;
        if file.exists() {
            paths::write_private(&dir.join("config.bak"), old.as_bytes(), 0o600)?;
        }
        paths::write_private(&file, new.as_bytes(), 0o600)?;
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

/// `~/.ssh/config` as text (none yet: empty). A file that is not UTF-8 is
/// an error, and is never touched.
fn read_config(file: &std::path::Path) -> Result<String> {
    match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::Io {
            path: file.to_path_buf(),
            source: std::io::Error::other("not UTF-8 text; left untouched"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::Io {
            path: file.to_path_buf(),
            source: e,
        }),
    }
}

/// The error for a block whose markers are broken.
fn broken(file: &std::path::Path) -> impl Fn(String) -> Error + '_ {
    move |why: String| Error::Io {
        path: file.to_path_buf(),
        source: std::io::Error::other(format!(
            "{why}; fix or remove the runcode lines by hand, the file was left untouched"
        )),
    }
}

/// Makes sure `~/.ssh/config` has the managed host `runcode.<title>`,
/// writing the block (every host, as `config-ssh` does) when it lacks it.
/// Returns whether the file changed. Used by `open --editor`.
pub fn ensure_host(ctx: &Ctx, title: &str) -> Result<bool> {
    let dir = ssh_dir()?;
    let file = dir.join("config");
    let old = read_config(&file)?;
    let broken = broken(&file);
    let entry = format!("Host runcode.{title}\n");
    if let Some((start, end)) = sshconfig::find_block(&old).map_err(&broken)?
        && old[start..end].contains(&entry)
    {
        return Ok(false);
    }
    let hosts = managed_hosts(ctx)?;
    if !hosts.iter().any(|h| h.title == title) {
        return Err(Error::Usage(format!(
            "workspace {title} cannot get a ~/.ssh/config host (not reachable over SSH, or its title is unsafe)"
        )));
    }
    let new = sshconfig::insert_block(&old, &sshconfig::render_block(&hosts)?).map_err(&broken)?;
    paths::private_dir(&dir)?;
    if file.exists() {
        paths::write_private(&dir.join("config.bak"), old.as_bytes(), 0o600)?;
    }
    paths::write_private(&file, new.as_bytes(), 0o600)?;
    Ok(true)
}

/// One host per SSH-capable workspace whose title is safe to write.
fn managed_hosts(ctx: &Ctx) -> Result<Vec<ManagedHost>> {
    let exe = crate::paths::entry_point()?;
    let exe_text = exe.display().to_string();
    if exe_text
        .chars()
        .any(|c| c.is_control() || c == '\'' || c == '"')
    {
        return Err(Error::Usage(format!(
            "cannot write {exe_text:?} into a ProxyCommand"
        )));
    }
    let base = ctx.api_base.trim_end_matches('/');
    if base
        .chars()
        .any(|c| c.is_control() || c == '"' || c == '\'')
    {
        return Err(Error::Usage(format!(
            "cannot write the API base {base:?} into a ProxyCommand"
        )));
    }
    let api = if base == DEFAULT_API {
        String::new()
    } else {
        format!(" --api-base {}", text::command_quote(base))
    };
    let list = workspaces::fetch(&ctx.api()?)?;
    let exe = text::command_quote(&exe_text);
    let mut hosts = Vec::new();
    for w in list.iter().filter(|w| w.ssh_capable) {
        match managed_host(w, &exe, &api, &ctx.paths.session_dir(w.id)) {
            Some(host) => hosts.push(host),
            None => ctx.out.warn(&format!(
                "skipping workspace #{}: its title is not safe to write into ~/.ssh/config",
                w.id
            )),
        }
    }
    Ok(hosts)
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
