//! `cargo xtask fuzz`: builds the libFuzzer targets in `fuzz/` with coverage
//! instrumentation on the stable toolchain (the flags cargo-fuzz passes,
//! without its nightly-only sanitizer) and runs each one, bounded.
//!
//! - `cargo xtask fuzz [--seconds N] [TARGET...]` explores: random seed, N
//!   seconds per target (default 60), a working corpus kept in
//!   `target/fuzz/corpus/` between runs, the committed seeds in
//!   `fuzz/corpus/` read too.
//! - `cargo xtask fuzz --runs N` is what the test command runs: a fixed seed,
//!   N inputs per target and only the committed corpus, so the same tree
//!   gives the same verdict on every machine.
//!
//! A crash leaves its input in `target/fuzz/artifacts/<target>/`; after the
//! fix, copy it to `fuzz/corpus/<target>/regression-<what>`, where every
//! `cargo test` replays it (checks.rs in the CLI and the launcher).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use crate::sh;

/// The instrumentation libFuzzer needs: inline 8-bit edge counters, the PC
/// table and comparison tracing, plus debug assertions and overflow checks.
const RUSTFLAGS: &str = "--cfg fuzzing -Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    -Cdebug-assertions -Coverflow-checks";

enum Budget {
    Seconds(u64),
    Runs(u64),
}

pub fn run(args: &[String]) -> Result<(), String> {
    let targets = targets()?;
    let mut budget = Budget::Seconds(60);
    let mut chosen = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number = |flag: &str| {
            it.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{flag} takes a positive number"))
        };
        match arg.as_str() {
            "--seconds" => budget = Budget::Seconds(number("--seconds")?),
            "--runs" => budget = Budget::Runs(number("--runs")?),
            t if targets.iter().any(|x| x == t) => chosen.push(t.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz argument {other:?}; targets: {}",
                    targets.join(", ")
                ));
            }
        }
    }
    if chosen.is_empty() {
        chosen = targets;
    }
    crate::prereq::cxx()?;
    let bin = build()?;
    let root = sh::root();
    let queue = Mutex::new(chosen.into_iter().collect::<VecDeque<_>>());
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue").pop_front();
                    let Some(target) = next else { break };
                    if let Err(e) = one(&root, &bin, &target, &budget) {
                        failures.lock().expect("failures").push(e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// The targets, one per file in `fuzz/fuzz_targets/` (the tidy suite checks
/// that each has its `[[bin]]` and its corpus), sorted.
fn targets() -> Result<Vec<String>, String> {
    let dir = sh::root().join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".rs"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Builds every target; returns the directory holding the binaries.
fn build() -> Result<PathBuf, String> {
    let host = host_triple()?;
    let target_dir = sh::root().join("target/fuzz");
    sh::run(
        sh::cargo()
            .args([
                "build",
                "--locked",
                "--release",
                "--quiet",
                "--manifest-path",
            ])
            .arg(sh::root().join("fuzz/Cargo.toml"))
            // With an explicit --target, RUSTFLAGS reach only the targets'
            // code, not build scripts (which have no libFuzzer to link).
            .args(["--target", &host])
            .env("CARGO_TARGET_DIR", &target_dir)
            .env("RUSTFLAGS", RUSTFLAGS),
    )?;
    Ok(target_dir.join(host).join("release"))
}

fn host_triple() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".to_owned())
}

/// Runs one target within its budget; the error names the crash and how to
/// reproduce it.
fn one(root: &Path, bin: &Path, target: &str, budget: &Budget) -> Result<(), String> {
    let seeds = root.join("fuzz/corpus").join(target);
    let artifacts = root.join("target/fuzz/artifacts").join(target);
    let logs = root.join("target/fuzz/logs");
    let log = logs.join(format!("{target}.log"));
    for dir in [&artifacts, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut cmd = Command::new(bin.join(target));
    cmd.args(["-rss_limit_mb=2048", "-max_len=8192", "-timeout=20"])
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    // A scratch corpus for the fixed run keeps the verdict a function of the
    // tree alone; exploration keeps what it learns for the next run.
    let work = match budget {
        Budget::Runs(n) => {
            cmd.args([format!("-runs={n}"), "-seed=1".to_owned()]);
            let dir = root.join("target/fuzz/scratch").join(target);
            let _ = std::fs::remove_dir_all(&dir);
            dir
        }
        Budget::Seconds(n) => {
            cmd.arg(format!("-max_total_time={n}"));
            root.join("target/fuzz/corpus").join(target)
        }
    };
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let status = cmd
        .arg(&work)
        .arg(&seeds)
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .status()
        .map_err(|e| format!("cannot run the {target} fuzz target: {e}"))?;
    if matches!(budget, Budget::Runs(_)) {
        let _ = std::fs::remove_dir_all(&work);
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    if status.success() {
        let done = text
            .lines()
            .rev()
            .find(|l| l.starts_with("Done "))
            .unwrap_or("done");
        eprintln!("fuzz {target}: {done}, nothing found");
        return Ok(());
    }
    let tail: Vec<&str> = text.lines().rev().take(25).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "fuzz {target} found a failing input ({status}); the input is in {}, the log in {}:\n{}\n\
         Reproduce: {} <input>. After the fix, copy the input to fuzz/corpus/{target}/regression-<what>.",
        artifacts.display(),
        log.display(),
        tail.join("\n"),
        bin.join(target).display(),
    ))
}
