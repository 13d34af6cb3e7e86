//! The plugin bundle and the release, checked by the real clients: Claude
//! Code and Codex (from npm, offline, scratch HOME) validate and install
//! `dist/plugin`, and each installed copy's `bin/runcode` downloads,
//! verifies, caches and runs the CLI from `dist/release` on loopback. Also:
//! the archives rebuild byte for byte, the formula parses, and every
//! manifest and front matter agrees with RUNCODE_VERSION.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use runcode_e2e::serve::Server;
use serde_json::Value;

struct Scratch {
    _tmp: tempfile::TempDir,
    home: PathBuf,
}

fn scratch() -> Scratch {
    let tmp = crate::util::world::scratch("plugin");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".codex")).unwrap();
    Scratch { _tmp: tmp, home }
}

fn agent(s: &Scratch, program: &Path, args: &[&str]) -> Output {
    let node_bin = program.parent().unwrap().display().to_string();
    Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", format!("{node_bin}:/usr/local/bin:/usr/bin:/bin"))
        .env("HOME", &s.home)
        .env("CODEX_HOME", s.home.join(".codex"))
        .env("DISABLE_AUTOUPDATER", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
}

#[track_caller]
fn succeeded(out: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed: {text}");
    text
}

/// The installed copy's shim fetches the CLI from `dist/release` on loopback.
fn installed_copy_runs(bin: &Path, s: &Scratch) {
    let release = Server::start(&crate::util::dist().join("release"));
    let run = |args: &[&str]| {
        Command::new(bin)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &s.home)
            .env("RUNCODE_CACHE", s.home.join("rc-cache"))
            .env("RUNCODE_DOWNLOAD_BASE", release.url(""))
            .output()
            .unwrap()
    };
    let out = run(&["--version"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let pinned = std::fs::read_to_string(crate::util::repo().join("RUNCODE_VERSION")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("runcode {}", pinned.trim().trim_start_matches('v'))
    );
    assert!(
        err.contains("runcode: fetching"),
        "downloaded on first run: {err}"
    );
    let out = run(&["doctor", "--json"]);
    let doctor: Value = serde_json::from_slice(&out.stdout).expect("doctor --json is JSON");
    assert!(
        doctor["checks"].as_array().is_some_and(|c| c.len() >= 5),
        "{doctor}"
    );
    assert_eq!(
        release.hits(&format!("/{}", crate::util::release::host_asset())),
        1,
        "the second run used the cache"
    );
}

#[test]
fn claude_code_validates_installs_and_runs_the_bundle() {
    let claude = crate::util::npm_client("claude");
    let s = scratch();
    let plugin = crate::util::dist().join("plugin");
    let plugin_arg = plugin.to_str().unwrap();
    let text = succeeded(
        &agent(&s, &claude, &["plugin", "validate", "--strict", plugin_arg]),
        "claude plugin validate --strict",
    );
    assert!(text.contains("Validation passed"), "{text}");
    assert!(
        !text.to_lowercase().contains("warning"),
        "no warnings: {text}"
    );
    succeeded(
        &agent(&s, &claude, &["plugin", "marketplace", "add", plugin_arg]),
        "claude plugin marketplace add",
    );
    succeeded(
        &agent(&s, &claude, &["plugin", "install", "runcode@runcode"]),
        "claude plugin install",
    );
    let list = succeeded(
        &agent(&s, &claude, &["plugin", "list"]),
        "claude plugin list",
    );
    assert!(
        list.contains("runcode@runcode") && list.contains("enabled"),
        "{list}"
    );
    let installed = find(&s.home.join(".claude/plugins"), "bin/runcode")
        .expect("the installed copy's bin/runcode");
    assert!(
        !installed.starts_with(&plugin),
        "the client's own copy, not dist/"
    );
    installed_copy_runs(&installed, &s);
}

#[test]
fn codex_installs_and_runs_the_bundle() {
    let codex = crate::util::npm_client("codex");
    let s = scratch();
    let plugin = crate::util::dist().join("plugin");
    let added = succeeded(
        &agent(
            &s,
            &codex,
            &["plugin", "marketplace", "add", plugin.to_str().unwrap()],
        ),
        "codex plugin marketplace add",
    );
    assert!(added.contains("Added marketplace `runcode`"), "{added}");
    succeeded(
        &agent(&s, &codex, &["plugin", "add", "runcode@runcode"]),
        "codex plugin add",
    );
    let list = succeeded(&agent(&s, &codex, &["plugin", "list"]), "codex plugin list");
    assert!(
        list.contains("runcode@runcode") && list.contains("installed"),
        "{list}"
    );
    let installed = find(&s.home.join(".codex/plugins"), "bin/runcode")
        .expect("the installed copy's bin/runcode");
    installed_copy_runs(&installed, &s);
}

fn find(dir: &Path, suffix: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.ends_with(suffix) && path.is_file() {
            return Some(path);
        }
        if path.is_dir()
            && !entry.file_type().ok()?.is_symlink()
            && let Some(found) = find(&path, suffix)
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn the_release_archive_rebuilds_byte_for_byte() {
    let release = crate::util::dist().join("release");
    let host = crate::util::release::Platform::host().expect("a release platform");
    let cli = std::fs::read(
        crate::util::repo()
            .join("target")
            .join(host.target)
            .join("release/runcode"),
    )
    .expect("the release CLI dist built");
    let again = crate::util::release::release_archive(&crate::util::repo(), &cli).unwrap();
    let sums = std::fs::read_to_string(release.join("checksums.txt")).unwrap();
    let line = format!(
        "{}  {}",
        crate::util::release::sha256_hex(&again),
        crate::util::release::host_asset()
    );
    assert!(
        sums.lines().any(|l| l == line),
        "rebuilt {line}, checksums.txt has {sums}"
    );
    let mut names: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    let sorted = {
        let mut s = names.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(names, sorted, "sorted by name");
    names.dedup();
    let pinned =
        std::fs::read_to_string(crate::util::dist().join("plugin/bin/RUNCODE_CHECKSUMS")).unwrap();
    assert_eq!(pinned, sums, "the bundle pins the release's checksums");
}

#[test]
fn the_homebrew_formula_parses() {
    let formula = crate::util::dist().join("homebrew/runcode.rb");
    let text = std::fs::read_to_string(&formula).unwrap();
    for needle in [
        "desc ",
        "homepage ",
        "version ",
        "license \"MIT\"",
        "bin.install \"runcode\"",
        "generate_completions_from_executable",
        "test do",
        "sha256 \"",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    let out = Command::new("ruby")
        .arg("-c")
        .arg(&formula)
        .output()
        .expect("ruby (cargo xtask test installs it)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Syntax OK"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn front_matter(text: &str) -> Vec<(String, String)> {
    let body = text.strip_prefix("---\n").expect("front matter");
    let end = body.find("\n---\n").expect("front matter end");
    body[..end]
        .lines()
        .filter_map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

#[test]
fn manifests_and_front_matter_agree_with_the_pinned_version() {
    let version = std::fs::read_to_string(crate::util::repo().join("RUNCODE_VERSION"))
        .unwrap()
        .trim()
        .trim_start_matches('v')
        .to_owned();
    let json = |rel: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(crate::util::repo().join(rel)).unwrap())
            .unwrap()
    };
    for rel in [
        "plugin/.claude-plugin/plugin.json",
        "plugin/.codex-plugin/plugin.json",
    ] {
        let m = json(rel);
        assert_eq!(m["name"], "runcode", "{rel}");
        assert_eq!(m["version"], version.as_str(), "{rel}");
        for field in [
            "description",
            "author",
            "homepage",
            "repository",
            "license",
            "keywords",
        ] {
            assert!(!m[field].is_null(), "{rel} lacks {field}");
        }
    }
    assert_eq!(
        json("plugin/.claude-plugin/marketplace.json")["plugins"][0]["version"],
        version.as_str()
    );
    assert_eq!(
        json("plugin/.claude-plugin/marketplace.json")["plugins"][0]["source"],
        "./"
    );
    assert_eq!(
        json("plugin/.agents/plugins/marketplace.json")["plugins"][0]["source"],
        serde_json::json!({"source": "local", "path": "./"})
    );
    assert_eq!(
        json("plugin/.codex-plugin/plugin.json")["skills"],
        "./skills/"
    );

    let wanted = [
        "login",
        "list",
        "connect",
        "context",
        "forward",
        "config-ssh",
        "stop",
        "disconnect",
        "statusline",
        "doctor",
    ];
    for name in wanted {
        let text = std::fs::read_to_string(crate::util::repo().join(format!("commands/{name}.md")))
            .unwrap();
        let fm = front_matter(&text);
        let get = |k: &str| fm.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let description = get("description").unwrap_or_else(|| panic!("{name}: description"));
        assert!(
            description.chars().next().is_some_and(char::is_uppercase) && description.len() < 90,
            "{name}: a short description starting with a verb"
        );
        // The commands whose first step is an MCP tool may use the tools.
        let mcp_first = ["login", "disconnect", "doctor"].contains(&name);
        assert_eq!(
            get("allowed-tools").as_deref(),
            Some(if mcp_first {
                "Bash(runcode:*), mcp__plugin_runcode_runcode"
            } else {
                "Bash(runcode:*)"
            }),
            "{name}"
        );
        assert_eq!(
            text.contains("$ARGUMENTS"),
            get("argument-hint").is_some(),
            "{name}: argument-hint exactly when it takes arguments"
        );
        assert!(
            text.contains("runcode ") && text.contains("--json"),
            "{name}: says which runcode invocation and reads its JSON"
        );
    }
    let skill = std::fs::read_to_string(crate::util::repo().join("skills/ssh/SKILL.md")).unwrap();
    let fm = front_matter(&skill);
    assert!(fm.iter().any(|(k, v)| k == "name" && v == "ssh"));
    assert!(
        fm.iter()
            .any(|(k, v)| k == "description" && v.contains("Use when"))
    );
    assert!(skill.lines().count() < 500);
    for code in runcode::Code::ALL.iter().map(|c| c.as_str()) {
        assert!(
            skill.contains(&format!("`{code}`")),
            "the skill tells what to do on `{code}`"
        );
    }
}
