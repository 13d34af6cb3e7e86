//! `runcode install-statusline [--remove] [--force]`: wires our status line
//! into Claude Code's settings.json, keeping every other setting, backing up
//! to settings.json.bak and writing atomically. A settings file that is not
//! JSON is an error and is never overwritten.

use serde_json::json;

use crate::claude::{self, Edit};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::paths;

pub fn run(ctx: &Ctx, remove: bool, force: bool) -> Result<i32> {
    let file = claude::settings_path()
        .ok_or_else(|| Error::Usage("neither CLAUDE_CONFIG_DIR nor HOME is set".to_owned()))?;
    let text = paths::read_text(&file)?;
    let exe = crate::paths::entry_point()?.display().to_string();
    let edit = claude::edit(&text, &exe, remove, force).map_err(|why| Error::Io {
        path: file.clone(),
        source: std::io::Error::other(format!("{why}; fix it by hand, it was left untouched")),
    })?;
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
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
            }
            if !text.is_empty() {
                paths::write_private(
                    &file.with_file_name("settings.json.bak"),
                    text.as_bytes(),
                    0o600,
                )?;
            }
            paths::write_private(&file, new.as_bytes(), 0o600)?;
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
