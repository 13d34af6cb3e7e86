//! Repository checks run as ordinary tests: versions agree, every stable
//! error code is documented, every source file says what it is for, the
//! shim keeps its line endings and run bit, and every fuzz target is built
//! and has a corpus.

use std::path::Path;

#[test]
fn the_cli_version_is_the_pinned_release() {
    let pinned = std::fs::read_to_string(crate::util::repo().join("RUNCODE_VERSION")).unwrap();
    let pinned = pinned
        .trim()
        .strip_prefix('v')
        .expect("RUNCODE_VERSION starts with v");
    let out = std::process::Command::new(crate::util::built("runcode"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("runcode {pinned}")
    );
}

/// The README and docs/errors.md carry the table made from the error enum
/// itself, so neither can drift from the codes the CLI prints.
#[test]
fn the_error_code_tables_are_made_from_the_enum() {
    let table = runcode::error::codes_table();
    for doc in ["README.md", "docs/errors.md"] {
        let text = std::fs::read_to_string(crate::util::repo().join(doc)).unwrap();
        assert!(
            text.contains(&table),
            "{doc} must carry exactly this table (paste it in place of the old one):\n\n{table}"
        );
    }
}

/// Every link of the README (and of the docs pages it sends a newcomer to
/// first) reaches a file of the repository, and its `#anchor` a heading of
/// that file; web addresses are left alone.
#[test]
fn the_readme_links_resolve() {
    let repo = crate::util::repo();
    let anchor_of = |heading: &str| -> String {
        heading
            .trim_start_matches('#')
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    };
    let mut broken = Vec::new();
    for page in ["README.md", "docs/guide.md", "docs/development.md"] {
        let text = std::fs::read_to_string(repo.join(page)).unwrap();
        let dir = repo.join(page).parent().unwrap().to_path_buf();
        for (i, _) in text.match_indices("](") {
            let target: String = text[i + 2..].chars().take_while(|c| *c != ')').collect();
            if target.starts_with("http")
                || target.starts_with('<')
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                repo.join(page)
            } else {
                dir.join(file)
            };
            if !path.exists() {
                broken.push(format!("{page}: {target}"));
                continue;
            }
            if !anchor.is_empty() {
                let body = std::fs::read_to_string(&path).unwrap_or_default();
                let found = body
                    .lines()
                    .filter(|l| l.starts_with('#'))
                    .any(|l| anchor_of(l) == anchor);
                if !found {
                    broken.push(format!("{page}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n  {}",
        broken.join("\n  ")
    );
    let lines = std::fs::read_to_string(repo.join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(lines <= 200, "the README is a front door: {lines} lines");
}

/// Every setting of `runcode::tuning` has its row in docs/cli.md, with its
/// default and range, and no other `RUNCODE_*_MS`/`_SECS` variable is read.
#[test]
fn the_tuning_settings_are_documented() {
    let doc = std::fs::read_to_string(crate::util::repo().join("docs/cli.md")).unwrap();
    for knob in runcode::tuning::ALL {
        let row = format!(
            "| `{}` | {} | {}–{} | {} |",
            knob.var, knob.default, knob.min, knob.max, knob.what
        );
        assert!(doc.contains(&row), "docs/cli.md lacks: {row}");
    }
    let mut files = Vec::new();
    rust_files(&crate::util::repo().join("cli/src"), &mut files);
    for file in files.iter().filter(|f| !f.ends_with("tuning.rs")) {
        let code = std::fs::read_to_string(file).unwrap();
        for (i, _) in code.match_indices("env::var(\"RUNCODE_") {
            let name: String = code[i + 10..].chars().take_while(|c| *c != '"').collect();
            assert!(
                !name.ends_with("_MS") && !name.ends_with("_SECS"),
                "{}: {name} is read outside tuning.rs",
                file.display()
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() && !matches!(name.as_str(), "target" | ".git" | "dist" | "node_modules") {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_opens_with_what_it_is_for() {
    let mut files = Vec::new();
    for dir in [
        "cli", "launcher", "devplane", "rules", "xtask", "src", "tests",
    ] {
        rust_files(&crate::util::repo().join(dir), &mut files);
    }
    assert!(files.len() > 30);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} should start with a //! line saying what it is for",
            file.display()
        );
        assert!(
            text.lines().count() <= 900,
            "{} is past ~800 lines: split it",
            file.display()
        );
    }
}

#[test]
fn the_shims_keep_their_line_endings_and_run_bit() {
    let out = std::process::Command::new("git")
        .args([
            "ls-files",
            "-s",
            "--eol",
            "plugin/bin/runcode",
            "plugin/bin/runcode.cmd",
        ])
        .current_dir(crate::util::repo())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        crate::util::skip("not a git checkout");
        return;
    }
    let sh = text
        .lines()
        .find(|l| l.ends_with("plugin/bin/runcode"))
        .unwrap();
    assert!(
        sh.starts_with("100755"),
        "the POSIX shim must be executable in git: {sh}"
    );
    assert!(
        sh.contains("i/lf") && sh.contains("w/lf"),
        "the POSIX shim must be LF: {sh}"
    );
    let attrs = std::fs::read_to_string(crate::util::repo().join(".gitattributes")).unwrap();
    assert!(
        attrs.contains("plugin/bin/runcode text eol=lf") && attrs.contains("*.cmd text eol=crlf")
    );
    let shim = std::fs::read(crate::util::repo().join("plugin/bin/runcode")).unwrap();
    assert!(!shim.contains(&b'\r'));
}

/// `cargo xtask fuzz` runs one target per file in `fuzz/fuzz_targets/`; each
/// must be built (a `[[bin]]` in fuzz/Cargo.toml) and have a corpus, which
/// `cargo test` replays (an empty list on either side fails too).
#[test]
fn every_fuzz_target_is_built_and_has_a_corpus() {
    let fuzz = crate::util::repo().join("fuzz");
    let names = |dir: &str, strip: &str| {
        let mut v: Vec<String> = std::fs::read_dir(fuzz.join(dir))
            .unwrap()
            .flatten()
            .map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .trim_end_matches(strip)
                    .to_owned()
            })
            .collect();
        v.sort();
        v
    };
    let targets = names("fuzz_targets", ".rs");
    assert!(targets.len() >= 13, "{targets:?}");
    assert_eq!(names("corpus", ""), targets);
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let mut bins: Vec<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|b| b.lines().find_map(|l| l.strip_prefix("name = ")))
        .map(|n| n.trim_matches('"').to_owned())
        .collect();
    bins.sort();
    assert_eq!(bins, targets);
}

/// The repository root holds only what the layout names: a stray file there
/// (the three unused Python wheels that once sat here) fails this test.
#[test]
fn the_root_holds_only_the_layout() {
    const ALLOWED: &[&str] = &[
        ".cargo",
        ".ci",
        ".config",
        ".gitattributes",
        ".github",
        ".gitignore",
        "Cargo.lock",
        "Cargo.toml",
        "LICENSE",
        "README.md",
        "RUNCODE_VERSION",
        "cli",
        "commands",
        "devplane",
        "docs",
        "fuzz",
        "launcher",
        "plugin",
        "rules",
        "rustfmt.toml",
        "skills",
        "src",
        "tests",
        "win",
        "xtask",
    ];
    let out = std::process::Command::new("git")
        .args(["ls-files"])
        .current_dir(crate::util::repo())
        .output()
        .unwrap();
    let mut stray: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('/').next().unwrap_or_default().to_owned())
        .filter(|top| !ALLOWED.contains(&top.as_str()))
        .collect();
    stray.dedup();
    assert!(stray.is_empty(), "not part of the layout: {stray:?}");
}

/// The folders of the CLI that are rooms of modules rather than one module:
/// each file in them is a node of the module graph (`remote::ssh`), and the
/// folder's `mod.rs` is the node named after the folder.
const ROOMS: &[&str] = &["plane", "remote", "wiring"];

/// The module a path below `crate::` names: `remote::ssh` for
/// `remote::ssh::Ssh` (a room's file), else its first segment.
fn module_of(path: &str, rooms: &std::collections::BTreeSet<String>) -> String {
    let mut parts = path.split("::").map(str::trim);
    let first = parts.next().unwrap_or_default().to_owned();
    if !ROOMS.contains(&first.as_str()) {
        return first;
    }
    match parts.next() {
        Some(second) if rooms.contains(&format!("{first}::{second}")) => {
            format!("{first}::{second}")
        }
        _ => first,
    }
}

/// A source file's code, unit tests left out.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    // Cut at the `#[cfg(test)]` or `#[cfg(all(test, ...))]` line above `mod tests`.
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| {
            w[0].starts_with("#[cfg(") && w[0].contains("test") && w[1].starts_with("mod tests")
        })
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// The paths below `crate::` a piece of code names, `crate::{a, b::c}`
/// lists spread out.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let inner = list.split('}').next().unwrap_or_default();
            out.extend(inner.split(',').map(|p| p.trim().to_owned()));
        } else {
            out.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect::<String>()
                    .trim_end_matches(':')
                    .to_owned(),
            );
        }
    }
    out
}

/// The modules of a crate, each named after its file or folder under
/// `src/` (a room's files one by one, `ROOMS`), and the other modules each
/// one refers to (`crate::<module>`), unit tests left out.
fn module_graph(
    src: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let name_of = |file: &Path| {
        let rel = file.strip_prefix(src).unwrap();
        let parts: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .collect();
        match parts.as_slice() {
            [room, file] if ROOMS.contains(&room.as_str()) && file != "mod" => {
                format!("{room}::{file}")
            }
            [room, file, _, ..] if ROOMS.contains(&room.as_str()) => {
                format!("{room}::{file}")
            }
            _ => parts[0].clone(),
        }
    };
    let rooms: std::collections::BTreeSet<String> = files.iter().map(|f| name_of(f)).collect();
    let mut graph = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for file in &files {
        let top = name_of(file);
        if top == "lib" || top == "main" {
            continue;
        }
        let mut refs: std::collections::BTreeSet<String> = crate_paths(&code_of(file))
            .iter()
            .map(|p| module_of(p, &rooms))
            .collect();
        refs.retain(|r| !r.is_empty() && *r != top);
        graph.entry(top).or_default().extend(refs);
    }
    graph
}

/// Commands are leaves: no command imports another (what two commands
/// share lives in a room), and nothing outside `commands/` but `lib.rs`
/// imports a command.
#[test]
fn commands_are_leaves() {
    let src = crate::util::repo().join("cli/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let code = code_of(file);
        let in_commands = rel.starts_with("commands/");
        if in_commands && rel != "commands/mod.rs" {
            // `super::` from a command names its sibling commands (or the
            // dispatcher); `super::*` in its own tests is not code.
            if code.contains("super::") || code.contains("crate::commands") {
                wrong.push(format!("{rel} imports another command"));
            }
        } else if !in_commands && rel != "lib.rs" && code.contains("crate::commands") {
            wrong.push(format!("{rel} imports a command"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// No two modules of a crate depend on each other, through any chain: the
/// layers of docs/architecture.md hold.
#[test]
fn no_crate_has_an_import_cycle() {
    for crate_src in ["cli/src", "launcher/src", "devplane/src", "rules/src"] {
        let graph = module_graph(&crate::util::repo().join(crate_src));
        assert!(graph.len() > 3, "{crate_src}: {graph:?}");
        // A depth-first walk from each module; meeting a module already on
        // the path is a cycle.
        fn walk(
            graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut std::collections::BTreeSet<String>,
        ) -> Option<Vec<String>> {
            let here = path.last().unwrap().clone();
            for next in graph.get(&here).into_iter().flatten() {
                if !graph.contains_key(next) || done.contains(next) {
                    continue;
                }
                if let Some(start) = path.iter().position(|m| m == next) {
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                path.push(next.clone());
                if let Some(cycle) = walk(graph, path, done) {
                    return Some(cycle);
                }
                path.pop();
            }
            done.insert(here);
            None
        }
        let mut done = std::collections::BTreeSet::new();
        for module in graph.keys() {
            if let Some(cycle) = walk(&graph, &mut vec![module.clone()], &mut done) {
                panic!("{crate_src}: an import cycle: {}", cycle.join(" -> "));
            }
        }
    }
}

/// A user of the binary has no docs/ folder: no help text may send them to
/// one (or to any file of this repository).
#[test]
fn help_texts_cite_no_repository_file() {
    let help = |args: &[&str]| {
        let out = std::process::Command::new(crate::util::built("runcode"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "runcode {args:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = help(&["--help"]);
    // The commands, grouped by purpose between the usage line and the
    // options: each line indented two spaces.
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Usage:"))
        .take_while(|l| !l.starts_with("Global options:"))
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert!(commands.len() > 20, "{top}");
    let mut texts = vec![("runcode".to_owned(), top)];
    for c in &commands {
        texts.push((c.clone(), help(&[c, "--help"])));
    }
    for (name, text) in texts {
        assert!(
            !text.contains("docs/") && !text.contains(".md"),
            "`runcode {name} --help` cites a repository file:\n{text}"
        );
    }
}

/// Both lockfiles (the workspace's and the fuzz crate's, which is a
/// workspace of its own) are current: every build of the test command runs
/// with `--locked`, and a fresh clone's tree stays as it was checked out.
#[test]
fn the_lockfiles_are_current() {
    for manifest in ["Cargo.toml", "fuzz/Cargo.toml"] {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "metadata",
                "--locked",
                "--format-version",
                "1",
                "--manifest-path",
            ])
            .arg(crate::util::repo().join(manifest))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{manifest}'s lockfile is stale (run `cargo metadata` there and commit it):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every `*.md` a comment or a document names exists, relative to the
/// citing file, to the repository root, or in docs/: a reader of this
/// repository has nothing else.
#[test]
fn every_cited_document_exists() {
    let repo = crate::util::repo();
    let out = std::process::Command::new("git")
        .args(["ls-files", "--cached", "--others", "--exclude-standard"])
        .current_dir(&repo)
        .output()
        .unwrap();
    let mut missing = Vec::new();
    for file in String::from_utf8_lossy(&out.stdout).lines() {
        let checked = [".rs", ".md", ".toml", ".yml", ".yaml", ".sh"];
        if !checked.iter().any(|e| file.ends_with(e)) || file.starts_with("fuzz/corpus") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(repo.join(file)) else {
            continue;
        };
        let dir = repo.join(file).parent().unwrap().to_path_buf();
        for cited in md_citations(&text) {
            let cited = cited.trim_start_matches('/').to_owned();
            let found = [
                dir.join(&cited),
                repo.join(&cited),
                repo.join("docs").join(&cited),
            ]
            .iter()
            .any(|p| p.is_file());
            if !found {
                missing.push(format!("{file}: {cited}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "citations of files that do not exist:\n  {}",
        missing.join("\n  ")
    );
}

/// The `*.md` paths in `text`: runs of path characters ending in `.md`.
fn md_citations(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let is_path = |b: u8| b.is_ascii_alphanumeric() || b"._/-".contains(&b);
    let mut found = Vec::new();
    let mut i = 0;
    while let Some(pos) = text[i..].find(".md") {
        let end = i + pos + 3;
        let after_ok = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        let mut start = i + pos;
        while start > 0 && is_path(bytes[start - 1]) {
            start -= 1;
        }
        let cited = text[start..end].trim_start_matches("./");
        if after_ok && cited.len() > 3 && !cited.starts_with('.') && !cited.contains("//") {
            found.push(cited.to_owned());
        }
        i = end;
    }
    found
}

/// The six release platforms (`runcode_e2e::release::PLATFORMS`) are the
/// ones every part names: the POSIX shim's cases, the Windows shim's
/// architectures, release.yml's matrix and the Homebrew formula (which
/// covers all but Windows). The launcher's own list is checked in its unit
/// tests against the same table.
#[test]
fn every_part_names_the_same_six_platforms() {
    use runcode_e2e::release::PLATFORMS;
    use std::collections::BTreeSet;
    let repo = crate::util::repo();
    let want: BTreeSet<String> = PLATFORMS
        .iter()
        .map(|p| format!("{}-{}", p.os, p.arch))
        .collect();
    assert_eq!(want.len(), 6);

    let shim = std::fs::read_to_string(repo.join("plugin/bin/runcode")).unwrap();
    let in_shim: BTreeSet<String> = shim
        .split("p=")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|p| p != "none")
        .collect();
    assert_eq!(in_shim, want, "plugin/bin/runcode");

    let cmd = std::fs::read_to_string(repo.join("plugin/bin/runcode.cmd")).unwrap();
    let windows: BTreeSet<String> = PLATFORMS
        .iter()
        .filter(|p| p.windows())
        .map(|p| p.arch.to_owned())
        .collect();
    let in_cmd: BTreeSet<String> = cmd
        .split("set \"RC_ARCH=")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|arch| !arch.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(in_cmd, windows, "plugin/bin/runcode.cmd");

    let workflow = std::fs::read_to_string(repo.join(".github/workflows/release.yml")).unwrap();
    for p in PLATFORMS {
        assert!(
            workflow.contains(&p.asset()) && workflow.contains(&p.launcher()),
            "release.yml builds {} and {}",
            p.asset(),
            p.launcher()
        );
        assert!(
            workflow.contains(p.target),
            "release.yml names {}",
            p.target
        );
    }
    let assets_in_workflow = workflow.matches("asset: runcode_").count()
        + workflow.matches("asset\": \"runcode_").count();
    assert!(
        assets_in_workflow <= 6,
        "release.yml builds an asset outside the six"
    );

    // The formula, made by `cargo xtask formula` from a release listing all six.
    let tmp = crate::util::world::scratch("tidy");
    let sums: String = PLATFORMS
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{}  {}\n",
                format!("{i:x}").repeat(64)[..64].to_owned(),
                p.asset()
            )
        })
        .collect();
    std::fs::write(tmp.path().join("checksums.txt"), &sums).unwrap();
    let status = std::process::Command::new(crate::util::built("xtask"))
        .args(["formula", "--checksums"])
        .arg(tmp.path().join("checksums.txt"))
        .arg("--out")
        .arg(tmp.path().join("runcode.rb"))
        .status()
        .unwrap();
    assert!(status.success());
    let formula = std::fs::read_to_string(tmp.path().join("runcode.rb")).unwrap();
    for p in PLATFORMS {
        assert_eq!(
            formula.contains(&p.asset()),
            !p.windows(),
            "the formula names {} exactly when it is not Windows",
            p.asset()
        );
    }
}
