//! `cargo xtask <task>`: the project's own automation, one file per task.
//!
//! - `test`: installs what the suites need, builds, lints, runs every test.
//! - `demo`: the main job end to end, printed step by step.
//! - `dist`: release archives, checksums, Homebrew formula, plugin bundle.
//! - `bench <what>`: the figures of docs/quality.md, as ratios measured in one run.
//! - `fuzz`: the libFuzzer targets over every parser of untrusted text.
//! - `lint-foreign`: clippy for the Windows and macOS targets.
//! - `elsewhere`: the launchers built from a copy of the checkout in another
//!   place are the bytes `dist` bundled.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod cross;
mod demo;
mod dist;
mod fuzz;
mod plane;
mod prereq;
mod sh;
mod stage;
mod test;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(t, r)| (t.as_str(), r));
    let result = match task {
        "test" => test::run(rest),
        "demo" => demo::run(rest),
        "dist" => dist::run(rest),
        "package" => dist::package(rest),
        "formula" => dist::formula(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "lint-foreign" => cross::lint_foreign(),
        "launcher" => cross::launcher(rest),
        "elsewhere" => dist::elsewhere(),
        "help" | "-h" | "--help" => {
            println!("usage: cargo xtask <test|demo|dist|fuzz|bench> [args]\n");
            println!("  test            install what the suites need, build, lint, run every test");
            println!("  demo            the main job end to end on this machine");
            println!(
                "  dist            release archives, checksums, Homebrew formula, plugin bundle into dist/"
            );
            println!(
                "  package         --target T --out F: one release archive (release workflow)"
            );
            println!(
                "  launcher        --target T: the launcher for T, built as dist builds it (release workflow)"
            );
            println!(
                "  formula         --checksums F --out F: the Homebrew formula (release workflow)"
            );
            println!(
                "  fuzz            [--seconds N | --runs N] [TARGET...]: libFuzzer over every parser"
            );
            println!(
                "  lint-foreign    clippy for the Windows and macOS targets (type-check only here)"
            );
            println!(
                "  elsewhere       after dist: the amd64 launchers from a copy of this tree elsewhere are the same bytes"
            );
            println!("  bench [all]     every figure below, into docs/benchmarks.md");
            println!("  bench launcher  launcher figures (P1, P2, P6, P7, P9)");
            println!("  bench cli       CLI figures (P3, P4, P5, P8, P10, P11, P12)");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown task {other:?}; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
