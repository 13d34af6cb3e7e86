//! The one way runcode edits a file another program owns: `~/.ssh/config`,
//! Claude Code's settings.json, Codex's config.toml. `Owned::open` takes
//! runcode's edit lock (so two runcode commands never lose each other's
//! edit) and reads the file as text; a file that is not UTF-8 is refused.
//! `write` keeps the old bytes in the backup that edit's name says, then
//! replaces the file atomically with a private (0600) one. A symlinked file
//! (a dotfile manager's link) is written through to its target, so the link
//! stays. A refusal (`refuse`) leaves the file exactly as it was.
//!
//! A backup is written next to the file (`config.bak`, ...) only when no
//! such file is there or the one there is runcode's own: runcode records
//! each backup it writes (`<config>/backups`, its POSIX cksum and path)
//! and never overwrites or deletes a file it did not make. When the user
//! has a file of that name, runcode's backup goes to `<config>/backups.d/`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::paths::{self, Paths};

/// The backup each edit keeps of the file it changes, next to it. The names
/// are part of the contract (docs/cli.md); `uninstall` takes back only
/// what it can tell is runcode's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    /// `config-ssh`'s copy of `~/.ssh/config`.
    SshConfig,
    /// `install-statusline`'s copy of settings.json.
    StatusLine,
    /// `agent-setup claude`'s copy of settings.json.
    ClaudeAllow,
    /// `agent-setup codex`'s copy of config.toml.
    CodexBlock,
}

impl Backup {
    pub fn name(self) -> &'static str {
        match self {
            Backup::SshConfig => "config.bak",
            Backup::StatusLine => "settings.json.bak",
            Backup::ClaudeAllow => "settings.json.agent-setup.bak",
            Backup::CodexBlock => "config.toml.bak",
        }
    }

    /// Where this backup of `file` is kept, next to it.
    pub fn of(self, file: &Path) -> PathBuf {
        file.with_file_name(self.name())
    }

    /// Its name in runcode's own folder, when a file of the user's has the
    /// name next to the file.
    pub fn own_name(self) -> &'static str {
        match self {
            Backup::SshConfig => "ssh-config.bak",
            Backup::StatusLine => "claude-settings.json.bak",
            Backup::ClaudeAllow => "claude-settings.json.agent-setup.bak",
            Backup::CodexBlock => "codex-config.toml.bak",
        }
    }
}

/// runcode's record of the backups it wrote.
fn record_file(paths: &Paths) -> PathBuf {
    paths.config.join("backups")
}

/// Whether the file at `backup` is one runcode wrote, unchanged since.
pub fn is_ours(paths: &Paths, backup: &Path) -> bool {
    let Ok(bytes) = std::fs::read(backup) else {
        return false;
    };
    let line = format!(
        "{}\t{}",
        crate::remote::transfer::posix_cksum(&bytes),
        backup.display()
    );
    std::fs::read_to_string(record_file(paths)).is_ok_and(|t| t.lines().any(|l| l == line))
}

/// Records that runcode wrote `bytes` to `backup` (replacing an earlier
/// record of that path).
fn remember(paths: &Paths, backup: &Path, bytes: &[u8]) -> Result<()> {
    let suffix = format!("\t{}", backup.display());
    let old = std::fs::read_to_string(record_file(paths)).unwrap_or_default();
    let mut text: String = old
        .lines()
        .filter(|l| !l.ends_with(&suffix))
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&format!(
        "{}{suffix}\n",
        crate::remote::transfer::posix_cksum(bytes)
    ));
    paths::private_dir(&paths.config)?;
    paths::write_private(&record_file(paths), text.as_bytes(), 0o600)
}

/// A file another program owns, read under runcode's edit lock.
pub struct Owned {
    /// The file as the user names it.
    pub path: PathBuf,
    /// What is written: the file, or the target of its symlink.
    target: PathBuf,
    /// Its text; empty when it does not exist yet.
    pub text: String,
    paths: Paths,
    _lock: std::fs::File,
}

impl Owned {
    /// Locks and reads `path`.
    pub fn open(paths: &Paths, path: &Path) -> Result<Owned> {
        paths::private_dir(&paths.cache)?;
        let lock_path = paths.cache.join(".edit.lock");
        let lock = paths::lock_file(&lock_path)?;
        lock.lock().map_err(Error::io(&lock_path))?;
        let target = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            std::fs::canonicalize(path).map_err(|_| Error::LeftUntouched {
                path: path.to_path_buf(),
                why: "is a symlink to a file that does not exist".to_owned(),
            })?
        } else {
            path.to_path_buf()
        };
        let text = match std::fs::read(&target) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::LeftUntouched {
                path: path.to_path_buf(),
                why: "is not UTF-8 text".to_owned(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(path)(e)),
        };
        Ok(Owned {
            path: path.to_path_buf(),
            target,
            text,
            paths: paths.clone(),
            _lock: lock,
        })
    }

    /// Whether the file exists (as opposed to reading empty).
    pub fn exists(&self) -> bool {
        self.target.exists()
    }

    /// The refusal for a file runcode will not rewrite, saying `why`.
    pub fn refuse(&self, why: impl Into<String>) -> Error {
        Error::LeftUntouched {
            path: self.path.clone(),
            why: why.into(),
        }
    }

    /// Where runcode's `backup` of this file is (or would go): next to the
    /// file unless a file of that name there is not runcode's, else in
    /// runcode's own folder.
    pub fn backup(&self, backup: Backup) -> PathBuf {
        let beside = backup.of(&self.path);
        if !beside.exists() || is_ours(&self.paths, &beside) {
            beside
        } else {
            self.paths.config.join("backups.d").join(backup.own_name())
        }
    }

    /// runcode's own `backup` of this file, where it is: next to it or in
    /// runcode's folder; a path that holds none of runcode's otherwise (a
    /// file of the user's is never named).
    pub fn runcodes_backup(&self, backup: Backup) -> PathBuf {
        let beside = backup.of(&self.path);
        let own = self.paths.config.join("backups.d").join(backup.own_name());
        if is_ours(&self.paths, &beside) {
            beside
        } else {
            own
        }
    }

    /// Replaces the file with `new`, keeping what it held in `backup` when
    /// it held anything. The folder is made (0700) when missing.
    pub fn write(&self, new: &str, backup: Backup) -> Result<()> {
        if let Some(dir) = self.target.parent() {
            paths::private_dir(dir)?;
        }
        if !self.text.is_empty() {
            let at = self.backup(backup);
            if let Some(dir) = at.parent() {
                paths::private_dir(dir)?;
            }
            paths::write_private(&at, self.text.as_bytes(), 0o600)?;
            remember(&self.paths, &at, self.text.as_bytes())?;
        }
        self.put(new)
    }

    /// Replaces the file with `new` without a backup: `uninstall` giving a
    /// file back as it was.
    pub fn put(&self, new: &str) -> Result<()> {
        paths::write_private(&self.target, new.as_bytes(), 0o600)
    }

    /// Removes the file: `uninstall` of one runcode made whole.
    pub fn remove(&self) -> Result<()> {
        std::fs::remove_file(&self.target).map_err(Error::io(&self.target))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths {
            config: dir.join("rc-config"),
            cache: dir.join("rc-cache"),
        }
    }

    #[test]
    fn a_symlinked_file_is_written_through_and_the_link_stays() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("dotfiles/config");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(&real, "Host mine\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let owned = Owned::open(&paths(dir.path()), &link).unwrap();
        assert_eq!(owned.text, "Host mine\n");
        owned
            .write("Host mine\nHost ours\n", Backup::SshConfig)
            .unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::read_to_string(&real).unwrap(),
            "Host mine\nHost ours\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.bak")).unwrap(),
            "Host mine\n"
        );
    }

    #[test]
    fn a_file_that_is_not_text_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("settings.json");
        std::fs::write(&file, b"\xff\xfe{}").unwrap();
        let err = Owned::open(&paths(dir.path()), &file).err().unwrap();
        assert_eq!(err.code(), crate::error::Code::LeftUntouched);
        assert_eq!(std::fs::read(&file).unwrap(), b"\xff\xfe{}");
    }

    #[test]
    fn a_missing_file_reads_empty_and_gets_no_backup() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/config.toml");
        let owned = Owned::open(&paths(dir.path()), &file).unwrap();
        assert!(!owned.exists());
        owned.write("x = 1\n", Backup::CodexBlock).unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x = 1\n");
        assert!(!Backup::CodexBlock.of(&file).exists());
    }
}
