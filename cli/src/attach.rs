//! The attachment: `<cache>/current`, line 1 the workspace id, line 2 the
//! directory it was attached from (its scope), line 3 its title (for
//! output that names it; an older file without it is read as before).

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::paths::{self, Paths};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: u64,
    pub scope: Option<PathBuf>,
    /// The title when it was attached, cleaned.
    pub title: Option<String>,
}

impl Attachment {
    /// `title (#id)`, or `#id` when the title is not known.
    pub fn name(&self) -> String {
        match &self.title {
            Some(t) => format!("{t} (#{})", self.id),
            None => format!("#{}", self.id),
        }
    }
}

pub fn read(paths: &Paths) -> Option<Attachment> {
    let text = std::fs::read_to_string(paths.current()).ok()?;
    let mut lines = text.lines();
    let id = lines.next()?.trim().parse().ok()?;
    let scope = lines.next().filter(|l| !l.is_empty()).map(PathBuf::from);
    let title = lines
        .next()
        .map(|l| crate::text::clean(l, false))
        .filter(|l| !l.is_empty());
    Some(Attachment { id, scope, title })
}

pub fn require(paths: &Paths) -> Result<Attachment> {
    read(paths).ok_or(Error::NotAttached)
}

pub fn write(paths: &Paths, id: u64, title: &str) -> Result<()> {
    paths::private_dir(&paths.cache)?;
    let scope = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let title = crate::text::one_line(title);
    paths::write_private(
        &paths.current(),
        format!("{id}\n{scope}\n{title}\n").as_bytes(),
        0o600,
    )
}

/// Detaches, if `id` (or anything, when `None`) is attached. Returns whether
/// something was detached.
pub fn clear(paths: &Paths, id: Option<u64>) -> Result<bool> {
    match read(paths) {
        Some(a) if id.is_none_or(|i| i == a.id) => {
            std::fs::remove_file(paths.current()).map_err(Error::io(paths.current()))?;
            Ok(true)
        }
        _ => Ok(false),
    }
}
