//! `runcode list [--all]`: the account's workspaces, owned and shared.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::plane::workspaces;

pub fn run(ctx: &Ctx, all: bool) -> Result<i32> {
    let list: Vec<_> = workspaces::fetch(&ctx.api()?)?
        .into_iter()
        .filter(|w| all || w.ssh_capable)
        .collect();
    let mut human = String::new();
    if list.is_empty() {
        human.push_str(if all {
            "no workspaces on this account"
        } else {
            "no workspace can be reached over SSH; `runcode list --all` shows every one"
        });
    } else {
        // The words `connect` takes: title, custom title, id.
        human.push_str(&format!(
            "{:<28} {:<8} {:<10} {}\n",
            "TITLE", "ID", "STATE", "CUSTOM TITLE"
        ));
        for w in &list {
            let mut flags = Vec::new();
            if w.shared {
                flags.push("shared");
            }
            if !w.ssh_capable {
                flags.push("no ssh");
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            };
            let name = w
                .custom_title
                .as_deref()
                .map(|c| crate::text::clean(c, false))
                .unwrap_or_default();
            human.push_str(&format!(
                "{:<28} {:<8} {:<10} {name}{flags}\n",
                crate::text::clean(&w.title, false),
                w.id,
                w.state
            ));
        }
    }
    let value =
        json!({"workspaces": list.iter().map(workspaces::Workspace::to_json).collect::<Vec<_>>()});
    ctx.out.result(&value, &human);
    Ok(0)
}
