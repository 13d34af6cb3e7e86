//! `runcode runs`: the runs recorded on the attached workspace, newest
//! first: each one's id, whether it is still running, and its exit status
//! once it ended. What `disconnected` points at when a link stayed down.

use serde_json::{Value, json};

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::session::{self, Policy};
use crate::{attach, remote, remote::runs};

pub const POLICY: Policy = Policy::Command;

/// The most runs listed, newest first (docs/cli.md).
const MAX_RUNS: usize = 200;

pub fn run(ctx: &Ctx, flags: SessionFlags) -> Result<i32> {
    let a = attach::require(&ctx.paths)?;
    let (s, _) = session::acquire(ctx, a.id, flags.request(POLICY))?;
    let call = remote::Call::new(&s);
    let mut cmd = call.ssh_raw(&s, &runs::list_line());
    cmd.stdin(std::process::Stdio::null());
    let (status, text) = remote::output(cmd, a.id)?;
    if !status.success() {
        remote::replay(ctx, &call.diagnostics());
        return Err(Error::SshDropped {
            id: a.id,
            reason: remote::dropped_reason(&call.diagnostics()),
        });
    }
    let rows: Vec<Value> = text.lines().filter_map(row).take(MAX_RUNS).collect();
    let human = if rows.is_empty() {
        format!("no runs recorded on #{}", a.id)
    } else {
        rows.iter()
            .map(|r| {
                format!(
                    "{}  {}{}",
                    r["run_id"].as_str().unwrap_or_default(),
                    r["state"].as_str().unwrap_or_default(),
                    r["exit_status"]
                        .as_i64()
                        .map(|c| format!(" (exit {c})"))
                        .unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    ctx.out
        .result(&json!({"workspace_id": a.id, "runs": rows}), &human);
    Ok(0)
}

/// One line of the listing, `<id> <running|done|lost> <status|->`.
fn row(line: &str) -> Option<Value> {
    let mut words = line.split_whitespace();
    let (id, state, status) = (words.next()?, words.next()?, words.next()?);
    if !runs::valid_id(id) || !["running", "done", "lost"].contains(&state) {
        return None;
    }
    Some(json!({
        "run_id": id,
        "state": state,
        "exit_status": status.parse::<i64>().ok(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn listing_lines_are_read_and_garbage_dropped() {
        let r = super::row("12-0-9 done 7").unwrap();
        assert_eq!(
            (r["state"].as_str(), r["exit_status"].as_i64()),
            (Some("done"), Some(7))
        );
        assert_eq!(
            super::row("12-0-9 running -").unwrap()["exit_status"],
            serde_json::Value::Null
        );
        assert!(super::row("x;y done 1").is_none() && super::row("1 odd 1").is_none());
    }
}
