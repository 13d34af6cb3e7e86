//! `runcode exec [--home] [--] <cmd...>`: run on the attached workspace, in
//! its project directory, with stdio passed through and the command's own
//! exit status. A valid cached session means no control-plane call at all.
//!
//! `--` may be left out (`runcode exec ls -la`), as `docker exec` allows,
//! unless a word after the command is one of runcode's own flags: then it
//! is unclear whose flag it is, and the command is refused with the form
//! that says it (docs/cli.md).

use std::ffi::OsString;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::resume::{self, Got, Plan};
use crate::remote::runs;
use crate::session::{self, Policy};
use crate::{attach, remote};

pub const POLICY: Policy = Policy::Command;

/// `word` when it is one of the flags `exec` itself takes.
fn runcode_flag(word: &OsString) -> Option<String> {
    const FLAGS: &[&str] = &[
        "--home",
        "--detach",
        "--no-resume",
        "--wait",
        "--timeout",
        "--secret",
        "--ttl",
        "--force",
        "--json",
        "--api-base",
        "--web-base",
        "--token",
        "--help",
        "--version",
        "-h",
        "-V",
    ];
    let word = word.to_str()?;
    FLAGS
        .iter()
        .find(|f| word == **f || word.starts_with(&format!("{f}=")))
        .map(|f| (*f).to_owned())
}

/// `exec --detach`: the run started in the background; its id printed as
/// soon as the workspace has recorded it.
pub fn detach(
    ctx: &Ctx,
    flags: SessionFlags,
    home: bool,
    command: &[OsString],
    timeout: Option<u64>,
) -> Result<i32> {
    check(command)?;
    let a = attach::require(&ctx.paths)?;
    let req = flags.request(POLICY);
    let (s, _) = session::acquire(ctx, a.id, req)?;
    let line = remote::command_line(if home { None } else { Some(&s.meta.workdir) }, command);
    let (_, code, run_id) = remote::attempt(ctx, req, s, true, |s, call| {
        let run_id = call.run_id().to_owned();
        let mut cmd = call.ssh_raw(s, &runs::detach_line(&run_id, &line, timeout));
        cmd.stdin(std::process::Stdio::null());
        let (status, _) = remote::output(cmd, s.meta.ws_id)?;
        Ok((status, status.success().then_some(run_id)))
    })?;
    let Some(run_id) = run_id.filter(|_| code == 0) else {
        return Err(Error::Usage(format!(
            "the workspace could not record the run (status {code}); run it without --detach"
        )));
    };
    ctx.out.result(
        &serde_json::json!({"workspace_id": a.id, "run_id": run_id, "running": true}),
        &format!("started run {run_id}; `runcode attach {run_id} --wait 60` follows it"),
    );
    Ok(0)
}

/// Refuses what `exec` cannot run: no command, or one whose words could be
/// runcode's flags.
fn check(command: &[OsString]) -> Result<()> {
    if command.is_empty() {
        return Err(Error::Usage(
            "no command: write it after `--`, as in `runcode exec -- ls -la`".to_owned(),
        ));
    }
    let dashed = std::env::args_os().any(|a| a == "--");
    if !dashed && let Some(flag) = command.iter().skip(1).find_map(runcode_flag) {
        return Err(Error::Usage(format!(
            "{flag} after the command could be runcode's flag or the command's: put `--` before the command, as in `runcode exec [flags] -- {}`",
            command
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    Ok(())
}

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    home: bool,
    command: &[OsString],
    plan: Plan,
    secrets: &[String],
) -> Result<i32> {
    check(command)?;
    let a = attach::require(&ctx.paths)?;
    // The secrets are found before anything reaches the workspace; every
    // value this workspace may use is hidden in the output, named or not.
    let chosen = crate::secrets::pick(&ctx.paths, a.id, secrets)?;
    let given = resume::Given {
        preamble: (!chosen.is_empty()).then(|| crate::secrets::preamble(&chosen)),
        hide: crate::redact::Secrets::new(crate::secrets::usable(&ctx.paths, a.id)),
    };
    let req = flags.request(POLICY);
    let (s, _) = session::acquire(ctx, a.id, req)?;
    let line = remote::command_line(if home { None } else { Some(&s.meta.workdir) }, command);
    let ran = resume::run_line_given(ctx, req, s, &line, plan, &given)?;
    let waited = plan.wait.map(|w| w.as_secs()).unwrap_or_default();
    resume::report(
        ctx,
        a.id,
        &ran.run_id,
        Got::default(),
        ran.got,
        ran.ended,
        waited,
    )
}
