//! `runcode status`: every cached session and its expiry.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session};

pub fn run(ctx: &Ctx) -> Result<i32> {
    let attachment = attach::read(&ctx.paths);
    let attached = attachment.as_ref().map(|a| a.id);
    let sessions = session::all(&ctx.paths);
    let mut human = String::new();
    let rows: Vec<_> = sessions
        .iter()
        .map(|s| {
            let left = s.seconds_left();
            let mark = if attached == Some(s.meta.ws_id) {
                "*"
            } else {
                " "
            };
            let when = if left > 0 {
                format!("{} left", crate::text::minutes(left))
            } else {
                "expired".to_owned()
            };
            // Named by title where it is known (the attached one); the
            // alias is the session's own (`ssh -F <its config> <alias>`).
            let name = match &attachment {
                Some(a) if a.id == s.meta.ws_id => a.name(),
                _ => format!("#{}", s.meta.ws_id),
            };
            human.push_str(&format!(
                "{mark} {name:<36} {when:<12} alias {}\n",
                s.meta.alias
            ));
            json!({
                "workspace_id": s.meta.ws_id,
                "alias": s.meta.alias,
                "expires_at": s.meta.expires_at,
                "seconds_left": left.max(0),
                "valid": left > 0,
                "attached": attached == Some(s.meta.ws_id),
            })
        })
        .collect();
    if rows.is_empty() {
        human.push_str("no cached sessions");
    }
    let token_from = crate::plane::token::overridden_by(ctx.token.as_deref());
    if let Some(source) = token_from {
        human.push_str(&format!(
            "\nthe token comes from {source}, which overrides the saved one"
        ));
    }
    ctx.out.result(
        &json!({"attached": attached, "workspace_id": attached, "sessions": rows, "token_overridden_by": token_from}),
        &human,
    );
    Ok(0)
}
