//! What runcode wired into other programs, found again: the program named by
//! Claude Code's status line, by the managed ssh block's `ProxyCommand`,
//! and by the `~/.local/bin/runcode` link. `doctor` checks each points at
//! something that runs; `uninstall` removes them.

use std::path::{Path, PathBuf};

use crate::{remote::sshconfig, wiring::claude};

/// One thing runcode wired, and the program it names.
pub struct Wire {
    /// `statusline`, `ssh_config` or `path_link`.
    pub name: &'static str,
    /// The file holding it.
    pub file: PathBuf,
    pub program: PathBuf,
    /// The command that writes it again (and so repairs it).
    pub fix: &'static str,
}

/// Everything runcode wired that can be found.
pub fn find() -> Vec<Wire> {
    let mut wires = Vec::new();
    if let Some(file) = claude::settings_path()
        && let Some(program) = statusline_program(&file)
    {
        wires.push(Wire {
            name: "statusline",
            file,
            program,
            fix: "runcode install-statusline",
        });
    }
    if let Ok(home) = crate::paths::home() {
        let config = home.join(".ssh/config");
        if let Some(program) = proxy_program(&config) {
            wires.push(Wire {
                name: "ssh_config",
                file: config,
                program,
                fix: "runcode config-ssh",
            });
        }
        let link = path_link(&home);
        if let Some(target) = our_link(&link) {
            wires.push(Wire {
                name: "path_link",
                file: link,
                program: target,
                fix: "runcode install-path",
            });
        }
    }
    wires
}

/// `~/.local/bin/runcode`.
pub fn path_link(home: &Path) -> PathBuf {
    home.join(".local/bin/runcode")
}

/// The target of `link` when it is a link to a runcode binary (ours).
pub fn our_link(link: &Path) -> Option<PathBuf> {
    std::fs::read_link(link)
        .ok()
        .filter(|t| claude::is_runcode(t))
}

/// The program of our status line in a settings.json, if ours is there.
fn statusline_program(settings: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(settings).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let command = value["statusLine"]["command"].as_str()?;
    claude::our_program(command).map(Path::to_path_buf)
}

/// The program of the first `ProxyCommand` in the managed ssh block.
fn proxy_program(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let (start, end) = sshconfig::find_block(&text).ok()??;
    let line = text[start..end]
        .lines()
        .find_map(|l| l.trim().strip_prefix("ProxyCommand "))?
        .trim();
    first_word(line).map(PathBuf::from)
}

/// The first word of a command line as we write it: `'...'` (sh), `"..."`
/// (Windows) or bare.
fn first_word(line: &str) -> Option<String> {
    for quote in ['\'', '"'] {
        if let Some(rest) = line.strip_prefix(quote) {
            return rest.split_once(quote).map(|(word, _)| word.to_owned());
        }
    }
    line.split_whitespace().next().map(str::to_owned)
}

/// Does `program --version` run and succeed? The reason when not.
pub fn runs(program: &Path) -> Result<(), String> {
    if !program.exists() {
        return Err(format!("{} is gone", program.display()));
    }
    match std::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{} --version failed ({})",
            program.display(),
            out.status
        )),
        Err(e) => Err(format!("{} does not run ({e})", program.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_words_as_written() {
        assert_eq!(
            first_word("'/a b/runcode' proxy 1").as_deref(),
            Some("/a b/runcode")
        );
        assert_eq!(
            first_word("\"C:\\x y\\runcode.exe\" proxy 1").as_deref(),
            Some("C:\\x y\\runcode.exe")
        );
        assert_eq!(
            first_word("/bin/runcode proxy 1").as_deref(),
            Some("/bin/runcode")
        );
        assert_eq!(first_word("'unterminated"), None);
    }
}
