//! The six release platforms from this Linux machine: building the three
//! that Debian's cross toolchains can link (static musl for linux amd64 and
//! arm64, mingw-w64 for windows amd64), and type-checking and linting the
//! three whose C and linker need a vendor SDK (macOS, windows arm64).
//!
//! The table of platforms is `runcode_e2e::release::PLATFORMS`.

use std::path::{Path, PathBuf};
use std::process::Command;

use runcode_e2e::release::{Made, PLATFORMS, Platform};

use crate::{prereq, sh};

/// Debian packages that build the `Made::Here` targets.
const BUILD_PACKAGES: [&str; 4] = [
    "musl-tools",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "gcc-mingw-w64-x86-64",
];

/// Installs the rustup targets of all six platforms and, as root with apt,
/// the cross toolchains; best effort (what is still missing is reported per
/// platform by `missing`).
pub fn prepare() {
    let wanted: Vec<&str> = PLATFORMS
        .iter()
        .map(|p| p.target)
        .filter(|t| !std_installed(t))
        .collect();
    if !wanted.is_empty() && sh::on_path("rustup").is_some() {
        let _ = sh::run(Command::new("rustup").args(["target", "add"]).args(&wanted));
    }
    if !rust_src_installed() && sh::on_path("rustup").is_some() {
        let _ = sh::run(Command::new("rustup").args(["component", "add", "rust-src"]));
    }
    if PLATFORMS
        .iter()
        .any(|p| p.made == Made::Here && tool_missing(*p).is_some())
    {
        prereq::apt_install(&BUILD_PACKAGES);
    }
}

/// Why `platform` cannot be built (or type-checked) here, or `None`.
pub fn missing(platform: Platform) -> Option<String> {
    if !std_installed(platform.target) {
        return Some(format!(
            "the Rust standard library for {0} is not installed (`rustup target add {0}`)",
            platform.target
        ));
    }
    if platform.made == Made::Here && !rust_src_installed() {
        return Some(
            "the standard library's sources, which the launcher's build compiles, \
             are not installed (`rustup component add rust-src`)"
                .to_owned(),
        );
    }
    match platform.made {
        Made::Here => tool_missing(platform),
        Made::Workflow => None,
    }
}

fn tool_missing(platform: Platform) -> Option<String> {
    let (tool, package) = match (platform.os, platform.arch) {
        ("linux", "amd64") => ("musl-gcc", "musl-tools"),
        ("linux", "arm64") => (
            "aarch64-linux-gnu-gcc",
            "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
        ),
        ("windows", "amd64") => ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
        _ => return None,
    };
    let headers =
        platform.arch != "arm64" || Path::new("/usr/aarch64-linux-gnu/include/stdint.h").is_file();
    (sh::on_path(tool).is_none() || !headers)
        .then(|| format!("{tool} is missing (Debian: `apt-get install {package}`)"))
}

fn rust_src_installed() -> bool {
    toolchain().is_some_and(|(sysroot, _)| {
        sysroot
            .join("lib/rustlib/src/rust/library/Cargo.lock")
            .is_file()
    })
}

fn std_installed(target: &str) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .is_some_and(|dir| dir.join("libstd.rlib").is_file() || has_std(&dir))
}

fn has_std(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// `cargo` set up for `platform`: its C compiler and linker, and paths
/// remapped so a build elsewhere (the release workflow) gives the same bytes.
pub fn cargo(platform: Platform) -> Command {
    let mut cmd = sh::cargo();
    let t = platform.target.replace('-', "_");
    let upper = t.to_uppercase();
    let mut flags = remap_flags();
    if platform.os == "windows" && platform.made == Made::Here {
        // GNU ld stamps the build time into a PE header; leave it zero.
        flags.push_str("-Clink-arg=-Wl,--no-insert-timestamp ");
        if let Some(dir) = mingw_libs() {
            flags.push_str(&format!("-Clink-arg=-L{} ", dir.display()));
        }
    }
    cmd.env(format!("CARGO_TARGET_{upper}_RUSTFLAGS"), flags.trim_end());
    match (platform.os, platform.arch, platform.made) {
        ("linux", "arm64", _) => {
            cmd.env(format!("CC_{t}"), "aarch64-linux-gnu-gcc")
                .env(format!("AR_{t}"), "aarch64-linux-gnu-ar")
                .env(
                    format!("CARGO_TARGET_{upper}_LINKER"),
                    "aarch64-linux-gnu-gcc",
                );
        }
        ("linux", "amd64", _) => {
            cmd.env(format!("CC_{t}"), "musl-gcc");
        }
        (_, _, Made::Workflow) => {
            // Type-checking only: ring's build script compiles its C and
            // assembly for the target, which needs the vendor SDK. Nothing
            // is linked by `cargo check`/`clippy`, so a compiler that writes
            // empty objects lets the Rust be checked in full.
            let stub = typecheck_cc();
            // Only `clang` goes on PATH (ring asks for it by name for
            // windows arm64): a `cc` there would be the host's linker.
            cmd.env(format!("CC_{t}"), stub.join("cc"))
                .env(format!("AR_{t}"), stub.join("ar"))
                .env("PATH", prepend_path(&stub.join("path")));
        }
        _ => {}
    }
    cmd
}

/// `--remap-path-prefix` for this checkout, the crates' sources and the
/// standard library's sources (which `-Z build-std` compiles from the
/// toolchain's `rust-src`), each to a fixed name.
fn remap_flags() -> String {
    let mut remaps = vec![
        (sh::root(), "/runcode".to_owned()),
        (cargo_home().join("registry/src"), "/cargo".to_owned()),
    ];
    if let Some((sysroot, hash)) = toolchain() {
        // The name the prebuilt standard library carries.
        remaps.push((
            sysroot.join("lib/rustlib/src/rust"),
            format!("/rustc/{hash}"),
        ));
    }
    remaps
        .iter()
        .map(|(from, to)| format!("--remap-path-prefix={}={to} ", from.display()))
        .collect()
}

/// The toolchain's sysroot and commit hash (asked once).
fn toolchain() -> Option<(PathBuf, String)> {
    static TOOLCHAIN: std::sync::OnceLock<Option<(PathBuf, String)>> = std::sync::OnceLock::new();
    TOOLCHAIN.get_or_init(ask_toolchain).clone()
}

fn ask_toolchain() -> Option<(PathBuf, String)> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = |args: &[&str]| {
        Command::new(&rustc)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let sysroot = PathBuf::from(out(&["--print", "sysroot"])?.trim());
    let verbose = out(&["-vV"])?;
    let hash = verbose
        .lines()
        .find_map(|l| l.strip_prefix("commit-hash: "))?
        .trim()
        .to_owned();
    Some((sysroot, hash))
}

/// The launcher's build, for size (docs/benchmarks.md, P7). For the
/// platforms built here the standard library is compiled with the
/// launcher's profile (`opt-level = "z"`, its size-optimised algorithms)
/// instead of the prebuilt one, and on Linux without unwind tables, which a
/// `panic = "abort"` program never reads (Windows requires them).
/// `-Z build-std` is unstable: `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain run it, for this one build only. macOS and Windows ARM, which
/// cannot be linked here, keep the prebuilt one.
pub fn launcher_build(mut cmd: Command, platform: Platform) -> Command {
    cmd.args([
        "build",
        "--locked",
        "--quiet",
        "--profile",
        "launcher",
        "-p",
        "runcode-launcher",
        "--target",
        platform.target,
    ]);
    if platform.made != Made::Here {
        return cmd;
    }
    if platform.os == "linux" {
        let upper = platform.target.replace('-', "_").to_uppercase();
        let key = format!("CARGO_TARGET_{upper}_RUSTFLAGS");
        let flags = cmd
            .get_envs()
            .find(|(k, _)| *k == key.as_str())
            .and_then(|(_, v)| v)
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_else(|| remap_flags().trim_end().to_owned());
        cmd.env(key, format!("{flags} -Cforce-unwind-tables=no"));
    }
    cmd.env("RUSTC_BOOTSTRAP", "1").args([
        "-Z",
        "build-std=std,panic_abort",
        "-Z",
        "build-std-features=optimize_for_size",
    ]);
    cmd
}

/// mingw's libraries, seen from inside the build directory.
///
/// GNU ld lays out a PE import table from its pieces sorted by the path of
/// the file each came from: the import stubs rustc unpacks under the build
/// directory and those of mingw's `libkernel32.a` and the like. Where the
/// checkout is (`/tmp/...` or `/work/...`, against `/usr/...`) then decides
/// their order, and a build elsewhere gave other bytes. Seen through links
/// in `target/xtask/mingw-lib/` (searched first), mingw's libraries sort
/// after the build's own stubs wherever the checkout is.
fn mingw_libs() -> Option<PathBuf> {
    let out = Command::new("x86_64-w64-mingw32-gcc")
        .arg("-print-file-name=libkernel32.a")
        .output()
        .ok()?;
    let kernel32 = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let from = std::fs::canonicalize(kernel32.parent()?).ok()?;
    let dir = sh::root().join("target/xtask/mingw-lib");
    std::fs::create_dir_all(&dir).ok()?;
    for entry in std::fs::read_dir(&from).ok()?.flatten() {
        let name = entry.file_name();
        let link = dir.join(&name);
        if name.to_string_lossy().ends_with(".a") && std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(entry.path(), &link).ok()?;
        }
    }
    Some(dir)
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    )
}

fn prepend_path(dir: &Path) -> std::ffi::OsString {
    let mut dirs = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A directory holding `cc` and `ar`, and `path/clang`, that write empty
/// outputs: enough for a build script's C step when only Rust is checked.
fn typecheck_cc() -> PathBuf {
    const CC: &str = "#!/bin/sh\n\
        # Written by cargo xtask for type-checking only: it compiles nothing\n\
        # and writes an empty file for -o (or -out:), which nothing links.\n\
        out=\n\
        for a in \"$@\"; do\n\
        \x20 case \"$a\" in -E) echo clang; exit 0 ;; \"-?\") exit 1 ;; -out:*) out=${a#-out:} ;; esac\n\
        done\n\
        case \"${0##*/}\" in ar) [ -n \"$out\" ] || out=$2 ;; esac\n\
        while [ $# -gt 0 ]; do\n\
        \x20 case \"$1\" in -o) out=$2; shift ;; esac\n\
        \x20 shift\n\
        done\n\
        [ -z \"$out\" ] || : > \"$out\"\n";
    let dir = sh::root().join("target/xtask/typecheck-cc");
    for name in ["cc", "ar", "path/clang"] {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(CC) {
            let _ = std::fs::create_dir_all(path.parent().unwrap_or(&dir));
            let _ = std::fs::write(&path, CC);
            set_executable(&path);
        }
    }
    dir
}

fn set_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
}

/// The release CLI and the size-built launcher of one platform.
pub struct Built {
    pub platform: Platform,
    pub cli: PathBuf,
    pub launcher: PathBuf,
}

/// Builds the release CLI and the size-built launcher for `platform`.
pub fn build(platform: Platform) -> Result<Built, String> {
    if let Some(why) = missing(platform) {
        return Err(why);
    }
    eprintln!(
        "xtask: building the CLI and the launcher for {} ({})",
        platform.label(),
        platform.target
    );
    sh::run(cargo(platform).args([
        "build",
        "--locked",
        "--quiet",
        "--release",
        "-p",
        "runcode",
        "--target",
        platform.target,
    ]))?;
    sh::run(&mut launcher_build(cargo(platform), platform))?;
    let out = sh::root().join("target").join(platform.target);
    Ok(Built {
        platform,
        cli: out.join(format!("release/runcode{}", platform.exe())),
        launcher: out.join(format!("launcher/runcode-launcher{}", platform.exe())),
    })
}

/// `cargo xtask launcher --target T`: the launcher for `T` built as `dist`
/// builds it, with the target's own toolchain (the release workflow, on the
/// runners of the platforms that cannot be linked here).
pub fn launcher(args: &[String]) -> Result<(), String> {
    let target = match args {
        [flag, target] if flag == "--target" => target,
        _ => return Err("usage: cargo xtask launcher --target TARGET".to_owned()),
    };
    let platform = PLATFORMS
        .into_iter()
        .find(|p| p.target == target)
        .ok_or_else(|| format!("{target} is not a release target"))?;
    if platform.made == Made::Here && !rust_src_installed() {
        return Err(
            "`rustup component add rust-src` first: the build compiles the standard library"
                .to_owned(),
        );
    }
    let mut cmd = sh::cargo();
    let upper = target.replace('-', "_").to_uppercase();
    cmd.env(
        format!("CARGO_TARGET_{upper}_RUSTFLAGS"),
        remap_flags().trim_end(),
    );
    sh::run(&mut launcher_build(cmd, platform))
}

/// Lints the CLI and the launcher, tests included, for every platform whose
/// `cfg` differs from this machine's (Windows and macOS): code behind
/// `cfg(windows)` and `cfg(target_os = "macos")` cannot rot unseen.
pub fn lint_foreign() -> Result<(), String> {
    for platform in PLATFORMS.iter().filter(|p| p.os != "linux") {
        if let Some(why) = missing(*platform) {
            return Err(format!("cannot lint {}: {why}", platform.label()));
        }
        sh::run(cargo(*platform).args([
            "clippy",
            "--locked",
            "--quiet",
            "-p",
            "runcode",
            "-p",
            "runcode-launcher",
            "-p",
            "runcode-win",
            "--all-targets",
            "--target",
            platform.target,
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    Ok(())
}
