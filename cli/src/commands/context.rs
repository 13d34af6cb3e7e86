//! `runcode context [ws]`: one remote POSIX-sh probe, fed on stdin, that
//! prints a flat digest of the box; parsed into JSON or shown as text.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::workspaces::{self, Target};
use crate::remote::{self, Call, scripts};
use crate::session::{self, Policy, Session};
use crate::{attach, remote::interrupt, text};

pub const POLICY: Policy = Policy::Attach;

/// The most bytes of the probe's digest kept.
const DIGEST_LIMIT: usize = 256 * 1024;

pub fn run(ctx: &Ctx, flags: SessionFlags, arg: Option<&str>, timeout: u64) -> Result<i32> {
    let id = match arg {
        None => attach::require(&ctx.paths)?.id,
        Some(a) => match workspaces::target(a)? {
            Target::Id(id) => id,
            Target::Name(_) => ctx.resolve(a)?.id,
        },
    };
    let req = flags.request(POLICY);
    let (mut s, _) = session::acquire(ctx, id, req)?;
    // The probe only reads: when the link drops under it, it is simply asked
    // again on a new connection, within the same bound as a run's resume.
    let deadline = Instant::now() + crate::remote::resume::bound();
    let (s, _, raw) = loop {
        match remote::attempt(ctx, req, s.clone(), true, |s, call| probe(s, call, timeout)) {
            Err(Error::SshDropped { .. }) if Instant::now() < deadline => {
                ctx.out.progress(&format!(
                    "runcode: the connection to #{id} dropped during context; asking again"
                ));
                std::thread::sleep(Duration::from_millis(500));
                s = session::load(&ctx.paths, id).unwrap_or(s);
            }
            other => break other?,
        }
    };
    // The workdir of the session that answered (a retry may have minted).
    let value = digest(id, &s.meta.workdir, &raw);
    ctx.out.result(&value, &human(&value));
    Ok(0)
}

/// Runs the probe: ssh's status and what the probe printed.
fn probe(s: &Session, call: &Call, timeout: u64) -> Result<(ExitStatus, String)> {
    let mut cmd = call.ssh(s, &scripts::stdin_line(&[&s.meta.workdir]));
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let (mut child, _guard) = interrupt::spawn(&mut cmd, "ssh")?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(scripts::CONTEXT.as_bytes());
    }
    let mut stdout = child.stdout.take().expect("piped");
    // Bounded, then drained: the digest is small, whatever the workspace
    // sends (the timeout below ends a stream that never stops).
    let reader = std::thread::spawn(move || {
        let (bytes, _) = remote::read_bounded(&mut stdout, DIGEST_LIMIT);
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let deadline = Instant::now() + Duration::from_secs(timeout);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(Error::spawn("ssh"))? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::ProbeTimeout { timeout });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    Ok((status, text))
}

/// Parses the probe's lines; every value is cleaned of control characters
/// and a git remote loses any credential in it.
pub fn digest(id: u64, workdir: &str, raw: &str) -> Value {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut markers = Vec::new();
    let mut tools = serde_json::Map::new();
    let mut git = serde_json::Map::new();
    for line in raw.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        // Only the keys the probe prints: a key is never shown as it came.
        if !known_key(key) {
            continue;
        }
        let value: String = text::clean(value.trim(), false)
            .chars()
            .take(1024)
            .collect();
        if key == "marker" {
            markers.push(Value::String(value));
        } else if let Some(tool) = key.strip_prefix("tool.") {
            tools.insert(tool.to_owned(), Value::String(value));
        } else if let Some(field) = key.strip_prefix("git.") {
            let value = if field == "remote" {
                strip_credentials(&value)
            } else {
                value
            };
            git.insert(
                field.to_owned(),
                if field == "dirty" {
                    Value::Bool(value == "yes")
                } else {
                    Value::String(value)
                },
            );
        } else {
            fields.insert(key.to_owned(), value);
        }
    }
    let field = |k: &str| fields.get(k).cloned().map_or(Value::Null, Value::String);
    json!({
        "workspace_id": id,
        "workdir": workdir,
        "cwd": field("cwd"),
        "os": field("os"),
        "arch": field("arch"),
        "kernel": field("kernel"),
        "distro": field("distro"),
        "git": if git.is_empty() { Value::Null } else { Value::Object(git) },
        "markers": markers,
        "tools": tools,
        "disk": field("disk"),
    })
}

/// The probe's keys: its fields, `marker`, `git.<field>`, and `tool.<name>`
/// for the tools it asks about.
fn known_key(key: &str) -> bool {
    const FIELDS: &[&str] = &["cwd", "os", "arch", "kernel", "distro", "disk", "marker"];
    const GIT: &[&str] = &["branch", "dirty", "remote", "head"];
    const TOOLS: &[&str] = &[
        "python3", "node", "go", "rustc", "java", "ruby", "docker", "git", "pnpm", "npm", "make",
    ];
    FIELDS.contains(&key)
        || key.strip_prefix("git.").is_some_and(|f| GIT.contains(&f))
        || key
            .strip_prefix("tool.")
            .is_some_and(|t| TOOLS.contains(&t))
}

/// `https://user:token@host/x` -> `https://host/x`.
fn strip_credentials(url: &str) -> String {
    crate::url::without_userinfo(url)
}

fn human(v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("-").to_owned();
    let mut out = format!(
        "#{} {}\n  os      {} {} ({}), {}\n",
        v["workspace_id"],
        s("cwd"),
        s("os"),
        s("arch"),
        s("kernel"),
        s("distro")
    );
    if let Some(git) = v["git"].as_object() {
        let g = |k: &str| git.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
        let dirty = if git.get("dirty") == Some(&Value::Bool(true)) {
            ", uncommitted changes"
        } else {
            ""
        };
        out.push_str(&format!(
            "  git     {} at {}{dirty}{}\n",
            g("branch"),
            g("head"),
            git.get("remote")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    let markers: Vec<&str> = v["markers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !markers.is_empty() {
        out.push_str(&format!("  project {}\n", markers.join(" ")));
    }
    if let Some(tools) = v["tools"].as_object() {
        for (name, version) in tools {
            out.push_str(&format!("  {name:<7} {}\n", version.as_str().unwrap_or("")));
        }
    }
    out.push_str(&format!("  disk    {}", s("disk")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_parses_and_cleans() {
        let raw = "cwd=/w\nos=Linux\ngit.branch=main\ngit.dirty=yes\ngit.remote=https://bob:ghp_x@github.com/a/b.git\nmarker=Cargo.toml\ntool.git=git version 2.4\u{1b}[2J\ndisk=1G free of 2G\njunk\n";
        let v = digest(7, "/w", raw);
        assert_eq!(v["git"]["dirty"], true);
        assert_eq!(v["git"]["remote"], "https://github.com/a/b.git");
        assert_eq!(v["markers"], json!(["Cargo.toml"]));
        assert_eq!(v["tools"]["git"], "git version 2.4[2J");
        assert_eq!(v["distro"], Value::Null);
    }

    #[test]
    fn keys_are_only_the_probes_own_and_values_stay_on_one_line() {
        let raw = "tool.\u{1b}]0;evil\u{7}x=1\ntool.git=ok\nos=Linux\u{1b}]52;c;aGk=\u{7}\nevil\u{1b}[2J=2\n";
        let v = digest(7, "/w", raw);
        assert_eq!(v["tools"], json!({"git": "ok"}));
        assert_eq!(v["os"], "Linux]52;c;aGk=");
        let shown = human(&v);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
    }
}
