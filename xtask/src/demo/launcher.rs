//! Demo, part one: the launcher as an agent's plugin uses it. Build a release
//! on disk, serve it on loopback, run the plugin's shim, and watch it
//! download, verify, cache and hand over to the CLI; then refuse a tampered
//! release.

use std::path::Path;
use std::process::Command;

use runcode_e2e::release;
use runcode_e2e::serve::Server;

use super::{indent, step};
use crate::stage;

pub fn run(dir: &Path, staged: &stage::Staged, server: &Server) -> Result<(), String> {
    let cache = dir.join("cache");

    step(
        1,
        &format!(
            "a release of runcode {} on a loopback server",
            staged.version
        ),
    );
    println!("    {}  ->  {}", staged.release.display(), server.url("/"));
    for entry in std::fs::read_dir(&staged.release)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        println!("    {}", entry.file_name().to_string_lossy());
    }

    let shim_cmd = || {
        let mut cmd = Command::new(&staged.shim);
        cmd.env("RUNCODE_DOWNLOAD_BASE", server.url(""))
            .env("RUNCODE_CACHE", &cache)
            .env("RUNCODE_LAUNCHER", "demo")
            .env_remove("RUNCODE_BIN");
        cmd
    };

    step(
        2,
        "first run of the plugin's bin/runcode: fetch, verify, cache, hand over",
    );
    show(
        shim_cmd()
            .arg("--version")
            .env("RUNCODE_LAUNCHER_DEBUG", "1"),
    )?;

    step(3, "second run: straight from the cache, no network");
    show(shim_cmd().arg("--version"))?;
    let cached = cache
        .join("bin")
        .join(release::cached_name(&staged.version));
    let digest = release::sha256_hex(&std::fs::read(&cached).map_err(|e| e.to_string())?);
    println!("    cached: {}\n    sha256: {digest}", cached.display());
    if server.hits(&format!("/{}", release::host_asset())) != 1 {
        return Err("the asset should have been downloaded exactly once".to_owned());
    }

    step(
        4,
        "a tampered release is refused (checksums.txt no longer matches)",
    );
    let tampered = dir.join("tampered");
    std::fs::create_dir_all(&tampered).map_err(|e| e.to_string())?;
    std::fs::copy(
        staged.release.join(release::host_asset()),
        tampered.join(release::host_asset()),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        tampered.join("checksums.txt"),
        format!("{}  {}\n", "0".repeat(64), release::host_asset()),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new(&staged.shim)
        .args(["--version", "--json"])
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&tampered))
        .env("RUNCODE_CACHE", dir.join("cache-tampered"))
        .env("RUNCODE_LAUNCHER", "demo")
        .output()
        .map_err(|e| e.to_string())?;
    print!("{}", indent(&String::from_utf8_lossy(&out.stderr)));
    print!("{}", indent(&String::from_utf8_lossy(&out.stdout)));
    if out.status.code() != Some(1) {
        return Err("the tampered release should have been refused".to_owned());
    }

    Ok(())
}

fn show(cmd: &mut Command) -> Result<(), String> {
    println!(
        "    $ bin/runcode {}",
        cmd.get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = cmd.output().map_err(|e| e.to_string())?;
    print!("{}", indent(&String::from_utf8_lossy(&out.stderr)));
    print!("{}", indent(&String::from_utf8_lossy(&out.stdout)));
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("bin/runcode failed: {}", out.status))
    }
}
