//! Which local paths the MCP `put` and `get` tools may touch. A person who
//! types `runcode get` is as free as with `cp`; a tool call may come from a
//! model steered by what it read on the workspace, so the server lets it
//! read and write only under the places the user is working in, and never
//! in the files that would hand the workspace this machine:
//!
//! - allowed: the client's roots (MCP `roots/list`; from Codex, which has
//!   none, the folder its session runs in, sent with each call), else the
//!   server's working directory unless that is the plugin's own folder;
//!   plus every folder in `RUNCODE_MCP_ROOTS` (an OS path list), which
//!   widens it;
//! - refused anywhere: runcode's own config and cache (sessions, keys,
//!   the token), `~/.ssh`, shell startup files, `~/.gitconfig`,
//!   `~/.local/bin`, the agent clients' settings, the plugin's folder, and
//!   for `get` any `.git` folder (its hooks run on the next commit).
//!
//! docs/mcp.md ("Local paths") says the same for users.

use std::path::{Component, Path, PathBuf};

use crate::error::Error;
use crate::paths::Paths;

/// The variable that widens the allowed places.
pub const ROOTS_VAR: &str = "RUNCODE_MCP_ROOTS";

/// Files in the home folder that a shell or git reads at start.
const HOME_FILES: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".kshrc",
    ".cshrc",
    ".tcshrc",
    ".login",
    ".inputrc",
    ".gitconfig",
    ".claude.json",
];

/// Folders in the home folder that hold another program's startup or
/// settings, or keys.
const HOME_DIRS: &[&str] = &[
    ".ssh",
    ".claude",
    ".codex",
    ".config/fish",
    ".config/git",
    ".config/environment.d",
    ".local/bin",
    ".gnupg",
];

/// The rule, made once when the server starts.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The server's own fallback place (its working directory), canonical.
    fallback: Vec<PathBuf>,
    /// `RUNCODE_MCP_ROOTS`, canonical.
    widened: Vec<PathBuf>,
    /// Refused anywhere, canonical where they exist.
    denied: Vec<PathBuf>,
}

/// Whether `dir` is a plugin's installed folder (the bundle's manifests).
fn is_plugin_folder(dir: &Path) -> bool {
    [".codex-plugin", ".claude-plugin"]
        .iter()
        .any(|d| dir.join(d).is_dir())
}

/// `path` with links resolved as far as it exists; the rest appended as
/// written. `None` when the part that does not exist holds `..`.
fn resolve(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut tail = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(&existing) {
            let mut out = real;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        let name = existing.file_name()?.to_owned();
        if name == ".." {
            return None;
        }
        tail.push(name);
        existing = existing.parent()?.to_path_buf();
        if existing.as_os_str().is_empty() {
            existing = PathBuf::from(".");
        }
    }
}

impl Rule {
    pub fn new(paths: &Paths) -> Rule {
        let fallback = std::env::current_dir()
            .ok()
            .filter(|d| !is_plugin_folder(d))
            .and_then(|d| std::fs::canonicalize(d).ok())
            .into_iter()
            .collect();
        let widened = std::env::var_os(ROOTS_VAR)
            .map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| p.is_absolute())
                    .filter_map(|p| std::fs::canonicalize(p).ok())
                    .collect()
            })
            .unwrap_or_default();
        let mut denied = vec![paths.config.clone(), paths.cache.clone()];
        if let Ok(home) = crate::paths::home() {
            denied.extend(HOME_FILES.iter().map(|f| home.join(f)));
            denied.extend(HOME_DIRS.iter().map(|d| home.join(d)));
        }
        for var in ["CLAUDE_CONFIG_DIR", "CODEX_HOME"] {
            if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                denied.push(PathBuf::from(dir));
            }
        }
        if let Ok(exe) = std::env::current_exe()
            && let Some(plugin) = exe.ancestors().find(|d| is_plugin_folder(d))
        {
            denied.push(plugin.to_path_buf());
        }
        let cwd = std::env::current_dir().unwrap_or_default();
        if is_plugin_folder(&cwd) {
            denied.push(cwd);
        }
        let denied = denied.into_iter().filter_map(|p| resolve(&p)).collect();
        Rule {
            fallback,
            widened,
            denied,
        }
    }

    /// The allowed places for a call, given the client's roots.
    fn allowed(&self, client_roots: &[PathBuf]) -> Vec<PathBuf> {
        let roots: Vec<PathBuf> = client_roots
            .iter()
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .collect();
        let mut allowed = if roots.is_empty() {
            self.fallback.clone()
        } else {
            roots
        };
        allowed.extend(self.widened.iter().cloned());
        allowed
    }

    /// The path a `put` may read or a `get` may write (`writing`), checked:
    /// `local` resolved against the server's working directory, and for a
    /// `get` into an existing folder, the name the file gets there (`name`,
    /// the remote path's last part). The path to hand the CLI, or the
    /// refusal.
    pub fn check(
        &self,
        client_roots: &[PathBuf],
        local: &str,
        writing: Option<&str>,
    ) -> Result<PathBuf, Error> {
        let allowed = self.allowed(client_roots);
        let refuse = |why: &str| Error::LocalPathRefused {
            path: local.to_owned(),
            why: why.to_owned(),
            allowed: if allowed.is_empty() {
                "none".to_owned()
            } else {
                allowed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        };
        let given = Path::new(local);
        let absolute = if given.is_absolute() {
            given.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(given)
        };
        let Some(resolved) = resolve(&absolute) else {
            return Err(refuse("it climbs out with `..`"));
        };
        let mut touched = vec![resolved.clone()];
        if let Some(remote) = writing
            && resolved.is_dir()
        {
            let name = remote
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("download");
            if name == "." || name == ".." {
                return Err(refuse("the remote name would climb out of the folder"));
            }
            touched.push(resolved.join(name));
        }
        for path in &touched {
            if !allowed.iter().any(|a| path.starts_with(a)) {
                return Err(refuse("it is outside the places this agent works in"));
            }
            if let Some(d) = self.denied.iter().find(|d| path.starts_with(d)) {
                return Err(refuse(&format!(
                    "{} belongs to runcode, the shell, ssh or an agent client",
                    d.display()
                )));
            }
            if writing.is_some()
                && path
                    .components()
                    .any(|c| c == Component::Normal(".git".as_ref()))
            {
                return Err(refuse("a .git folder's hooks and config run code"));
            }
        }
        Ok(resolved)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn rule(dir: &Path) -> Rule {
        let home = dir.join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::create_dir_all(home.join("work/.git")).unwrap();
        let paths = Paths {
            config: home.join(".config/runcode"),
            cache: home.join(".cache/runcode"),
        };
        std::fs::create_dir_all(&paths.cache).unwrap();
        let mut r = Rule::new(&paths);
        r.fallback = vec![std::fs::canonicalize(&home).unwrap()];
        r.denied = [".ssh", ".bashrc", ".cache/runcode", ".config/runcode"]
            .iter()
            .filter_map(|p| resolve(&home.join(p)))
            .collect();
        r
    }

    #[test]
    fn only_the_working_places_and_never_the_keys() {
        let dir = tempfile::tempdir().unwrap();
        let r = rule(dir.path());
        let home = std::fs::canonicalize(dir.path().join("home")).unwrap();
        let at = |p: &str| home.join(p).display().to_string();
        assert!(r.check(&[], &at("work/out.txt"), Some("x")).is_ok());
        assert!(r.check(&[], &at("work"), Some("notes.txt")).is_ok());
        for (path, remote) in [
            (at(".ssh/authorized_keys"), Some("x")),
            (at(".bashrc"), Some("x")),
            (at(".cache/runcode/ws-1/config"), Some("x")),
            (at(".config/runcode/token"), None),
            (at("work/.git/hooks/pre-commit"), Some("x")),
            (at("work/../../elsewhere"), Some("x")),
            ("/etc/passwd".to_owned(), None),
        ] {
            let err = r.check(&[], &path, remote).err();
            assert!(
                err.as_ref()
                    .is_some_and(|e| e.code() == crate::error::Code::LocalPathRefused),
                "{path}: {err:?}"
            );
        }
        // Into the home folder, a file named after the remote one: the
        // name is checked too.
        assert!(r.check(&[], &at(""), Some("evil/.bashrc")).is_err());
        assert!(r.check(&[], &at("work"), Some("a/..")).is_err());
        // A link inside the project that points at the keys is the keys.
        std::os::unix::fs::symlink(home.join(".ssh"), home.join("work/keys")).unwrap();
        assert!(r.check(&[], &at("work/keys/id"), Some("x")).is_err());
        // The client's roots replace the fallback.
        let other = dir.path().join("other");
        std::fs::create_dir_all(&other).unwrap();
        assert!(
            r.check(std::slice::from_ref(&other), &at("work/a"), Some("x"))
                .is_err()
        );
        assert!(
            r.check(
                std::slice::from_ref(&other),
                &other.join("a").display().to_string(),
                Some("x")
            )
            .is_ok()
        );
    }
}
