//! Where a session's control socket goes: beside its files when the path
//! fits the socket length limit, else in a short private directory.

use std::path::{Path, PathBuf};

#[cfg(unix)]
use crate::error::Error;
use crate::error::Result;
use crate::remote::sshconfig;

/// The control socket: in the session directory when the path fits the
/// socket length budget, else in a short private directory
/// (`/tmp/runcode-<uid>`, 0700, owned by the user, not a symlink). None on
/// Windows, where ssh has no multiplexing.
pub(super) fn control_path(dir: &Path, id: u64) -> Result<Option<PathBuf>> {
    if cfg!(windows) {
        return Ok(None);
    }
    let near = dir.join("ctl");
    if near.as_os_str().len() <= sshconfig::CONTROL_PATH_MAX {
        return Ok(Some(near));
    }
    let short = short_dir()?;
    Ok(Some(short.join(format!("ws-{id}"))))
}

#[cfg(unix)]
pub fn short_dir() -> Result<PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let uid = rustix::process::getuid().as_raw();
    let dir = PathBuf::from(format!("/tmp/runcode-{uid}"));
    match std::fs::create_dir(&dir) {
        Ok(()) => std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(Error::io(&dir))?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::Io {
                path: dir,
                source: e,
            });
        }
    }
    let meta = std::fs::symlink_metadata(&dir).map_err(Error::io(&dir))?;
    if !meta.file_type().is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(Error::Io {
            path: dir,
            source: std::io::Error::other(
                "not a private directory of yours (owner, mode 0700, no symlink); remove it",
            ),
        });
    }
    Ok(dir)
}

#[cfg(not(unix))]
pub fn short_dir() -> Result<PathBuf> {
    Ok(std::env::temp_dir())
}
