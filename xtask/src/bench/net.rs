//! P12, P13 and P14: the CLI at a 100 ms round trip, the devplane's relay
//! delaying every byte between the CLI and the gateway. P12: warm `exec` (a
//! recorded run, as users get it) and the MCP exec tool against plain ssh
//! over the same master, and what `connect` and the first command cost, in
//! round trips. P13: warm `exec` over the builtin transport's held
//! connection against the OpenSSH master path. P14: the first command
//! straight after `connect` (which starts the held connection) against a
//! warm one.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Sample, ms, ratio};
use crate::plane;

/// The round trip the relay adds.
const RTT: Duration = Duration::from_millis(100);

pub fn p12(dir: &std::path::Path, cli: &std::path::Path, runs: usize) -> Result<String, String> {
    let home = dir.join("home-p12");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let plane = plane::start(&dir.join("data-p12"), &["--relay"])?;
    let runcode = |args: &[&str]| {
        let mut c = super::runcode(cli, &home, &plane, args);
        c.env("RUNCODE_TRANSPORT", "openssh");
        c
    };
    delay(&plane)?;

    // Cold: connect (a mint over HTTP; it starts the master in the
    // background), then the first command at once, which joins it.
    let timed = |args: &[&str]| -> Result<(Duration, Vec<u8>), String> {
        let started = Instant::now();
        let out = runcode(args).output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "runcode {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok((started.elapsed(), out.stdout))
    };
    let (connect, out) = timed(&["--json", "connect", "1001"])?;
    let session: Value = serde_json::from_slice(&out).map_err(|e| format!("connect: {e}"))?;
    let (first, _) = timed(&["exec", "--", "true"])?;
    let config = session["config"].as_str().unwrap_or_default().to_owned();
    let alias = session["alias"].as_str().unwrap_or_default().to_owned();
    let workdir = session["workdir"].as_str().unwrap_or_default().to_owned();

    // Warm: the three, interleaved, over the one master.
    let mut server = super::mcp::Server::open(&runcode)?;
    let (mut exec, mut tool, mut ssh) = (sample(), sample(), sample());
    for _ in 0..runs {
        exec.times.push(timed(&["exec", "--", "true"])?.0);
        tool.times.push(server.exec_true()?);
        let started = Instant::now();
        let status = Command::new("ssh")
            .arg("-F")
            .arg(&config)
            .arg(&alias)
            .arg(format!("cd '{workdir}' && true"))
            .stdin(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        ssh.times.push(started.elapsed());
        if !status.success() {
            return Err("plain ssh failed".to_owned());
        }
    }
    server.close();
    let _ = runcode(&["disconnect"]).status();
    let rtts = |d: Duration| format!("{:.1} round trips", d.as_secs_f64() / RTT.as_secs_f64());
    Ok(format!(
        "| P12 | at a 100 ms round trip: warm `runcode exec -- true` vs plain ssh over the same master | {} ({} vs {}) | ≤ 1.10× |\n\
         | P12 | at a 100 ms round trip: the MCP `exec` tool call vs plain ssh over the same master | {} ({} vs {}) | ≤ 1.10× |\n\
         | P12 | at a 100 ms round trip: `connect` (one mint; the master opened in the background) / the first `exec` straight after (joins it) | {} ({}) / {} ({}) | reported |",
        ratio(exec.median(), ssh.median()),
        ms(exec.median()),
        ms(ssh.median()),
        ratio(tool.median(), ssh.median()),
        ms(tool.median()),
        ms(ssh.median()),
        ms(connect),
        rtts(connect),
        ms(first),
        rtts(first),
    ))
}

/// Sets the relay's delay to `RTT`.
fn delay(plane: &plane::Plane) -> Result<(), String> {
    let link = serde_json::json!({"delay_ms": RTT.as_millis()}).to_string();
    let status = Command::new("curl")
        .args(["-sf", "-X", "POST", "-H"])
        .arg(format!("Authorization: Token {}", plane.token()))
        .arg(format!("{}/_dev/link?workspace_id=1001", plane.api()))
        .args(["-d", &link])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("curl: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("could not set the relay's delay".to_owned())
    }
}

/// P13 and P14 (see the module).
pub fn p13(
    dir: &std::path::Path,
    cli: &std::path::Path,
    runs: usize,
    windows: Option<&std::path::Path>,
) -> Result<String, String> {
    let home = dir.join("home-p13");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let plane = plane::start(&dir.join("data-p13"), &["--relay"])?;
    delay(&plane)?;
    let timed = |transport: &str, args: &[&str]| -> Result<Duration, String> {
        let started = Instant::now();
        let out = super::runcode(cli, &home, &plane, args)
            .env("RUNCODE_TRANSPORT", transport)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "runcode {args:?} ({transport}): {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(started.elapsed())
    };
    let connect = timed("builtin", &["--json", "connect", "1001"])?;
    let first = timed("builtin", &["exec", "--", "true"])?;
    // The OpenSSH master, opened once; then both warm, interleaved.
    timed("openssh", &["exec", "--", "true"])?;
    let (mut held, mut master) = (sample(), sample());
    for _ in 0..runs {
        held.times.push(timed("builtin", &["exec", "--", "true"])?);
        master
            .times
            .push(timed("openssh", &["exec", "--", "true"])?);
    }
    let _ = super::runcode(cli, &home, &plane, &["disconnect"])
        .env("RUNCODE_TRANSPORT", "builtin")
        .status();
    // As the MCP `connect` tool runs it: `--wait` until ssh answers.
    let connect_wait = timed("builtin", &["--json", "connect", "1001", "--wait"])?;
    let first_wait = timed("builtin", &["exec", "--", "true"])?;
    let _ = super::runcode(cli, &home, &plane, &["disconnect"])
        .env("RUNCODE_TRANSPORT", "builtin")
        .status();
    // The OpenSSH path: `connect` opens the master in the background.
    let connect_ssh = timed("openssh", &["--json", "connect", "1001"])?;
    let first_ssh = timed("openssh", &["exec", "--", "true"])?;
    let _ = super::runcode(cli, &home, &plane, &["disconnect"])
        .env("RUNCODE_TRANSPORT", "openssh")
        .status();
    // As an agent comes back: the first command a model's turn after
    // `connect` (2 s, a short turn), over either transport.
    let mut paused = Vec::new();
    for transport in ["builtin", "openssh"] {
        timed(transport, &["--json", "connect", "1001"])?;
        std::thread::sleep(Duration::from_secs(2));
        paused.push(timed(transport, &["exec", "--", "true"])?);
        let _ = super::runcode(cli, &home, &plane, &["disconnect"])
            .env("RUNCODE_TRANSPORT", transport)
            .status();
    }
    let wine_row = match windows {
        Some(exe) => p13_wine(dir, exe, &plane, runs / 2, master.median())?,
        None => "| P13 | the same on the Windows build under Wine | not measured: no Windows build | reported |".to_owned(),
    };
    let rtts = |d: f64| format!("{:+.1} round trips", d / RTT.as_secs_f64());
    Ok(format!(
        "| P13 | at a 100 ms round trip: warm `runcode exec -- true` over the held connection (builtin transport) vs over the OpenSSH master | {} ({} vs {}) | ≤ 1.10× |\n\
         {}\n\
         | P14 | at a 100 ms round trip: the first `exec` straight after `connect` ({}), joining the held connection `connect` started, vs a warm one | {} ({} vs {}) | ≤ +3 round trips |\n\
         | P14 | at a 100 ms round trip: the first `exec` after `connect --wait` ({}, what the MCP `connect` tool runs) vs a warm one | {} ({} vs {}) | ≤ +3 round trips |\n\
         | P14 | at a 100 ms round trip, OpenSSH: the first `exec` straight after `connect` ({}), joining the master `connect` started, vs a warm one | {} ({} vs {}) | ≤ +3 round trips |\n\
         | P14 | at a 100 ms round trip: the first `exec` 2 s after `connect` (a model's turn), held connection / OpenSSH master, vs a warm one | {} / {} ({} / {}) | ≤ +3 round trips |",
        ratio(held.median(), master.median()),
        ms(held.median()),
        ms(master.median()),
        wine_row,
        ms(connect),
        rtts(first.as_secs_f64() - held.median().as_secs_f64()),
        ms(first),
        ms(held.median()),
        ms(connect_wait),
        rtts(first_wait.as_secs_f64() - held.median().as_secs_f64()),
        ms(first_wait),
        ms(held.median()),
        ms(connect_ssh),
        rtts(first_ssh.as_secs_f64() - master.median().as_secs_f64()),
        ms(first_ssh),
        ms(master.median()),
        rtts(paused[0].as_secs_f64() - held.median().as_secs_f64()),
        rtts(paused[1].as_secs_f64() - master.median().as_secs_f64()),
        ms(paused[0]),
        ms(paused[1]),
    ))
}

/// P13's Windows row: the Windows build (`exe`) under Wine, in a prefix of
/// its own, over its default transport (the held connection), against the
/// same relay; beside it what Wine alone costs a program (`--version`),
/// since every runcode command there is two Windows processes (the CLI and
/// its `ssh-builtin` client).
fn p13_wine(
    dir: &std::path::Path,
    exe: &std::path::Path,
    plane: &plane::Plane,
    runs: usize,
    master: Duration,
) -> Result<String, String> {
    use runcode_e2e::wine;
    if let Err(why) = wine::available() {
        return Ok(format!(
            "| P13 | the same on the Windows build under Wine | not measured: {why} | reported |"
        ));
    }
    let scratch = dir.join("wine-p13");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let w = wine::Wine::new(&crate::sh::root().join("target/wine"), &scratch);
    let errors = scratch.join("stderr.txt");
    let timed = |args: &[&str]| -> Result<Duration, String> {
        let started = Instant::now();
        let err = std::fs::File::create(&errors).map_err(|e| e.to_string())?;
        // Wine hands a program its parent's Unix stderr whatever the
        // Windows handles say: stderr goes through a file.
        let status = w
            .command(exe)
            .args(args)
            .env("RUNCODE_API_BASE", plane.api())
            .env("RUNCODE_TOKEN", plane.token())
            .env_remove("HOME")
            .env_remove("RUNCODE_TRANSPORT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .status()
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!(
                "runcode.exe {args:?} under Wine: {}",
                std::fs::read_to_string(&errors).unwrap_or_default()
            ));
        }
        Ok(started.elapsed())
    };
    timed(&["--json", "connect", "1001", "--wait"])?;
    timed(&["exec", "--", "true"])?;
    let (mut held, mut bare) = (sample(), sample());
    for _ in 0..runs {
        held.times.push(timed(&["exec", "--", "true"])?);
        bare.times.push(timed(&["--version"])?);
    }
    timed(&["disconnect"])?;
    Ok(format!(
        "| P13 | the same on the Windows build under Wine: warm `runcode.exe exec -- true` over its held connection vs the Linux OpenSSH master | {} ({} vs {}; a bare `runcode.exe --version` under Wine takes {}) | reported |",
        ratio(held.median(), master),
        ms(held.median()),
        ms(master),
        ms(bare.median()),
    ))
}

fn sample() -> Sample {
    Sample { times: Vec::new() }
}
