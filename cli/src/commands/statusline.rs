//! `runcode statusline [--plain]`: one line for Claude Code's status bar
//! naming the attached workspace and the minutes left. It reads only local
//! files (no network, no token), prints nothing when nothing applies, never
//! fails, and never waits on a terminal.

use std::io::{IsTerminal, Read};
use std::path::{Component, Path, PathBuf};

use crate::ctx::Ctx;
use crate::error::Result;
use crate::{attach, session, text};

pub fn run(ctx: &Ctx, plain: bool) -> Result<i32> {
    let line = line(ctx, plain, &stdin_dirs());
    if line.is_some() || ctx.out.json {
        ctx.out.result(
            &serde_json::json!({"line": line}),
            line.as_deref().unwrap_or(""),
        );
    }
    Ok(0)
}

fn line(ctx: &Ctx, plain: bool, dirs: &[PathBuf]) -> Option<String> {
    let a = attach::read(&ctx.paths)?;
    let s = session::load(&ctx.paths, a.id)?;
    let left = s.seconds_left();
    if left <= 0 {
        return None;
    }
    if let Some(scope) = &a.scope
        && !dirs.is_empty()
        && !dirs.iter().any(|d| related(d, scope))
    {
        return None;
    }
    let name = s
        .meta
        .web_url
        .as_deref()
        .and_then(crate::url::parts)
        .map(|p| p.host_port().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| {
            if s.meta.user.is_empty() {
                format!("ws-{}", a.id)
            } else {
                s.meta.user.clone()
            }
        });
    let name = text::clean(&name, false);
    let minutes = (left + 59) / 60;
    if plain {
        return Some(format!("working-on:{name} ~{minutes}m"));
    }
    let colour = if left < 120 {
        "41"
    } else if left < 300 {
        "43"
    } else {
        "42"
    };
    Some(format!(
        "\u{1b}[30;{colour}m runcode {name} · {minutes}m \u{1b}[0m"
    ))
}

/// Equal to, inside, or above `scope`, comparing whole path components.
fn related(dir: &Path, scope: &Path) -> bool {
    let a: Vec<Component<'_>> = dir.components().collect();
    let b: Vec<Component<'_>> = scope.components().collect();
    a.starts_with(&b) || b.starts_with(&a)
}

/// The directories Claude Code pipes in as JSON (`workspace.current_dir`,
/// `workspace.project_dir`, `cwd`); none when stdin is a terminal or not JSON.
fn stdin_dirs() -> Vec<PathBuf> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Vec::new();
    }
    let mut raw = Vec::new();
    let _ = stdin.lock().take(1 << 20).read_to_end(&mut raw);
    crate::wiring::claude::statusline_dirs(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_compares_whole_components() {
        assert!(related(Path::new("/a/b"), Path::new("/a/b")));
        assert!(related(Path::new("/a/b/c"), Path::new("/a/b")));
        assert!(related(Path::new("/a"), Path::new("/a/b")));
        assert!(!related(Path::new("/a/bc"), Path::new("/a/b")));
        assert!(!related(Path::new("/x"), Path::new("/a/b")));
    }
}
