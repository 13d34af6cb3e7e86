//! `runcode status`: every cached session and its expiry.

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session};

pub fn run(ctx: &Ctx) -> Result<i32> {
    let attached = attach::read(&ctx.paths).map(|a| a.id);
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
            human.push_str(&format!(
                "{mark} #{:<8} {:<24} {when}\n",
                s.meta.ws_id, s.meta.alias
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
    ctx.out.result(
        &json!({"attached": attached, "workspace_id": attached, "sessions": rows}),
        &human,
    );
    Ok(0)
}
