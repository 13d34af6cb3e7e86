//! `runcode install-path [--remove]`: a `~/.local/bin/runcode` link to this
//! binary, so your own shell and tools find it. Refuses to replace anything
//! that is not ours; `--remove` removes only our link.

use std::path::Path;

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};

pub fn run(ctx: &Ctx, remove: bool) -> Result<i32> {
    let exe = crate::paths::entry_point()?;
    if cfg!(windows) {
        let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
        ctx.out.result(
            &json!({"dir": dir, "changed": false}),
            &format!("add this directory to your PATH: {}", dir.display()),
        );
        return Ok(0);
    }
    let link = crate::wiring::found::path_link(&crate::paths::home()?);
    let bin = link.parent().map(Path::to_path_buf).unwrap_or_default();
    let present = std::fs::symlink_metadata(&link).is_ok();
    if present && crate::wiring::found::our_link(&link).is_none() {
        return Err(Error::NotOurs {
            path: link,
            what: "exists and is not a runcode link".to_owned(),
            fix: "it was left untouched",
        });
    }
    if remove {
        if present {
            std::fs::remove_file(&link).map_err(Error::io(&link))?;
        }
        let human = if present {
            format!("removed {}", link.display())
        } else {
            "no runcode link to remove".to_owned()
        };
        ctx.out
            .result(&json!({"path": link, "changed": present}), &human);
        return Ok(0);
    }
    std::fs::create_dir_all(&bin).map_err(Error::io(&bin))?;
    let tmp = bin.join(format!(".runcode.{}.tmp", std::process::id()));
    #[cfg(unix)]
    std::os::unix::fs::symlink(&exe, &tmp).map_err(Error::io(&tmp))?;
    std::fs::rename(&tmp, &link).map_err(Error::io(&link))?;
    let on_path =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d == bin));
    let mut human = format!("{} -> {}", link.display(), exe.display());
    if !on_path {
        human.push_str(&format!("\n{} is not on your PATH: add `export PATH=\"$HOME/.local/bin:$PATH\"` to your shell's profile", bin.display()));
    }
    ctx.out.result(
        &json!({"path": link, "target": exe, "changed": true, "on_path": on_path}),
        &human,
    );
    Ok(0)
}
