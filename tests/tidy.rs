//! Repository checks run as ordinary tests: versions agree, every stable
//! error code is documented, every source file says what it is for, the
//! shim keeps its line endings and run bit, and every fuzz target is built
//! and has a corpus.

mod util;

use std::path::Path;

#[test]
fn the_cli_version_is_the_pinned_release() {
    let pinned = std::fs::read_to_string(util::repo().join("RUNCODE_VERSION")).unwrap();
    let pinned = pinned
        .trim()
        .strip_prefix('v')
        .expect("RUNCODE_VERSION starts with v");
    let out = std::process::Command::new(util::built("runcode"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("runcode {pinned}")
    );
}

#[test]
fn every_error_code_is_documented_in_the_readme() {
    let readme = std::fs::read_to_string(util::repo().join("README.md")).unwrap();
    for code in runcode::CODES {
        assert!(
            readme.contains(&format!("`{code}`")),
            "README.md does not document `{code}`"
        );
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
    for dir in ["cli", "launcher", "devplane", "xtask", "src", "tests"] {
        rust_files(&util::repo().join(dir), &mut files);
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
        .current_dir(util::repo())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    if text.trim().is_empty() {
        util::skip("not a git checkout");
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
    let attrs = std::fs::read_to_string(util::repo().join(".gitattributes")).unwrap();
    assert!(
        attrs.contains("plugin/bin/runcode text eol=lf") && attrs.contains("*.cmd text eol=crlf")
    );
    let shim = std::fs::read(util::repo().join("plugin/bin/runcode")).unwrap();
    assert!(!shim.contains(&b'\r'));
}

/// `cargo xtask fuzz` runs one target per file in `fuzz/fuzz_targets/`; each
/// must be built (a `[[bin]]` in fuzz/Cargo.toml) and have a corpus, which
/// `cargo test` replays (an empty list on either side fails too).
#[test]
fn every_fuzz_target_is_built_and_has_a_corpus() {
    let fuzz = util::repo().join("fuzz");
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
