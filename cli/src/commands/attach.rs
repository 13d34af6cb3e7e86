//! `runcode attach <run-id>`: follows a run recorded on the attached
//! workspace (one that a dropped link left behind, say): its whole output
//! so far, then the rest as it comes, each stream on its own, and its exit
//! status as the CLI's own. Ctrl-C ends the run. With `--wait SECS` it
//! stops waiting then and leaves the run going: `still_running`, exit 75.
//! `--stdout-offset` / `--stderr-offset` start later in each stream (the
//! next offsets an earlier answer gave), so nothing is read twice.

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::resume::{self, Followed, Following, Got, Io};
use crate::session::{self, Policy};
use crate::{attach, remote::runs};

pub const POLICY: Policy = Policy::Command;

pub fn run(
    ctx: &Ctx,
    flags: SessionFlags,
    run_id: &str,
    wait: Option<u64>,
    from: Got,
) -> Result<i32> {
    let run_id = runs::parse_id(run_id)?;
    let a = attach::require(&ctx.paths)?;
    let req = flags.request(POLICY);
    let (s, _) = session::acquire(ctx, a.id, req)?;
    // Every value this workspace may use is hidden, as in `exec`'s output.
    let hide = crate::redact::Secrets::new(crate::secrets::usable(&ctx.paths, a.id));
    let mut stdout = crate::redact::Stream::new(hide.clone(), std::io::stdout());
    let mut stderr = crate::redact::Stream::new(hide, std::io::stderr());
    let mut io = Io {
        stdin: false,
        preamble: None,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let how = Following {
        after_drop: false,
        until: wait.map(|w| std::time::Instant::now() + std::time::Duration::from_secs(w)),
    };
    let mut got = from;
    let followed = resume::follow(ctx, req, s, &run_id, &mut got, &mut io, how);
    let _ = stdout.finish();
    let _ = stderr.finish();
    let ended = match followed? {
        Followed::Ended(_, code, how) => Some((code, how)),
        Followed::NeverStarted(_) => return Err(Error::NoRun { run_id }),
        Followed::StillRunning(_) => None,
    };
    let waited = wait.unwrap_or_default();
    resume::report(ctx, a.id, &run_id, from, got, ended, waited)
}
