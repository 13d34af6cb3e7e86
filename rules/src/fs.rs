//! Private files: created with their final mode from the first byte, and
//! replaced atomically (a uniquely named temporary file in the same
//! directory, synced, then renamed over the old one), so a reader sees the
//! old file or the new one, never half of one, and a crash leaves at most a
//! dot-named temporary file.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) and makes it private (0700 on Unix).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates `path`, which must not exist, with `mode` from its first byte.
pub fn create_new(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Writes `bytes` to `path` atomically, the file created with `mode`.
pub fn write_private(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(crate::temp::name(&format!(".{name}."), ".tmp"));
    let result = create_new(&tmp, mode)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_has_the_new_bytes_its_mode_and_no_leftovers() {
        let dir = std::env::temp_dir().join(crate::temp::name("rc-rules-", ""));
        private_dir(&dir).unwrap();
        let file = dir.join("f");
        write_private(&file, b"one", 0o600).unwrap();
        write_private(&file, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(write_private(&dir.join("missing/f"), b"x", 0o600).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
