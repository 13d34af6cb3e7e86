//! P10: `put` and `get` of a 5,000-file tree (50 folders of 100 files of
//! 2 kB) against `tar` piped through ssh over the same master, the baseline
//! a user would reach for.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{interleaved, ms, ratio};

/// What the session gives the baseline: ssh's config, its alias and the
/// workdir on the workspace.
pub struct Target<'a> {
    pub config: &'a str,
    pub alias: &'a str,
    pub workdir: &'a str,
}

/// Runs both directions and answers the report's two rows.
pub fn run(
    dir: &Path,
    runcode: &dyn Fn(&[&str]) -> Command,
    t: &Target<'_>,
) -> Result<String, String> {
    let tree = dir.join("tree");
    make_tree(&tree)?;
    let tree_arg = tree.display().to_string();
    let back = dir.join("tree-back");
    let back_arg = back.display().to_string();
    let ssh = |remote: &str| format!("ssh -F '{}' {} '{remote}'", t.config, t.alias);
    let shell = |line: String| {
        let mut c = Command::new("sh");
        c.arg("-c").arg(line).stdin(Stdio::null());
        c
    };
    let mut put = || runcode(&["put", &tree_arg, "tree-rc"]);
    let mut tar_put = || {
        shell(format!(
            "tar cf - -C '{}' tree | {}",
            dir.display(),
            ssh(&format!(
                "rm -rf {w}/tree-tar && mkdir -p {w}/tree-tar && tar xf - -C {w}/tree-tar",
                w = t.workdir
            ))
        ))
    };
    eprintln!("xtask: a 5,000-file tree, put and get, 5 runs of each");
    let puts = interleaved(5, &mut [&mut put, &mut tar_put], &mut || {})?;
    let mut get = || runcode(&["get", "tree-rc", "--out", &back_arg]);
    let mut tar_get = || {
        shell(format!(
            "mkdir -p '{b}' && {} | tar xf - -C '{b}'",
            ssh(&format!("tar cf - -C {} tree-rc", t.workdir)),
            b = back.display()
        ))
    };
    let mut clean = || {
        let _ = std::fs::remove_dir_all(&back);
    };
    let gets = interleaved(5, &mut [&mut get, &mut tar_get], &mut clean)?;
    Ok(format!(
        "| P10 | `put` of a 5,000-file tree (50 × 100 × 2 kB) vs `tar cf - tree \\| ssh <alias> 'tar xf -'` | {} ({} vs {}) | ≤ 1.10× |\n\
         | P10 | `get` of the same tree vs `ssh <alias> 'tar cf - tree' \\| tar xf -` | {} ({} vs {}) | ≤ 1.10× |",
        ratio(puts[0].median(), puts[1].median()),
        ms(puts[0].median()),
        ms(puts[1].median()),
        ratio(gets[0].median(), gets[1].median()),
        ms(gets[0].median()),
        ms(gets[1].median()),
    ))
}

/// 50 folders of 100 files of 2 kB, each file's bytes its own.
fn make_tree(tree: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(tree);
    for d in 0..50 {
        let folder = tree.join(format!("d{d:02}"));
        std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
        for f in 0..100 {
            let seed = (d * 100 + f) as u8;
            let bytes: Vec<u8> = (0..2048u32).map(|i| seed.wrapping_add(i as u8)).collect();
            std::fs::write(folder.join(format!("f{f:03}.txt")), bytes)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}
