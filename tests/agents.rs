//! Real agents drive the plugin: Claude Code and Codex from npm, each with
//! its model API answered by the scripted model server on loopback
//! (`runcode_e2e::model`), the bundle from `dist/plugin` installed from its
//! marketplace, the devplane and the release on loopback. The test scripts
//! every turn and reads every request; the client, its plugin machinery,
//! permission rules, PATH and tool plumbing are all real.

mod util;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use runcode_e2e::model::{self, Model, Step};
use runcode_e2e::serve::Server;
use serde_json::Value;
use util::devplane::Devplane;

fn npm_bin(name: &str) -> PathBuf {
    let prefix = std::env::var_os("RUNCODE_TEST_NPM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/runcode-test-npm")
        });
    let bin = prefix.join("node_modules/.bin").join(name);
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo xtask test`, which installs the agent clients",
        bin.display()
    );
    bin
}

fn dist() -> PathBuf {
    let dist = util::repo().join("dist");
    assert!(
        dist.join("plugin/bin/runcode").is_file(),
        "dist/ is missing: run `cargo xtask dist` (cargo xtask test does)"
    );
    dist
}

fn both(out: &Output) -> String {
    format!(
        "status {:?}\nstdout {}\nstderr {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch HOME with the bundle installed into Claude Code, a devplane and
/// the release on loopback.
struct Claude {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    claude: PathBuf,
    dp: Devplane,
    release: Server,
}

impl Claude {
    fn new() -> Claude {
        let tmp = tempfile::Builder::new()
            .prefix("rc-plugin-")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        let c = Claude {
            _tmp: tmp,
            home,
            project,
            claude: npm_bin("claude"),
            dp: Devplane::start(&[]),
            release: Server::start(&dist().join("release")),
        };
        let plugin = dist().join("plugin");
        for args in [
            vec!["plugin", "marketplace", "add", plugin.to_str().unwrap()],
            vec!["plugin", "install", "runcode@runcode"],
        ] {
            let out = c.cmd(None).args(&args).output().unwrap();
            assert!(out.status.success(), "claude {args:?}: {}", both(&out));
        }
        c
    }

    fn cmd(&self, model: Option<&Model>) -> Command {
        let node_bin = self.claude.parent().unwrap().display().to_string();
        let mut cmd = Command::new(&self.claude);
        cmd.env_clear()
            .env("PATH", format!("{node_bin}:/usr/local/bin:/usr/bin:/bin"))
            .env("HOME", &self.home)
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("NO_COLOR", "1")
            .env("RUNCODE_API_BASE", &self.dp.api)
            .env("RUNCODE_WEB_BASE", &self.dp.api)
            .env("RUNCODE_TOKEN", &self.dp.token)
            .env("RUNCODE_POLL_MS", "200")
            .env("RUNCODE_DOWNLOAD_BASE", self.release.url(""))
            .current_dir(&self.project)
            .stdin(Stdio::null());
        if let Some(m) = model {
            cmd.env("ANTHROPIC_BASE_URL", m.url())
                .env("ANTHROPIC_API_KEY", "scripted");
        }
        cmd
    }

    /// `claude -p PROMPT --output-format json`: the final JSON.
    fn prompt(&self, model: &Model, prompt: &str) -> Value {
        let out = self
            .cmd(Some(model))
            .args(["-p", prompt, "--output-format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "claude -p {prompt:?}: {}", both(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("claude's JSON: {e}: {}", both(&out)))
    }
}

/// The text of a user message in the first agent-loop request.
fn first_user_text(turn: &Value) -> String {
    turn["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "user")
        .flat_map(|m| match &m["content"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p["text"].as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn claude_code_runs_the_connect_command_as_its_body_says() {
    let c = Claude::new();
    let name = c.dp.workspace(1001)["title"]
        .as_str()
        .expect("a title")
        .to_owned();
    let script: Vec<Step> = vec![
        model::shell("runcode list --json"),
        model::shell(&format!("runcode connect {name} --start --wait --json")),
        model::shell("runcode context --json"),
        model::text("Attached."),
    ];
    let m = Model::start(script);
    let result = c.prompt(&m, &format!("/runcode:connect {name}"));
    assert_eq!(m.left(), 0, "every scripted step was taken: {result}");
    assert_eq!(
        result["permission_denials"].as_array().map(Vec::len),
        Some(0),
        "{result}"
    );
    let turns = m.turns();
    let first = first_user_text(&turns[0]);
    assert!(
        first.contains(&format!("Attach the workspace `{name}`")),
        "the command's body with its argument: {first}"
    );
    let results = model::anthropic_tool_results(turns.last().unwrap());
    assert_eq!(results.len(), 3, "{results:?}");
    let connected: Value = serde_json::from_str(results[1].trim())
        .unwrap_or_else(|e| panic!("connect's JSON through the Bash tool: {e}: {}", results[1]));
    assert_eq!(connected["workspace_id"], 1001, "{connected}");
    let context: Value = serde_json::from_str(results[2].trim())
        .unwrap_or_else(|e| panic!("context's JSON: {e}: {}", results[2]));
    assert!(context.is_object(), "{context}");
}
