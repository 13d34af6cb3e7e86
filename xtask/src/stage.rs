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

/// Builds the release CLI and the size-built launcher for this machine.
/// With `shipped` on Linux, and the musl target and `musl-gcc` installed,
/// they are built static for musl, as the release workflow builds the Linux
/// assets; otherwise for the host target.
pub fn build_release(shipped: bool) -> Result<Built, String> {
    let musl = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
    let target = (shipped && cfg!(target_os = "linux") && target_installed(&musl)).then_some(musl);
    eprintln!(
        "xtask: building the release CLI and the size-built launcher ({})",
        target.as_deref().unwrap_or("host target")
    );
    let with_target = |cmd: &mut std::process::Command| {
        if let Some(t) = &target {
            cmd.args(["--target", t]);
        }
    };
    let mut cli = sh::cargo();
    cli.args(["build", "--quiet", "--release", "-p", "runcode"]);
    with_target(&mut cli);
    sh::run(&mut cli)?;
    let mut launcher = sh::cargo();
    launcher.args([
        "build",
        "--quiet",
        "--profile",
        "launcher",
        "-p",
        "runcode-launcher",
    ]);
    with_target(&mut launcher);
    sh::run(&mut launcher)?;
    let out = match &target {
        Some(t) => sh::root().join("target").join(t),
        None => sh::root().join("target"),
    };
    let exe = std::env::consts::EXE_SUFFIX;
    Ok(Built {
        cli: out.join(format!("release/runcode{exe}")),
        launcher: out.join(format!("launcher/runcode-launcher{exe}")),
        flavour: match target {
            Some(t) => format!("{t}, static, as released"),
            None => "host target".to_owned(),
        },
    })
}

/// Is the standard library for `triple` installed, with a C compiler for it
/// (ring builds C)?
fn target_installed(triple: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = std::process::Command::new(rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
    else {
        return false;
    };
    let libdir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    out.status.success() && libdir.is_dir() && sh::on_path("musl-gcc").is_some()
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
