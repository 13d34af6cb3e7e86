//! CLI figures against a devplane on this machine: P3 (`statusline` with a
//! session attached), P4 (`runcode exec -- true` on a warm session vs `ssh -F
//! <config> <alias> 'cd <workdir> && true'` over the same master), P5 (put and
//! get of 256 MiB vs `ssh 'cat > f'` and `ssh 'cat f'` over the same master,
//! and the CLI's peak memory), P8 (the CLI's stripped size), P11 (`runcode
//! mcp`, in `mcp`) and P12 (at a 100 ms round trip, in `net`).

use std::fmt::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::{interleaved, ms, ratio};
use crate::plane;
use crate::sh;

const RUNS: usize = 100;

pub fn run() -> Result<(), String> {
    crate::prereq::openssh()?;
    sh::run(sh::cargo().args(["build", "--locked", "--quiet", "--release", "-p", "runcode"]))?;
    let dir = sh::root().join("target/bench-cli");
    let _ = std::fs::remove_dir_all(&dir);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let plane = plane::start(&dir.join("data"), &[])?;
    let cli = sh::root().join("target/release/runcode");
    let runcode = |args: &[&str]| super::runcode(&cli, &home, &plane, args);
    let out = runcode(&["--json", "connect", "1001"])
        .output()
        .map_err(|e| e.to_string())?;
    let session: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("connect: {e}"))?;
    let config = session["config"].as_str().unwrap_or_default().to_owned();
    let alias = session["alias"].as_str().unwrap_or_default().to_owned();
    let workdir = session["workdir"].as_str().unwrap_or_default().to_owned();
    // Warm the master once; both sides then reuse it.
    runcode(&["exec", "--", "true"])
        .status()
        .map_err(|e| e.to_string())?;

    let mut exec = || runcode(&["exec", "--", "true"]);
    let mut ssh = || {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(&config)
            .arg(&alias)
            .arg(format!("cd '{workdir}' && true"))
            .stdin(Stdio::null());
        c
    };
    eprintln!("xtask: exec on a warm session, {RUNS} runs of each");
    let s = interleaved(RUNS, &mut [&mut exec, &mut ssh], &mut || {})?;

    // What one secret costs an exec (R20): the same command given one.
    {
        use std::io::Write;
        let mut set = runcode(&["secret", "set", "BENCH_TOKEN"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        if let Some(mut input) = set.stdin.take() {
            input
                .write_all(b"bench-secret-value-0123456789\n")
                .map_err(|e| e.to_string())?;
        }
        set.wait().map_err(|e| e.to_string())?;
    }
    let mut exec_secret = || runcode(&["exec", "--secret", "BENCH_TOKEN", "--", "true"]);
    eprintln!("xtask: exec with one secret, {RUNS} runs of each");
    let with_secret = interleaved(RUNS, &mut [&mut exec_secret, &mut exec], &mut || {})?;
    // The figures after this one are without any secret kept.
    runcode(&["secret", "rm", "BENCH_TOKEN"])
        .status()
        .map_err(|e| e.to_string())?;

    // P3: the status line, attached, with Claude Code's JSON on stdin.
    let stdin_json = dir.join("statusline.json");
    std::fs::write(&stdin_json, format!("{{\"cwd\": \"{}\"}}", home.display()))
        .map_err(|e| e.to_string())?;
    let mut statusline = || {
        let mut c = runcode(&["statusline"]);
        c.stdin(std::fs::File::open(&stdin_json).expect("stdin file"));
        c
    };
    let mut noop = || Command::new("true");
    eprintln!("xtask: runcode mcp, {RUNS} exec tool calls and {RUNS} starts");
    let p11 = super::mcp::p11(&runcode, RUNS)?;
    eprintln!("xtask: statusline, {RUNS} runs");
    let st = interleaved(RUNS * 2, &mut [&mut statusline, &mut noop], &mut || {})?;

    // P5: 256 MiB each way.
    let big = dir.join("big.bin");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&big).map_err(|e| e.to_string())?;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut chunk = vec![0u8; 1 << 20];
        for _ in 0..256 {
            for b in &mut chunk {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x.to_le_bytes()[0];
            }
            f.write_all(&chunk).map_err(|e| e.to_string())?;
        }
    }
    let back = dir.join("back.bin");
    let big_path = big.display().to_string();
    let back_path = back.display().to_string();
    let mut put = || runcode(&["put", &big_path, "big.bin"]);
    let mut ssh_put = || {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(&config)
            .arg(&alias)
            .arg(format!("cat > '{workdir}/big-ssh.bin'"));
        c.stdin(std::fs::File::open(&big).expect("big file"));
        c
    };
    let mut get = || runcode(&["get", "big.bin", "--out", &back_path]);
    let mut ssh_get = || {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(&config)
            .arg(&alias)
            .arg(format!("cat '{workdir}/big.bin'"))
            .stdin(Stdio::null());
        c.stdout(std::fs::File::create(&back).expect("out file"));
        c
    };
    eprintln!("xtask: 256 MiB put and get, 5 runs of each");
    let puts = interleaved(5, &mut [&mut put, &mut ssh_put], &mut || {})?;
    let gets = interleaved(5, &mut [&mut get, &mut ssh_get], &mut || {})?;
    let put_peak = peak_kib(&mut put())?;
    let get_peak = peak_kib(&mut get())?;
    let p10 = super::tree::run(
        &dir,
        &runcode,
        &super::tree::Target {
            config: &config,
            alias: &alias,
            workdir: &workdir,
        },
    )?;
    // P4, P5 and P10 again over the builtin transport's held connection,
    // against the same OpenSSH baselines.
    let builtin = |args: &[&str]| {
        let mut c = runcode(args);
        c.env("RUNCODE_TRANSPORT", "builtin");
        c
    };
    eprintln!("xtask: the same over the builtin transport");
    let mut exec_b = || builtin(&["exec", "--", "true"]);
    exec_b().status().map_err(|e| e.to_string())?;
    let sb = interleaved(RUNS, &mut [&mut exec_b, &mut ssh], &mut || {})?;
    let mut put_b = || builtin(&["put", &big_path, "big.bin"]);
    let mut get_b = || builtin(&["get", "big.bin", "--out", &back_path]);
    let puts_b = interleaved(5, &mut [&mut put_b, &mut ssh_put], &mut || {})?;
    let gets_b = interleaved(5, &mut [&mut get_b, &mut ssh_get], &mut || {})?;
    let p10_b = super::tree::run(
        &dir,
        &builtin,
        &super::tree::Target {
            config: &config,
            alias: &alias,
            workdir: &workdir,
        },
    )?
    .replace("| P10 | `put`", "| P10 | builtin transport: `put`")
    .replace("| P10 | `get`", "| P10 | builtin transport: `get`");
    let _ = runcode(&["disconnect"]).status();
    eprintln!("xtask: at a 100 ms round trip, 20 runs of exec, the exec tool and plain ssh");
    let p12 = super::net::p12(&dir, &cli, 20)?;
    eprintln!("xtask: at a 100 ms round trip, the held connection against the master");
    let p13 = super::net::p13(&dir, &cli, 20, windows_cli().as_deref())?;

    let size = super::file_size(&cli)?;
    #[allow(clippy::cast_precision_loss)]
    let mib = size as f64 / 1_048_576.0;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## CLI (`cargo xtask bench cli`)\n\nMachine: {}. CLI built for the host target.\n",
        super::machine()
    );
    let _ = writeln!(
        report,
        "| id | what | measured | target |\n| --- | --- | --- | --- |"
    );
    let _ = writeln!(
        report,
        "| P4 | `runcode exec -- true` on a warm session vs `ssh -F <config> <alias> 'cd <workdir> && true'` over the same master | {} ({} vs {}; exec range {}–{}) | ≤ 1.10× |",
        ratio(s[0].median(), s[1].median()),
        ms(s[0].median()),
        ms(s[1].median()),
        ms(s[0].min()),
        ms(s[0].max())
    );
    let _ = writeln!(
        report,
        "| P4 | `runcode exec --secret BENCH_TOKEN -- true` (one secret) vs `runcode exec -- true` on the same warm session | {} ({} vs {}) | reported |",
        ratio(with_secret[0].median(), with_secret[1].median()),
        ms(with_secret[0].median()),
        ms(with_secret[1].median())
    );
    let _ = writeln!(
        report,
        "| P3 | `runcode statusline`, attached, JSON on stdin | {} median (range {}–{}; spawning `true`: {}) | ≤ 2 ms |",
        ms(st[0].median()),
        ms(st[0].min()),
        ms(st[0].max()),
        ms(st[1].median())
    );
    let _ = writeln!(
        report,
        "| P5 | `put` of 256 MiB vs `ssh <alias> 'cat > f' < file` | {} ({} vs {}) | ≤ 1.25× |",
        ratio(puts[0].median(), puts[1].median()),
        ms(puts[0].median()),
        ms(puts[1].median())
    );
    let _ = writeln!(
        report,
        "| P5 | `get` of 256 MiB vs `ssh <alias> 'cat f' > file` | {} ({} vs {}) | ≤ 1.25× |",
        ratio(gets[0].median(), gets[1].median()),
        ms(gets[0].median()),
        ms(gets[1].median())
    );
    let _ = writeln!(report, "{p10}");
    let _ = writeln!(
        report,
        "| P4 | builtin transport: `runcode exec -- true` over the held connection vs the same ssh over the OpenSSH master | {} ({} vs {}) | ≤ 1.10× |",
        ratio(sb[0].median(), sb[1].median()),
        ms(sb[0].median()),
        ms(sb[1].median())
    );
    let _ = writeln!(
        report,
        "| P5 | builtin transport: `put` / `get` of 256 MiB vs the same ssh `cat` over the OpenSSH master | {} / {} ({} / {}) | ≤ 1.25× |",
        ratio(puts_b[0].median(), puts_b[1].median()),
        ratio(gets_b[0].median(), gets_b[1].median()),
        ms(puts_b[0].median()),
        ms(gets_b[0].median())
    );
    let _ = writeln!(report, "{p10_b}");
    let _ = writeln!(report, "{p13}");
    let _ = writeln!(report, "{p11}");
    let _ = writeln!(report, "{p12}");
    #[allow(clippy::cast_precision_loss)]
    let (put_mib, get_mib) = (put_peak as f64 / 1024.0, get_peak as f64 / 1024.0);
    let _ = writeln!(
        report,
        "| P5 | CLI peak memory (VmHWM) during the 256 MiB put / get | {put_mib:.1} MiB / {get_mib:.1} MiB | ≤ 32 MiB |"
    );
    let _ = writeln!(
        report,
        "| P8 | CLI binary, stripped (release) | {mib:.2} MiB ({size} bytes) | ≤ 10 MiB |"
    );
    let _ = writeln!(
        report,
        "\nMedians of {RUNS} interleaved runs against a devplane on loopback. Reproduce with `cargo xtask bench cli`."
    );
    print!("{report}");
    super::write_section("cli", report.trim_end())
}

/// P13 and P14 alone, printed: `cargo xtask bench held`.
pub fn held() -> Result<(), String> {
    sh::run(sh::cargo().args(["build", "--locked", "--quiet", "--release", "-p", "runcode"]))?;
    let dir = sh::root().join("target/bench-held");
    let _ = std::fs::remove_dir_all(&dir);
    let cli = sh::root().join("target/release/runcode");
    let rows = super::net::p13(&dir, &cli, 20, windows_cli().as_deref())?;
    println!("{rows}");
    Ok(())
}

/// The Windows release CLI, built for P13's Wine row; None (the row says
/// why) where this machine cannot build it.
fn windows_cli() -> Option<std::path::PathBuf> {
    let platform = runcode_e2e::release::PLATFORMS
        .iter()
        .find(|p| p.target == "x86_64-pc-windows-gnu")?;
    match crate::cross::build(*platform) {
        Ok(built) => Some(built.cli),
        Err(why) => {
            eprintln!("xtask: P13 under Wine not measured: {why}");
            None
        }
    }
}

/// Peak resident memory (VmHWM, polled; it only grows) of `cmd`, in KiB.
fn peak_kib(cmd: &mut Command) -> Result<u64, String> {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        {
            peak = peak.max(kib);
        }
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            return Ok(peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
