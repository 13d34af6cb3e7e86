//! Where the CLI keeps things (docs/cli.md "Files on disk"), and how they are
//! written: private files created with their final mode, replaced atomically.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone)]
pub struct Paths {
    /// `<config>`: the token.
    pub config: PathBuf,
    /// `<cache>`: sessions, the attachment, the launcher's binaries.
    pub cache: PathBuf,
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// The home directory: `HOME` (an absolute path), or `USERPROFILE` on
/// Windows.
pub fn home() -> Result<PathBuf> {
    var("HOME")
        .or_else(|| {
            if cfg!(windows) {
                var("USERPROFILE")
            } else {
                None
            }
        })
        .ok_or_else(|| {
            Error::Usage(
                "HOME is not set: set HOME, or XDG_CONFIG_HOME and XDG_CACHE_HOME".to_owned(),
            )
        })
}

/// `$<xdg>`, else on Windows `%<windows>%`, else `~/<home_dir>`.
fn base(xdg: &str, windows: &str, home_dir: &str) -> Result<PathBuf> {
    if let Some(dir) = var(xdg) {
        return Ok(dir);
    }
    if cfg!(windows)
        && let Some(dir) = var(windows)
    {
        return Ok(dir);
    }
    Ok(home()?.join(home_dir))
}

impl Paths {
    /// `$XDG_CONFIG_HOME/runcode` or `~/.config/runcode` (Windows `%APPDATA%`),
    /// `$XDG_CACHE_HOME/runcode` or `~/.cache/runcode` (Windows `%LOCALAPPDATA%`).
    /// Not the macOS `~/Library` defaults: users expect `~/.config` there too.
    pub fn from_env() -> Result<Paths> {
        Ok(Paths {
            config: base("XDG_CONFIG_HOME", "APPDATA", ".config")?.join("runcode"),
            cache: base("XDG_CACHE_HOME", "LOCALAPPDATA", ".cache")?.join("runcode"),
        })
    }

    pub fn token(&self) -> PathBuf {
        self.config.join("token")
    }

    pub fn session_dir(&self, id: u64) -> PathBuf {
        self.cache.join(format!("ws-{id}"))
    }

    pub fn current(&self) -> PathBuf {
        self.cache.join("current")
    }
}

/// This binary, with links resolved: what `install-statusline`,
/// `config-ssh` and `install-path` write into other programs' files.
pub fn this_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(Error::io("runcode"))?;
    let real = std::fs::canonicalize(&exe).unwrap_or(exe);
    // Windows answers `\\?\C:\...`, which other programs (OpenSSH, Claude
    // Code's shell) do not all read: the plain `C:\...` names the same file.
    #[cfg(windows)]
    if let Some(plain) = real.to_str().and_then(|t| t.strip_prefix(r"\\?\"))
        && plain.as_bytes().get(1) == Some(&b':')
    {
        return Ok(PathBuf::from(plain));
    }
    Ok(real)
}

/// What runcode writes into other programs' configuration (Claude Code's
/// status line, the ssh config's ProxyCommand, the PATH link): a path that
/// survives updates (docs/launcher.md, "Stable entry point").
///
/// - Run by the launcher from its cache (`<cache>/bin/runcode-<version>-...`),
///   the launcher's stable copy beside it, `<cache>/bin/runcode`, which
///   serves whatever version the plugin pins next.
/// - Run from Homebrew's versioned keg (`<prefix>/Cellar/runcode/<v>/bin`),
///   the `<prefix>/bin/runcode` link, which `brew upgrade` moves.
/// - Otherwise this binary itself.
pub fn entry_point() -> Result<PathBuf> {
    let exe = this_exe()?;
    Ok(stable_for(&exe).unwrap_or(exe))
}

fn stable_for(exe: &Path) -> Option<PathBuf> {
    let name = exe.file_name()?.to_str()?;
    let dir = exe.parent()?;
    let exe_suffix = std::env::consts::EXE_SUFFIX;
    if name.starts_with("runcode-") && dir.file_name()? == "bin" {
        let stable = dir.join(format!("runcode{exe_suffix}"));
        let record = dir.parent()?.join("entry");
        return (stable.is_file() && record.is_file()).then_some(stable);
    }
    // <prefix>/Cellar/runcode/<version>/bin/runcode
    let keg = dir.parent()?;
    let formula = keg.parent()?;
    if formula.file_name()? == "runcode" && formula.parent()?.file_name()? == "Cellar" {
        let link = formula.parent()?.parent()?.join("bin").join(name);
        return link.exists().then_some(link);
    }
    None
}

/// Opens (creating it) the lock file `path`, for `lock` or `try_lock`.
/// It is created 0600 (it holds nothing, but lives among files that do).
pub fn lock_file(path: &Path) -> Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(Error::io(path))
}

/// Creates `dir` (and parents) and makes it private (0700).
pub fn private_dir(dir: &Path) -> Result<()> {
    runcode_rules::fs::private_dir(dir).map_err(Error::io(dir))
}

pub use runcode_rules::fs::create_new;

/// Writes `bytes` to `path` atomically, the file being created with `mode`
/// from its first byte (a temporary file in the same directory, renamed).
pub fn write_private(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    runcode_rules::fs::write_private(path, bytes, mode).map_err(Error::io(path))
}
