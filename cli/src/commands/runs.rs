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
        remote::replay(ctx, &s, &call.diagnostics());
        return Err(Error::SshDropped {
            id: a.id,
            reason: remote::dropped_reason(&call.diagnostics()),
        });
    }
    let rows: Vec<Value> = text.lines().filter_map(row).take(MAX_RUNS).collect();
    let human = if rows.is_empty() {
        format!("no runs recorded on #{}", a.id)
    } else {
        let mut lines = vec![format!(
            "{:<24}  {:<16}  {:<12}  COMMAND",
            "RUN", "STARTED (UTC)", "ENDED"
        )];
        for r in &rows {
            let ended = match (r["state"].as_str(), r["exit_status"].as_i64()) {
                (Some("done"), Some(code)) => format!("exit {code}"),
                (Some(state), _) => state.to_owned(),
                _ => String::new(),
            };
            let started = r["started_at"]
                .as_str()
                .map(|s| s.replace('T', " ").chars().take(16).collect::<String>())
                .unwrap_or_else(|| "-".to_owned());
            lines.push(format!(
                "{:<24}  {:<16}  {:<12}  {}",
                r["run_id"].as_str().unwrap_or_default(),
                started,
                ended,
                r["command"].as_str().unwrap_or_default()
            ));
        }
        lines.join("\n")
    };
    ctx.out
        .result(&json!({"workspace_id": a.id, "runs": rows}), &human);
    Ok(0)
}

/// `runs --stop <run-id>`: ends the run's command and every process it
/// started on the workspace, and says how it ended.
pub fn stop(ctx: &Ctx, flags: SessionFlags, run_id: &str) -> Result<i32> {
    let run_id = runs::parse_id(run_id)?;
    let a = attach::require(&ctx.paths)?;
    let (s, _) = session::acquire(ctx, a.id, flags.request(POLICY))?;
    let call = remote::Call::new(&s);
    let mut cmd = call.ssh_raw(&s, &runs::stop_line(&run_id));
    cmd.stdin(std::process::Stdio::null());
    let (status, text) = remote::output(cmd, a.id)?;
    if status.code() == Some(crate::remote::scripts::status::MISSING) {
        return Err(Error::NoRun { run_id });
    }
    if !status.success() {
        remote::replay(ctx, &s, &call.diagnostics());
        return Err(Error::SshDropped {
            id: a.id,
            reason: remote::dropped_reason(&call.diagnostics()),
        });
    }
    let state = runs::parse_state(&text);
    let (already, exit_status) = match state {
        Some(runs::State::Done(code)) => (text.contains("already"), Some(code)),
        _ => (false, None),
    };
    let human = if already {
        format!("run {run_id} had already ended")
    } else {
        format!("stopped run {run_id}")
    };
    ctx.out.result(
        &json!({
            "workspace_id": a.id,
            "run_id": run_id,
            "running": false,
            "stopped": !already,
            "exit_status": exit_status,
        }),
        &human,
    );
    Ok(0)
}

/// One line of the listing: id, state, status (or `-`), start time (epoch
/// seconds, or `-`) and the command's first line, apart by tabs.
fn row(line: &str) -> Option<Value> {
    let mut fields = line.split('\t');
    let (id, state, status) = (fields.next()?, fields.next()?, fields.next()?);
    let started = fields.next().and_then(|s| s.trim().parse::<i64>().ok());
    let raw = fields.next().unwrap_or_default();
    // The recorded line starts with runcode's own `cd '<workdir>' && `.
    let typed = raw
        .strip_prefix("cd '")
        .and_then(|rest| rest.split_once("' && ").map(|(_, cmd)| cmd))
        .unwrap_or(raw);
    let command: String = crate::text::clean(typed.trim(), false)
        .chars()
        .take(200)
        .collect();
    if !runs::valid_id(id)
        || !["running", "done", "lost", "interrupted", "timeout"].contains(&state)
    {
        return None;
    }
    Some(json!({
        "run_id": id,
        "state": state,
        "exit_status": status.parse::<i64>().ok(),
        "started_at": started.map(runcode_rules::time::iso8601),
        "command": command,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn listing_lines_are_read_and_garbage_dropped() {
        let r = super::row("12-0-9\tdone\t7\t1796199419\tcd '/w/it'\\''s' && make test").unwrap();
        assert_eq!(
            (r["state"].as_str(), r["exit_status"].as_i64()),
            (Some("done"), Some(7))
        );
        assert_eq!(r["command"], "make test");
        assert_eq!(r["started_at"], "2026-12-02T08:16:59+00:00");
        let running = super::row("12-0-9\trunning\t-\t-\t").unwrap();
        assert_eq!(running["exit_status"], serde_json::Value::Null);
        assert_eq!(running["started_at"], serde_json::Value::Null);
        let hostile = super::row("12-0-9\tdone\t1\t-\t\u{1b}]0;x\u{7}ls").unwrap();
        assert_eq!(hostile["command"], "]0;xls");
        assert!(super::row("x;y\tdone\t1").is_none() && super::row("1\todd\t1").is_none());
    }
}
