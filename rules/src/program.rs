//! Finding a program the way a Unix shell does: the first `dirs` entry
//! (PATH's, in order) holding a regular file of that name. The devplane
//! (`sshd`), xtask and the test harness use it; the CLI, which also runs on
//! Windows, uses the `which` crate for PATHEXT.

use std::path::{Path, PathBuf};

/// `name` in the first of `dirs` that holds it as a file.
pub fn find_in<P: AsRef<Path>>(name: &str, dirs: impl IntoIterator<Item = P>) -> Option<PathBuf> {
    dirs.into_iter()
        .map(|d| d.as_ref().join(name))
        .find(|f| f.is_file())
}

/// `name` on PATH.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    find_in(name, std::env::split_paths(&path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_directory_holding_the_file_wins() {
        let dir = std::env::temp_dir().join(format!("rules-program-{}", std::process::id()));
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::create_dir_all(a.join("tool")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(b.join("tool"), "").unwrap();
        // A folder of that name is not a program.
        assert_eq!(super::find_in("tool", [&a, &b]), Some(b.join("tool")));
        assert_eq!(super::find_in("none", [&a, &b]), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
