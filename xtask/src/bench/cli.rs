//! CLI figures: P4 (`runcode exec -- true` on a warm session vs `ssh -F
//! <config> <alias> 'cd <workdir> && true'` over the same master) and P8
//! (the CLI's stripped size), against a devplane on this machine.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use super::{interleaved, ms, ratio};
use crate::sh;

const RUNS: usize = 100;

struct Plane(Child);

impl Drop for Plane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let _ = self.0.wait();
    }
}

pub fn run() -> Result<(), String> {
    crate::prereq::openssh()?;
    sh::run(sh::cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "runcode",
        "-p",
        "runcode-devplane",
    ]))?;
    let dir = sh::root().join("target/bench-cli");
    let _ = std::fs::remove_dir_all(&dir);
    let home = dir.join("home");
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let mut child = Command::new(sh::root().join("target/release/runcode-devplane"))
        .args(["serve", "--data-dir"])
        .arg(dir.join("data"))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let _plane = Plane(child);
    let ready: Value = serde_json::from_str(&line).map_err(|e| format!("ready line: {e}"))?;
    let cli = sh::root().join("target/release/runcode");
    let runcode = |args: &[&str]| {
        let mut c = Command::new(&cli);
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .env(
                "RUNCODE_API_BASE",
                ready["api_base"].as_str().unwrap_or_default(),
            )
            .env("RUNCODE_TOKEN", ready["token"].as_str().unwrap_or_default())
            .args(args)
            .stdin(Stdio::null());
        c
    };
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
    let _ = runcode(&["disconnect"]).status();

    let size = super::file_size(&cli)?;
    #[allow(clippy::cast_precision_loss)]
    let mib = size as f64 / 1_048_576.0;
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## CLI (`cargo xtask bench cli`)\n\nMachine: {}.\n",
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
        "| P8 | CLI binary, stripped (release) | {mib:.2} MiB ({size} bytes) | ≤ 10 MiB |"
    );
    let _ = writeln!(
        report,
        "\nMedians of {RUNS} interleaved runs against a devplane on loopback. Reproduce with `cargo xtask bench cli`."
    );
    print!("{report}");
    super::write_section("cli", report.trim_end())
}
