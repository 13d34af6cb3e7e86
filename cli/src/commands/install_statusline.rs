//! `runcode install-statusline [--remove] [--force]`: wires our status line
//! into Claude Code's settings.json, keeping every other setting, backing up
//! to settings.json.bak and writing atomically. A settings file that is not
//! JSON is an error and is never overwritten.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::wiring::claude::{self, Edit};
use crate::wiring::edit::{Backup, Owned};

pub fn run(ctx: &Ctx, remove: bool, force: bool) -> Result<i32> {
    let file = claude::settings_path()
        .ok_or_else(|| Error::Usage("neither CLAUDE_CONFIG_DIR nor HOME is set".to_owned()))?;
    let owned = Owned::open(&ctx.paths, &file)?;
    let exe = crate::paths::entry_point()?.display().to_string();
    let edit = claude::edit(&owned.text, &exe, remove, force).map_err(|why| owned.refuse(why))?;
    let (changed, human) = match edit {
        Edit::Same if remove => (false, "no runcode status line to remove".to_owned()),
        Edit::Same => (
            false,
            format!("the status line is already wired into {}", file.display()),
        ),
        Edit::Foreign(other) => {
            return Err(Error::NotOurs {
                path: file,
                what: format!(
                    "already has a status line ({})",
                    crate::text::clean(&other, false)
                ),
                fix: "use --force to replace it",
            });
        }
        Edit::Write(new) => {
            owned.write(&new, Backup::StatusLine)?;
            let done = if remove {
                "removed the runcode status line from"
            } else {
                "wired the runcode status line into"
            };
            (true, format!("{done} {}", file.display()))
        }
    };
    ctx.out.result(
        &json!({"path": file, "changed": changed, "installed": !remove}),
        &human,
    );
    Ok(0)
}
