//! A local release and plugin bundle built from this checkout, as the demo
//! and the benchmarks use them: the release CLI in a real archive with a real
//! `checksums.txt`, and a bundle `bin/` with the shim, the size-built
//! launcher, `RUNCODE_VERSION` and `RUNCODE_CHECKSUMS`.

use std::path::{Path, PathBuf};

use runcode_e2e::release;

use crate::sh;

pub struct Staged {
    pub version: String,
    pub release: PathBuf,
    pub bundle_bin: PathBuf,
    pub shim: PathBuf,
    pub launcher: PathBuf,
    pub built: Built,
}

/// The release CLI and the size-built launcher, as built.
pub struct Built {
    pub cli: PathBuf,
    pub launcher: PathBuf,
    /// How they were built, for reports: the target triple, and whether
    /// that is what the release ships.
    pub flavour: String,
}

/// Builds the release CLI and the size-built launcher for this machine:
/// as `dist` ships them (static musl on Linux) when the toolchain is here,
/// else for the host target. With `shipped`, only the shipped build will do
/// (the benchmarks measure what users run).
pub fn build_release(shipped: bool) -> Result<Built, String> {
    let host = release::Platform::host().ok_or("this machine is not a release platform")?;
    if shipped {
        crate::cross::prepare();
    }
    if shipped || crate::cross::missing(host).is_none() {
        let b = crate::cross::build(host)?;
        return Ok(Built {
            cli: b.cli,
            launcher: b.launcher,
            flavour: format!("{}, as released", host.target),
        });
    }
    eprintln!("xtask: building the release CLI and the size-built launcher (host target)");
    sh::run(sh::cargo().args(["build", "--locked", "--quiet", "--release", "-p", "runcode"]))?;
    sh::run(sh::cargo().args([
        "build",
        "--locked",
        "--quiet",
        "--profile",
        "launcher",
        "-p",
        "runcode-launcher",
    ]))?;
    let out = sh::root().join("target");
    let exe = std::env::consts::EXE_SUFFIX;
    Ok(Built {
        cli: out.join(format!("release/runcode{exe}")),
        launcher: out.join(format!("launcher/runcode-launcher{exe}")),
        flavour: "host target, not what the release ships".to_owned(),
    })
}

/// Builds the release binaries (quietly, see `build_release`) and lays out
/// `dir`.
pub fn stage(dir: &Path, shipped: bool) -> Result<Staged, String> {
    let built = build_release(shipped)?;
    let cli = &built.cli;
    let built_launcher = &built.launcher;

    let version =
        std::fs::read_to_string(sh::root().join("RUNCODE_VERSION")).map_err(|e| e.to_string())?;
    let version = version.trim().to_owned();
    let _ = std::fs::remove_dir_all(dir);
    let io = |e: std::io::Error| format!("{}: {e}", dir.display());
    let binary = std::fs::read(cli).map_err(io)?;
    let release = release::Tree::new(&dir.join("release"))
        .asset(&release::host_asset(), release::standard_archive(&binary))
        .write();

    let bundle_bin = dir.join("plugin/bin");
    std::fs::create_dir_all(bundle_bin.join("launcher")).map_err(io)?;
    let launcher = bundle_bin.join(format!(
        "launcher/runcode-launcher-{}-{}",
        release::host_os(),
        release::host_arch()
    ));
    std::fs::copy(built_launcher, &launcher).map_err(io)?;
    let shim = bundle_bin.join("runcode");
    std::fs::copy(sh::root().join("plugin/bin/runcode"), &shim).map_err(io)?;
    std::fs::write(bundle_bin.join("RUNCODE_VERSION"), format!("{version}\n")).map_err(io)?;
    std::fs::copy(
        release.join("checksums.txt"),
        bundle_bin.join("RUNCODE_CHECKSUMS"),
    )
    .map_err(io)?;
    Ok(Staged {
        version,
        release,
        bundle_bin,
        shim,
        launcher,
        built,
    })
}
