//! The devplane's persistent state: the API token and the workspaces, kept
//! in `<data-dir>/state.json` and replaced atomically on every change.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Power {
    Stopped,
    Starting,
    Running,
    Stopping,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workspace {
    pub id: u64,
    pub title: String,
    pub custom_title: Option<String>,
    /// `aws` for SSH-capable workspaces; anything else is not connectable.
    pub provider: String,
    /// Owned by a teammate and shared with this account.
    pub shared: bool,
    pub power: Power,
    pub ssh_user: String,
}

impl Workspace {
    pub fn ssh_capable(&self) -> bool {
        self.provider == "aws"
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub token: String,
    pub email: String,
    pub next_id: u64,
    pub workspaces: Vec<Workspace>,
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("state.json")
}

pub fn load(data_dir: &Path) -> Result<Option<Saved>, String> {
    let file = path(data_dir);
    match std::fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{}: {e}", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", file.display())),
    }
}

pub fn save(data_dir: &Path, saved: &Saved) -> Result<(), String> {
    let file = path(data_dir);
    let bytes = serde_json::to_vec_pretty(saved).map_err(|e| e.to_string())?;
    runcode_rules::fs::write_private(&file, &bytes, 0o600)
        .map_err(|e| format!("{}: {e}", file.display()))
}
