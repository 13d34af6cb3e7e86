//! `runcode doctor`: preflight checks, each ok / warn / fail with a detail.

use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::error::{Code, Error, Result};
use crate::remote::ssh::Transport;
use crate::{plane::api, plane::token, plane::workspaces, remote::sshconfig, session};

struct Check {
    name: &'static str,
    status: &'static str,
    detail: String,
    /// The error code a command would fail with for this problem.
    code: Option<Code>,
    /// The command that repairs it.
    fix: Option<&'static str>,
}

fn check(name: &'static str, status: &'static str, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
        code: None,
        fix: None,
    }
}

pub fn run(ctx: &Ctx) -> Result<i32> {
    let mut checks = Vec::new();
    let ssh = crate::remote::ssh::version().output();
    let transport = Transport::chosen();
    match &ssh {
        Ok(out) => {
            let version = String::from_utf8_lossy(if out.stderr.is_empty() {
                &out.stdout
            } else {
                &out.stderr
            })
            .trim()
            .to_owned();
            checks.push(check("ssh", "ok", version));
        }
        // runcode's own client carries commands without it; a terminal and
        // editors still need it.
        Err(_) if transport == Transport::Builtin => checks.push(Check {
            code: Some(Code::SshMissing),
            ..check("ssh", "warn", crate::error::SSH_HINT)
        }),
        Err(_) => checks.push(Check {
            code: Some(Code::SshMissing),
            ..check("ssh", "fail", crate::error::SSH_HINT)
        }),
    }
    let held = held_connections(ctx);
    let exposed = held.iter().any(|(_, user_only)| !user_only);
    let mut detail = match transport {
        Transport::Builtin => format!(
            "{}: runcode's own SSH client, one held connection per session ({} to change)",
            transport.name(),
            crate::remote::ssh::TRANSPORT_VAR
        ),
        Transport::OpenSsh => format!(
            "{}: the OpenSSH client through the session's master ({} to change)",
            transport.name(),
            crate::remote::ssh::TRANSPORT_VAR
        ),
    };
    for (line, _) in &held {
        detail.push_str("; ");
        detail.push_str(line);
    }
    checks.push(check(
        "transport",
        if exposed { "fail" } else { "ok" },
        detail,
    ));
    let tok = token::lookup(ctx.token.as_deref(), &ctx.paths);
    match &tok {
        Ok((_, token::Source::File)) => checks.push(check(
            "token",
            "ok",
            format!("from {}", ctx.paths.token().display()),
        )),
        Ok((_, token::Source::Flag)) => {
            let from = token::overridden_by(ctx.token.as_deref()).unwrap_or("--token");
            checks.push(check("token", "ok", format!("from {from}")));
        }
        Err(e) => checks.push(check("token", "warn", e.to_string())),
    }
    let base_ok = api::is_safe_base(&ctx.api_base);
    if base_ok {
        checks.push(check(
            "api_base",
            "ok",
            crate::text::clean(&ctx.api_base, false),
        ));
    } else {
        checks.push(check(
            "api_base",
            "fail",
            format!(
                "{} is not https:// (http:// is allowed only to loopback)",
                crate::text::clean(&ctx.api_base, false)
            ),
        ));
    }
    checks.push(check(
        "platform",
        "ok",
        format!(
            "{}/{}; config {}; cache {}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            ctx.paths.config.display(),
            ctx.paths.cache.display()
        ),
    ));
    let wires = crate::wiring::found::find();
    if !wires.iter().any(|w| w.name == "statusline") {
        checks.push(check(
            "statusline",
            "warn",
            "not wired into Claude Code: `runcode install-statusline`",
        ));
    }
    // What runcode wrote into other programs must still point at something
    // that runs (an update or a cleanup may have removed it).
    for w in &wires {
        checks.push(match crate::wiring::found::runs(&w.program) {
            Ok(()) => check(
                w.name,
                "ok",
                format!("{} runs {}", w.file.display(), w.program.display()),
            ),
            Err(why) => Check {
                fix: Some(w.fix),
                ..check(
                    w.name,
                    "fail",
                    format!(
                        "{} names {why}: run `{}` to repair it",
                        w.file.display(),
                        w.fix
                    ),
                )
            },
        });
    }
    if let (true, Ok((t, _))) = (base_ok, &tok) {
        let reached = api::Api::new(&ctx.api_base, t.clone()).and_then(|a| workspaces::fetch(&a));
        match reached {
            Ok(list) => checks.push(check(
                "api",
                "ok",
                format!("{} workspaces visible", list.len()),
            )),
            // A refused token is a failure of the setup (`gh auth status`
            // exits 1 too); an unreachable API may be a passing outage.
            Err(e @ (Error::Unauthorized(_) | Error::Forbidden(_))) => {
                checks.push(check(
                    "api",
                    "fail",
                    format!("{e}; run `runcode login` (or fix RUNCODE_TOKEN / --token)"),
                ));
            }
            Err(e) => checks.push(check("api", "warn", e.to_string())),
        }
    }
    let probe = ctx.paths.session_dir(99_999_999).join("ctl");
    let socket = if probe.as_os_str().len() <= sshconfig::CONTROL_PATH_MAX {
        check(
            "socket",
            "ok",
            format!(
                "ssh's control sockets fit under the path limit ({} of {} bytes)",
                probe.as_os_str().len(),
                sshconfig::CONTROL_PATH_MAX
            ),
        )
    } else {
        match session::short_dir() {
            Ok(dir) => check(
                "socket",
                "ok",
                format!("the cache path is long: sockets go to {}", dir.display()),
            ),
            Err(e) => check("socket", "fail", e.to_string()),
        }
    };
    checks.push(socket);
    checks.extend(agent_checks());

    let ok = !checks.iter().any(|c| c.status == "fail");
    let value = json!({"ok": ok, "checks": checks.iter().map(|c| {
        let mut v = json!({"name": c.name, "status": c.status, "detail": c.detail});
        if let Some(code) = c.code {
            v["code"] = json!(code.as_str());
        }
        if let Some(fix) = c.fix {
            v["fix"] = json!(fix);
        }
        v
    }).collect::<Vec<Value>>()});
    let human: String = checks
        .iter()
        .map(|c| {
            let code = c
                .code
                .map(|k| format!(" ({})", k.as_str()))
                .unwrap_or_default();
            format!(
                "{:<4}  {:<10} {}{code}\n",
                c.status,
                c.name,
                crate::text::clean(&c.detail, false)
            )
        })
        .collect();
    ctx.out.result(&value, &human);
    Ok(if ok { 0 } else { 1 })
}

/// Which runcode tools each installed agent client asks about before it
/// runs them (an `ok`: asking is the clients' own default, and a choice).
fn agent_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    if let Some(text) =
        crate::wiring::codex::config_path().and_then(|p| std::fs::read_to_string(p).ok())
        && crate::wiring::codex::plugin_key(&text).is_some()
    {
        checks.push(if crate::wiring::codex::has_block(&text) {
            check(
                "codex",
                "ok",
                "runs every runcode tool without asking (agent-setup)",
            )
        } else {
            Check {
                fix: Some("runcode agent-setup codex"),
                ..check(
                    "codex",
                    "ok",
                    format!(
                        "asks before {}; the tools that only look run unasked",
                        crate::mcp::codex_asks().join(", ")
                    ),
                )
            }
        });
    }
    if let Some(text) =
        crate::wiring::claude::settings_path().and_then(|p| std::fs::read_to_string(p).ok())
    {
        checks.push(if crate::wiring::claude::allows_tools(&text) {
            check("claude", "ok", "runs every runcode tool without asking (agent-setup)")
        } else {
            Check {
                fix: Some("runcode agent-setup claude"),
                ..check(
                    "claude",
                    "ok",
                    "asks before each runcode tool, except in /runcode:ssh sessions (its allowed-tools)",
                )
            }
        });
    }
    checks
}

/// The held connections running, each with its endpoint's protection as
/// the OS reports it, and whether that lets this user alone in.
fn held_connections(ctx: &Ctx) -> Vec<(String, bool)> {
    session::all(&ctx.paths)
        .iter()
        .filter_map(|s| {
            let bytes = std::fs::read(s.dir().join(crate::remote::builtin::HELD_STATE)).ok()?;
            let state: Value = serde_json::from_slice(&bytes).ok()?;
            let protection = state["protection"].as_str()?;
            let user_only = crate::remote::builtin::endpoint_user_only(protection);
            let line = format!(
                "#{} held connection up (pid {}), endpoint {} protected {} ({})",
                s.meta.ws_id,
                state["pid"],
                crate::text::clean(state["endpoint"].as_str().unwrap_or("?"), false),
                crate::text::clean(protection, false),
                if user_only {
                    "this user only"
                } else {
                    "NOT this user only: run `runcode disconnect`"
                }
            );
            Some((line, user_only))
        })
        .collect()
}
