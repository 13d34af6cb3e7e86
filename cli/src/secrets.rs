//! Secrets (docs/security.md, "Secrets"): values the user keeps on this
//! machine for commands on a workspace, named by an environment variable
//! name, for every workspace or for one. Their names and scopes are listed
//! in `<config>/secrets.json`; each value lives in the OS credential store
//! (Windows Credential Manager, the macOS Keychain) under the service
//! `runcode`, or, where there is none (Linux, or a store that does not
//! answer), in `<config>/secrets.values.json`, 0600. Nothing here ever puts
//! a value in an error message.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::{self, Paths};

/// The shortest value accepted: redacting a shorter one would mangle
/// ordinary output.
pub const MIN_LEN: usize = 8;

/// The longest value accepted.
pub const MAX_LEN: usize = 64 * 1024;

/// Names that change how a shell, the dynamic loader or runcode's own
/// wrapper starts or behaves; a secret may not take them. Prefixes end in
/// `*`.
pub const REFUSED: &[&str] = &[
    "PATH",
    "LD_*",
    "DYLD_*",
    "BASH_ENV",
    "ENV",
    "IFS",
    "PS1",
    "PS2",
    "PS4",
    "PROMPT_COMMAND",
    "SHELLOPTS",
    "BASHOPTS",
    "BASH_FUNC_*",
    "CDPATH",
    "GLOBIGNORE",
    "HOME",
    "SHELL",
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "MALLOC_*",
    "HOSTALIASES",
    "RUNCODE_*",
    "SSH_*",
];

/// One secret as the index lists it: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// The workspace it is for; None: every workspace.
    pub workspace: Option<u64>,
    /// Where its value is: `keyring` or `file`.
    pub store: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    secrets: Vec<Entry>,
}

fn index_path(paths: &Paths) -> PathBuf {
    paths.config.join("secrets.json")
}

fn values_path(paths: &Paths) -> PathBuf {
    paths.config.join("secrets.values.json")
}

/// Whether `name` may name a secret: an environment variable name
/// (`[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters) that is not refused.
pub fn check_name(name: &str) -> Result<()> {
    let shaped = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if !shaped {
        return Err(Error::SecretRefused(format!(
            "{:?} is not an environment variable name (letters, digits and _, not starting with a digit, at most 64)",
            crate::text::clean(name, false)
        )));
    }
    let upper = name.to_ascii_uppercase();
    let refused = REFUSED.iter().find(|r| match r.strip_suffix('*') {
        Some(prefix) => upper.starts_with(prefix),
        None => upper == **r,
    });
    if let Some(r) = refused {
        return Err(Error::SecretRefused(format!(
            "{name} changes how a shell or the loader starts (it matches {r}); docs/security.md lists the names refused"
        )));
    }
    Ok(())
}

/// Whether `value` may be a secret's value (its length and no NUL).
pub fn check_value(value: &[u8]) -> Result<()> {
    if value.len() < MIN_LEN {
        return Err(Error::SecretRefused(format!(
            "the value is shorter than {MIN_LEN} bytes: hiding it in output would mangle ordinary text"
        )));
    }
    if value.len() > MAX_LEN {
        return Err(Error::SecretRefused(format!(
            "the value is longer than {} KiB",
            MAX_LEN / 1024
        )));
    }
    if value.contains(&0) {
        return Err(Error::SecretRefused(
            "the value holds a NUL byte, which no environment variable can".to_owned(),
        ));
    }
    Ok(())
}

fn read_index(paths: &Paths) -> Index {
    std::fs::read(index_path(paths))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_index(paths: &Paths, index: &Index) -> Result<()> {
    paths::private_dir(&paths.config)?;
    let bytes = serde_json::to_vec_pretty(index).map_err(Error::encode("secrets.json"))?;
    paths::write_private(&index_path(paths), &bytes, 0o600)
}

fn read_values(paths: &Paths) -> BTreeMap<String, String> {
    std::fs::read(values_path(paths))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn write_values(paths: &Paths, values: &BTreeMap<String, String>) -> Result<()> {
    paths::private_dir(&paths.config)?;
    let bytes = serde_json::to_vec(values).map_err(Error::encode("secrets.values.json"))?;
    paths::write_private(&values_path(paths), &bytes, 0o600)
}

/// The key of a value in either store: `<scope>/<NAME>`.
fn key(name: &str, workspace: Option<u64>) -> String {
    match workspace {
        Some(id) => format!("{id}/{name}"),
        None => format!("all/{name}"),
    }
}

/// Every secret, names and scopes only.
pub fn list(paths: &Paths) -> Vec<Entry> {
    read_index(paths).secrets
}

/// Stores `value` as `name` for `workspace` (or every workspace), in the
/// OS credential store where one answers, else in the 0600 file; answers
/// where it went.
pub fn set(paths: &Paths, name: &str, workspace: Option<u64>, value: &[u8]) -> Result<Entry> {
    check_name(name)?;
    check_value(value)?;
    let k = key(name, workspace);
    let store = if os_store::set(&k, value) {
        "keyring"
    } else {
        let mut values = read_values(paths);
        values.insert(
            k.clone(),
            base64::engine::general_purpose::STANDARD.encode(value),
        );
        write_values(paths, &values)?;
        "file"
    };
    // A value moved from one store to the other leaves none behind.
    if store == "keyring" {
        let mut values = read_values(paths);
        if values.remove(&k).is_some() {
            write_values(paths, &values)?;
        }
    }
    let entry = Entry {
        name: name.to_owned(),
        workspace,
        store: store.to_owned(),
    };
    let mut index = read_index(paths);
    index
        .secrets
        .retain(|e| !(e.name == name && e.workspace == workspace));
    index.secrets.push(entry.clone());
    index
        .secrets
        .sort_by(|a, b| (&a.name, a.workspace).cmp(&(&b.name, b.workspace)));
    write_index(paths, &index)?;
    Ok(entry)
}

/// Removes `name` (of `workspace`, or of every workspace); false when there
/// was none.
pub fn remove(paths: &Paths, name: &str, workspace: Option<u64>) -> Result<bool> {
    let mut index = read_index(paths);
    let before = index.secrets.len();
    index
        .secrets
        .retain(|e| !(e.name == name && e.workspace == workspace));
    let found = index.secrets.len() != before;
    let k = key(name, workspace);
    os_store::remove(&k);
    let mut values = read_values(paths);
    if values.remove(&k).is_some() {
        write_values(paths, &values)?;
    }
    if found {
        write_index(paths, &index)?;
    }
    Ok(found)
}

/// The secrets a command on workspace `ws` may use: every workspace's and
/// its own (its own wins over a same-named one for every workspace). Those
/// whose value cannot be read are left out.
pub fn usable(paths: &Paths, ws: u64) -> Vec<(String, Vec<u8>)> {
    let index = read_index(paths);
    if index.secrets.is_empty() {
        return Vec::new();
    }
    let values = read_values(paths);
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut entries: Vec<&Entry> = index
        .secrets
        .iter()
        .filter(|e| e.workspace.is_none_or(|w| w == ws))
        .collect();
    // Every workspace's first, so the workspace's own replaces it.
    entries.sort_by_key(|e| e.workspace.is_some());
    for e in entries {
        let k = key(&e.name, e.workspace);
        let value = match e.store.as_str() {
            "keyring" => os_store::get(&k),
            _ => values
                .get(&k)
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok()),
        };
        if let Some(v) = value.filter(|v| check_value(v).is_ok()) {
            out.insert(e.name.clone(), v);
        }
    }
    out.into_iter().collect()
}

/// The values of `names` for workspace `ws`, in that order; `secret_missing`
/// for the first that it may not use (none set, or another workspace's).
pub fn pick(paths: &Paths, ws: u64, names: &[String]) -> Result<Vec<(String, Vec<u8>)>> {
    let usable = usable(paths, ws);
    names
        .iter()
        .map(|n| {
            check_name(n)?;
            usable
                .iter()
                .find(|(name, _)| name == n)
                .cloned()
                .ok_or_else(|| {
                    let elsewhere = list(paths)
                        .iter()
                        .any(|e| e.name == *n && e.workspace.is_some_and(|w| w != ws));
                    Error::SecretMissing {
                        name: n.clone(),
                        ws,
                        elsewhere,
                    }
                })
        })
        .collect()
}

/// What the workspace's wrapper reads from stdin before the command starts
/// (wrap.sh): `NAME=<base64 of the value>` lines, then `.`.
pub fn preamble(chosen: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut p = Vec::new();
    for (name, value) in chosen {
        p.extend_from_slice(name.as_bytes());
        p.push(b'=');
        p.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(value)
                .as_bytes(),
        );
        p.push(b'\n');
    }
    p.extend_from_slice(b".\n");
    p
}

/// The OS credential store: Windows Credential Manager and the macOS
/// Keychain through `keyring`, Secret Service on Linux through runcode's
/// own D-Bus client (`secret_service`); none elsewhere.
mod os_store {
    #[cfg(any(windows, target_os = "macos"))]
    const SERVICE: &str = "runcode";

    #[cfg(any(windows, target_os = "macos"))]
    pub fn set(key: &str, value: &[u8]) -> bool {
        keyring::Entry::new(SERVICE, key).is_ok_and(|e| e.set_secret(value).is_ok())
    }

    #[cfg(any(windows, target_os = "macos"))]
    pub fn get(key: &str) -> Option<Vec<u8>> {
        keyring::Entry::new(SERVICE, key).ok()?.get_secret().ok()
    }

    #[cfg(any(windows, target_os = "macos"))]
    pub fn remove(key: &str) {
        if let Ok(e) = keyring::Entry::new(SERVICE, key) {
            let _ = e.delete_credential();
        }
    }

    #[cfg(target_os = "linux")]
    pub fn set(key: &str, value: &[u8]) -> bool {
        crate::secret_service::Store::connect().is_some_and(|mut s| s.set(key, value))
    }

    #[cfg(target_os = "linux")]
    pub fn get(key: &str) -> Option<Vec<u8>> {
        crate::secret_service::Store::connect()?.get(key)
    }

    #[cfg(target_os = "linux")]
    pub fn remove(key: &str) {
        if let Some(mut s) = crate::secret_service::Store::connect() {
            s.remove(key);
        }
    }

    #[cfg(not(any(windows, target_os = "macos", target_os = "linux")))]
    pub fn set(_: &str, _: &[u8]) -> bool {
        false
    }

    #[cfg(not(any(windows, target_os = "macos", target_os = "linux")))]
    pub fn get(_: &str) -> Option<Vec<u8>> {
        None
    }

    #[cfg(not(any(windows, target_os = "macos", target_os = "linux")))]
    pub fn remove(_: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_variable_names_and_never_a_loader_or_shell_one() {
        for ok in ["API_KEY", "_x", "db_url2"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A=B",
            "1X",
            "A B",
            "A\nB",
            "PATH",
            "LD_PRELOAD",
            "ld_library_path",
            "BASH_ENV",
            "ENV",
            "IFS",
            "PS4",
            "DYLD_INSERT_LIBRARIES",
            "RUNCODE_TOKEN",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_value(b"short").is_err());
        assert!(check_value(b"long enough").is_ok());
        assert!(check_value(b"with\0nul inside").is_err());
    }
}
