//! Launcher figures: P1 (shim + launcher + CLI vs a plain shell launcher), P2
//! (launcher vs the cached binary run directly), P6 (a first download of a
//! 10 MiB asset vs curl + sha256sum + tar), P7 (stripped size), P9 (peak
//! memory downloading a 100 MiB asset).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use runcode_e2e::release;
use runcode_e2e::serve::Server;

use super::{interleaved, ms, ratio};
use crate::stage;

/// The baseline for P1: what a launcher written in POSIX sh does on its
/// cached path (uname, read the pin, test the cache, exec), written the way
/// such scripts usually are.
const SHELL_LAUNCHER: &str = r#"#!/bin/sh
dir=$(cd "$(dirname "$0")" && pwd)
os=$(uname -s)
arch=$(uname -m)
case "$os" in Linux) os=linux ;; Darwin) os=darwin ;; *) echo "unsupported: $os" >&2; exit 1 ;; esac
case "$arch" in x86_64|amd64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; *) echo "unsupported: $arch" >&2; exit 1 ;; esac
version=$(cat "$dir/RUNCODE_VERSION")
cache="${RUNCODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runcode}"
bin="$cache/bin/runcode-$version-$os-$arch"
if [ -x "$bin" ]; then exec "$bin" "$@"; fi
echo "not cached" >&2
exit 1
"#;

const RUNS: usize = 200;

pub fn run() -> Result<(), String> {
    let dir = crate::sh::root().join("target/bench-launcher");
    let staged = stage::stage(&dir, true)?;
    let cache = dir.join("cache");
    let server = Server::start(&staged.release);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "## Launcher (`cargo xtask bench launcher`)\n\nMachine: {}. Launcher and CLI built for {}.\n",
        super::machine(),
        staged.built.flavour
    );

    // Fill the cache once; every cached-path figure starts from here.
    let prime = Command::new(&staged.shim)
        .arg("--version")
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env("RUNCODE_CACHE", &cache)
        .env("RUNCODE_LAUNCHER", "bench")
        .output()
        .map_err(|e| e.to_string())?;
    if !prime.status.success() {
        return Err(format!(
            "priming the cache failed: {}",
            String::from_utf8_lossy(&prime.stderr)
        ));
    }
    let cached = cache
        .join("bin")
        .join(release::cached_name(&staged.version));
    let baseline = staged.bundle_bin.join("runcode-sh");
    std::fs::write(&baseline, SHELL_LAUNCHER).map_err(|e| e.to_string())?;
    let status = Command::new("chmod")
        .arg("755")
        .arg(&baseline)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("chmod failed".to_owned());
    }

    // A clean environment, the same for every command: no PATH candidate,
    // the loop guard set as a launcher found on PATH would see it.
    let env = |cmd: &mut Command| {
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &dir)
            .env("RUNCODE_CACHE", &cache);
    };
    let mut direct = || {
        let mut c = Command::new(&cached);
        env(&mut c);
        c.arg("--version");
        c
    };
    let mut launcher = || {
        let mut c = Command::new(&staged.launcher);
        env(&mut c);
        c.arg("--version");
        c
    };
    let mut shim = || {
        let mut c = Command::new(&staged.shim);
        env(&mut c);
        c.arg("--version");
        c
    };
    let mut shell = || {
        let mut c = Command::new(&baseline);
        env(&mut c);
        c.arg("--version");
        c
    };
    eprintln!("xtask: cached path, {RUNS} runs of each");
    let s = interleaved(
        RUNS,
        &mut [&mut direct, &mut launcher, &mut shim, &mut shell],
        &mut || {},
    )?;
    let (d, l, p, b) = (&s[0], &s[1], &s[2], &s[3]);
    let _ = writeln!(
        report,
        "| id | what | measured | target |\n| --- | --- | --- | --- |"
    );
    let _ = writeln!(
        report,
        "| P1 | `bin/runcode --version` (shim + launcher + CLI) vs the shell launcher | {} ({} vs {}) | ≤ 0.40× |",
        ratio(p.median(), b.median()),
        ms(p.median()),
        ms(b.median())
    );
    let added = l.median().saturating_sub(d.median());
    let _ = writeln!(
        report,
        "| P2 | launcher added to the cached binary run directly | {} ({} vs {}; launcher range {}–{}) | ≤ 1 ms |",
        ms(added),
        ms(l.median()),
        ms(d.median()),
        ms(l.min()),
        ms(l.max())
    );

    // P3 through the stable entry point: what Claude Code's status line runs.
    let entry = cache.join("bin/runcode");
    if !entry.is_file() {
        return Err(format!("no stable entry point at {}", entry.display()));
    }
    let mut via_entry = || {
        let mut c = Command::new(&entry);
        env(&mut c);
        c.arg("statusline");
        c
    };
    let mut cli_alone = || {
        let mut c = Command::new(&cached);
        env(&mut c);
        c.arg("statusline");
        c
    };
    let s = interleaved(RUNS, &mut [&mut via_entry, &mut cli_alone], &mut || {})?;
    let _ = writeln!(
        report,
        "| P3 | `runcode statusline` through the stable entry point `<cache>/bin/runcode` (launcher + CLI, nothing attached) | {} median (range {}–{}; the CLI alone {}) | ≤ 2 ms |",
        ms(s[0].median()),
        ms(s[0].min()),
        ms(s[0].max()),
        ms(s[1].median())
    );

    p6(&dir, &staged, &mut report)?;

    let size = super::file_size(&staged.built.launcher)?;
    #[allow(clippy::cast_precision_loss)]
    let mib = size as f64 / 1048576.0;
    let _ = writeln!(
        report,
        "| P7 | launcher binary as `dist` ships it, stripped (`--profile launcher`, std rebuilt for size) | {mib:.2} MiB ({size} bytes) | ≤ 1.5 MiB (ceiling 2.0) |"
    );

    p9(&dir, &staged, &mut report)?;
    let _ = writeln!(
        report,
        "\nCached-path figures are medians of {RUNS} interleaved runs; the shell launcher is the baseline \
         shipped in `xtask/src/bench/launcher.rs`. Reproduce with `cargo xtask bench launcher`."
    );
    sizes(&mut report)?;
    print!("{report}");
    super::write_section("launcher", report.trim_end())
}

/// P6: a first run that downloads a 10 MiB asset from loopback, verifies and
/// extracts it, then runs the binary, against curl + sha256sum + tar doing
/// the same.
fn p6(dir: &Path, staged: &stage::Staged, report: &mut String) -> Result<(), String> {
    if crate::sh::on_path("curl").is_none() {
        let _ = writeln!(
            report,
            "| P6 | first download vs curl + sha256sum + tar | not measured: curl missing | ≤ 1.0× |"
        );
        return Ok(());
    }
    let big = payload_with(10 << 20);
    let rel = release::Tree::new(&dir.join("release-10m"))
        .asset(&release::host_asset(), release::standard_archive(&big))
        .write();
    let server = Server::start(&rel);
    let base = server.url("");
    let cache = dir.join("cache-p6");
    let work = dir.join("curl-p6");
    let asset = release::host_asset();
    let script = format!(
        "set -e; cd '{w}'; curl -fsSL '{base}/{asset}' -o '{asset}'; curl -fsSL '{base}/checksums.txt' -o checksums.txt; \
         grep ' {asset}$' checksums.txt | sha256sum -c --quiet; tar -xzf '{asset}' runcode; ./runcode",
        w = work.display()
    );
    let mut launcher = || {
        let mut c = Command::new(&staged.launcher);
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("RUNCODE_CACHE", &cache)
            .env("RUNCODE_DOWNLOAD_BASE", &base)
            .env("RUNCODE_PIN_VERSION", "v0.0.0-bench");
        c
    };
    let mut curl = || {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&script);
        c
    };
    let mut reset = || {
        let _ = std::fs::remove_dir_all(&cache);
        let _ = std::fs::remove_dir_all(&work);
        let _ = std::fs::create_dir_all(&work);
    };
    eprintln!("xtask: first download of a 10 MiB asset, 15 runs of each");
    let s = interleaved(15, &mut [&mut launcher, &mut curl], &mut reset)?;
    let _ = writeln!(
        report,
        "| P6 | first run: download + verify + extract a 10 MiB asset from loopback vs `curl` + `sha256sum` + `tar` | {} ({} vs {}) | ≤ 1.0× |",
        ratio(s[0].median(), s[1].median()),
        ms(s[0].median()),
        ms(s[1].median())
    );
    Ok(())
}

/// P9: peak resident memory of the launcher downloading a 100 MiB asset. The
/// kernel keeps the high-water mark across `exec`, so the figure read from
/// the finished child covers the launcher before it handed over (the payload
/// is a tiny shell script).
fn p9(dir: &Path, staged: &stage::Staged, report: &mut String) -> Result<(), String> {
    let big = payload_with(100 << 20);
    let rel = release::Tree::new(&dir.join("release-100m"))
        .asset(&release::host_asset(), release::standard_archive(&big))
        .write();
    let server = Server::start(&rel);
    let cache = dir.join("cache-p9");
    let _ = std::fs::remove_dir_all(&cache);
    let probe = "import resource,subprocess,sys\nsubprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL)\n\
                 print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .arg(&staged.launcher)
        .env("RUNCODE_CACHE", &cache)
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env("RUNCODE_PIN_VERSION", "v0.0.0-bench")
        .env("RUNCODE_LAUNCHER", "bench")
        .output();
    let line = match out {
        Ok(o) if o.status.success() => {
            let kib: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
            #[allow(clippy::cast_precision_loss)]
            let mib = kib as f64 / 1024.0;
            format!("| P9 | launcher peak memory downloading a 100 MiB asset | {mib:.1} MiB | ≤ 16 MiB |")
        }
        _ => "| P9 | launcher peak memory downloading a 100 MiB asset | not measured: python3 missing | ≤ 16 MiB |".to_owned(),
    };
    let _ = writeln!(report, "{line}");
    Ok(())
}

/// A payload script that exits at once, padded to `size` bytes with data that
/// does not compress, so the archive is as big as the binary.
fn payload_with(size: usize) -> Vec<u8> {
    let mut bytes = b"#!/bin/sh\nexit 0\n".to_vec();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    while bytes.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes
}

/// Every launcher this machine builds, by platform, as `dist` ships them;
/// the others are built by the release workflow and not measured here.
fn sizes(report: &mut String) -> Result<(), String> {
    use runcode_e2e::release::{Made, PLATFORMS};
    let _ = writeln!(
        report,
        "\nLauncher sizes, as `dist` builds them (stripped, `--profile launcher`, std rebuilt for size):\n\n| platform | target | bytes | MiB |\n| --- | --- | --- | --- |"
    );
    for p in PLATFORMS {
        if p.made == Made::Workflow {
            let _ = writeln!(
                report,
                "| {} | {} | built by the release workflow | |",
                p.label(),
                p.target
            );
            continue;
        }
        let built = crate::cross::build(p)?;
        let size = super::file_size(&built.launcher)?;
        #[allow(clippy::cast_precision_loss)]
        let mib = size as f64 / 1048576.0;
        let _ = writeln!(
            report,
            "| {} | {} | {size} | {mib:.2} |",
            p.label(),
            p.target
        );
    }
    Ok(())
}
