//! `runcode clean [ws] [--all]`: remove cached session material (masters
//! closed first); cleaning the attached workspace detaches it.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::workspaces::{self, Target};
use crate::{attach, session};

pub fn run(ctx: &Ctx, arg: Option<&str>, all: bool) -> Result<i32> {
    let ids: Vec<u64> = match (arg, all) {
        (Some(_), true) => {
            return Err(Error::Usage(
                "give a workspace or --all, not both".to_owned(),
            ));
        }
        (None, true) => session::all(&ctx.paths)
            .iter()
            .map(|s| s.meta.ws_id)
            .collect(),
        (Some(a), false) => match workspaces::target(a)? {
            Target::Id(id) => vec![id],
            Target::Name(_) => vec![ctx.resolve(a)?.id],
        },
        (None, false) => vec![attach::require(&ctx.paths)?.id],
    };
    let mut removed = Vec::new();
    for id in ids {
        if session::remove(&ctx.paths, id)? {
            removed.push(id);
        }
        attach::clear(&ctx.paths, Some(id))?;
    }
    let human = if removed.is_empty() {
        "nothing to clean".to_owned()
    } else {
        format!(
            "removed {}",
            removed
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    ctx.out.result(&json!({"removed": removed}), &human);
    Ok(0)
}
