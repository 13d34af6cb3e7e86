//! The `runcode.<title>` hosts of `~/.ssh/config`: one managed block that
//! `config-ssh` writes whole and `open --editor` makes sure holds its host.
//! Every edit goes through `wiring::edit`; the block's text is
//! `remote::sshconfig`'s.

use std::path::PathBuf;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::workspaces;
use crate::remote::sshconfig::{self, ManagedHost, managed_host};
use crate::text;
use crate::wiring::edit::{Backup, Owned};

const DEFAULT_API: &str = "https://app.runcode.io";

/// `~/.ssh/config`.
pub fn config_path() -> Result<PathBuf> {
    Ok(crate::paths::home()?.join(".ssh").join("config"))
}

/// The refusal for a block whose markers are broken.
pub fn broken(file: &Owned) -> impl Fn(String) -> Error + '_ {
    move |why: String| file.refuse(format!("{why}; fix or remove the runcode lines"))
}

/// Refuses a managed block that holds lines runcode did not write:
/// rewriting or removing it would lose them.
pub fn check_block(file: &Owned) -> Result<()> {
    let Some((start, end)) = sshconfig::find_block(&file.text).map_err(broken(file))? else {
        return Ok(());
    };
    let foreign = sshconfig::foreign_lines(&file.text[start..end]);
    match foreign.first() {
        None => Ok(()),
        Some(line) => Err(file.refuse(format!(
            "has {} line(s) of your own inside the runcode block (the first: {:?}); move them out of the block",
            foreign.len(),
            text::clean(line, false)
        ))),
    }
}

/// Whether `~/.ssh/config` already has the managed host `runcode.<title>`
/// (read only: `open --editor --print` writes nothing).
pub fn present(title: &str) -> Result<bool> {
    if !text::is_safe_name(title) {
        return Err(unsafe_title());
    }
    let text = std::fs::read_to_string(config_path()?).unwrap_or_default();
    let entry = format!("Host runcode.{title}");
    Ok(
        matches!(sshconfig::find_block(&text), Ok(Some((start, end)))
        if text[start..end].lines().any(|l| l.trim_end_matches('\r') == entry)),
    )
}

/// Makes sure `~/.ssh/config` has the managed host `runcode.<title>`,
/// writing the block (every host, as `config-ssh` does) when it lacks it.
/// The title must pass the same rule as `config-ssh`'s, and the host line
/// must be in the block as a line of its own. Whether the file changed.
pub fn ensure(ctx: &Ctx, title: &str) -> Result<bool> {
    if !text::is_safe_name(title) {
        return Err(unsafe_title());
    }
    let file = Owned::open(&ctx.paths, &config_path()?)?;
    check_block(&file)?;
    let broken = broken(&file);
    let entry = format!("Host runcode.{title}");
    if let Some((start, end)) = sshconfig::find_block(&file.text).map_err(&broken)?
        && file.text[start..end].lines().any(|l| l == entry)
    {
        return Ok(false);
    }
    let hosts = managed_hosts(ctx)?;
    if !hosts.iter().any(|h| h.title == title) {
        return Err(unsafe_title());
    }
    let new =
        sshconfig::insert_block(&file.text, &sshconfig::render_block(&hosts)?).map_err(&broken)?;
    file.write(&new, Backup::SshConfig)?;
    Ok(true)
}

fn unsafe_title() -> Error {
    Error::Usage(
        "this workspace cannot get a ~/.ssh/config host: it is not reachable over SSH, or its title is not a plain name (letters, digits, `.`, `_`, `-`); `runcode list --json` shows it".to_owned(),
    )
}

/// One host per SSH-capable workspace whose title is safe to write.
pub fn managed_hosts(ctx: &Ctx) -> Result<Vec<ManagedHost>> {
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
