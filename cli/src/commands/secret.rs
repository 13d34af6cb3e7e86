//! `runcode secret set|list|rm`: the secrets kept on this machine for
//! commands on workspaces (docs/security.md, "Secrets"). `set` reads the
//! value from stdin, or from a prompt that does not echo; nothing prints a
//! value.

use std::io::Read;

use serde_json::json;

use crate::cli::SecretAction;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::secrets;

pub fn run(ctx: &Ctx, action: SecretAction) -> Result<i32> {
    match action {
        SecretAction::Set { name, workspace } => {
            secrets::check_name(&name)?;
            let ws = scope(ctx, workspace.as_deref())?;
            let value = read_value(&name)?;
            let entry = secrets::set(&ctx.paths, &name, ws, &value)?;
            ctx.out.result(
                &json!({"name": entry.name, "workspace_id": entry.workspace, "store": entry.store}),
                &format!(
                    "kept {} for {} ({}); `runcode exec --secret {}` gives it to a command",
                    entry.name,
                    scope_words(entry.workspace),
                    store_words(&entry.store),
                    entry.name
                ),
            );
            Ok(0)
        }
        SecretAction::List { attached } => {
            let mut list = secrets::list(&ctx.paths);
            if attached {
                let id = crate::attach::require(&ctx.paths)?.id;
                list.retain(|e| e.workspace.is_none_or(|w| w == id));
            }
            let human = if list.is_empty() {
                "no secrets; `runcode secret set NAME` keeps one".to_owned()
            } else {
                list.iter()
                    .map(|e| {
                        format!(
                            "{:<24} {} ({})",
                            e.name,
                            scope_words(e.workspace),
                            store_words(&e.store)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            ctx.out.result(
                &json!({"secrets": list.iter().map(|e| json!({
                    "name": e.name, "workspace_id": e.workspace, "store": e.store
                })).collect::<Vec<_>>()}),
                &human,
            );
            Ok(0)
        }
        SecretAction::Rm { name, workspace } => {
            let ws = scope(ctx, workspace.as_deref())?;
            if !secrets::remove(&ctx.paths, &name, ws)? {
                return Err(Error::SecretMissing {
                    name,
                    ws: ws.unwrap_or_default(),
                    elsewhere: false,
                });
            }
            ctx.out.result(
                &json!({"removed": true, "name": name, "workspace_id": ws}),
                &format!("removed {name} for {}", scope_words(ws)),
            );
            Ok(0)
        }
    }
}

/// The workspace a secret is for: `--workspace` resolved to its id.
fn scope(ctx: &Ctx, workspace: Option<&str>) -> Result<Option<u64>> {
    match workspace {
        None => Ok(None),
        // A number is taken as it is: a secret may be kept before the
        // workspace is reachable.
        Some(w) if !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) => w
            .parse()
            .map(Some)
            .map_err(|_| Error::Usage(format!("--workspace {w}: not a workspace id"))),
        Some(w) => Ok(Some(ctx.resolve(w)?.id)),
    }
}

fn scope_words(ws: Option<u64>) -> String {
    ws.map_or_else(
        || "every workspace".to_owned(),
        |id| format!("workspace #{id}"),
    )
}

fn store_words(store: &str) -> &'static str {
    if store == "keyring" {
        "in the OS credential store"
    } else {
        "in a 0600 file under runcode's config directory"
    }
}

/// The value: a prompt without echo on a terminal, else all of stdin with
/// one final newline taken off.
fn read_value(name: &str) -> Result<Vec<u8>> {
    let stdin = std::io::stdin();
    let mut value = if std::io::IsTerminal::is_terminal(&stdin) {
        rpassword::prompt_password(format!("Value of {name} (not shown): "))
            .map_err(|e| Error::Io {
                path: "stdin".into(),
                source: e,
            })?
            .into_bytes()
    } else {
        let mut v = Vec::new();
        stdin
            .lock()
            .take(secrets::MAX_LEN as u64 + 2)
            .read_to_end(&mut v)
            .map_err(|e| Error::Io {
                path: "stdin".into(),
                source: e,
            })?;
        v
    };
    if value.ends_with(b"\n") {
        value.pop();
        if value.ends_with(b"\r") {
            value.pop();
        }
    }
    Ok(value)
}
