//! `cargo xtask bench <what>`: the figures of docs/quality.md, each measured as a
//! ratio against a baseline doing the same work in the same run (machines
//! here are shared and noisy), and written into `docs/benchmarks.md`.

mod cli;
mod launcher;
mod mcp;
mod net;
mod tree;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("launcher") => launcher::run(),
        Some("cli") => cli::run(),
        // P13 and P14 alone, printed (the cli run writes them).
        Some("held") => cli::held(),
        None | Some("all") => launcher::run().and_then(|()| cli::run()),
        Some(other) => Err(format!(
            "unknown benchmark {other:?}; known: launcher, cli, held, all"
        )),
    }
}

/// Timings of one command over several runs.
pub struct Sample {
    pub times: Vec<Duration>,
}

impl Sample {
    pub fn median(&self) -> Duration {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2]
    }
    pub fn min(&self) -> Duration {
        self.times.iter().min().copied().unwrap_or_default()
    }
    pub fn max(&self) -> Duration {
        self.times.iter().max().copied().unwrap_or_default()
    }
}

/// Runs each of `commands` `runs` times, interleaved (A B A B ...) so that a
/// burst of load on the machine hits every command alike. `prepare` runs
/// before each timed run, untimed (to empty a cache, say).
pub fn interleaved(
    runs: usize,
    commands: &mut [&mut dyn FnMut() -> Command],
    prepare: &mut dyn FnMut(),
) -> Result<Vec<Sample>, String> {
    let mut samples: Vec<Sample> = commands
        .iter()
        .map(|_| Sample {
            times: Vec::with_capacity(runs),
        })
        .collect();
    for _ in 0..runs {
        for (make, sample) in commands.iter_mut().zip(samples.iter_mut()) {
            prepare();
            let mut cmd = make();
            let started = Instant::now();
            let out = cmd
                .output()
                .map_err(|e| format!("{}: {e}", crate::sh::show(&cmd)))?;
            sample.times.push(started.elapsed());
            if !out.status.success() {
                return Err(format!(
                    "{} failed: {}",
                    crate::sh::show(&cmd),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
    }
    Ok(samples)
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
}

/// Replaces the section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`
/// in docs/benchmarks.md (adding it when missing), keeping the rest.
pub fn write_section(name: &str, body: &str) -> Result<(), String> {
    let path = crate::sh::root().join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&path).unwrap_or_else(|_| HEADER.to_owned());
    let (start, end) = (
        format!("<!-- bench:{name} -->"),
        format!("<!-- /bench:{name} -->"),
    );
    let section = format!("{start}\n{body}\n{end}");
    let new = match (old.find(&start), old.find(&end)) {
        (Some(s), Some(e)) if e > s => format!("{}{section}{}", &old[..s], &old[e + end.len()..]),
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::write(&path, new).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote the {name} figures into {}", path.display());
    Ok(())
}

const HEADER: &str = "# Benchmarks\n\nThe figures of docs/quality.md, produced by `cargo xtask bench <what>`. Speed is \
stated as a ratio against a baseline measured in the same run, since the machines are shared and noisy; each \
figure is the median of the runs, with the range beside it.\n";

/// `cli` with `args`, as a user runs it against `plane`: a scrubbed
/// environment, its own HOME, no stdin.
pub fn runcode(
    cli: &Path,
    home: &Path,
    plane: &crate::plane::Plane,
    args: &[&str],
) -> std::process::Command {
    let mut c = std::process::Command::new(cli);
    c.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("RUNCODE_API_BASE", plane.api())
        .env("RUNCODE_TOKEN", plane.token())
        .args(args)
        .stdin(std::process::Stdio::null());
    c
}

/// A one-line description of the machine, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown cpu".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

pub fn file_size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", path.display()))
}
