//! The two agent clients in scratch HOMEs, for the suites that drive them
//! with the scripted model (`runcode_e2e::model`): Claude Code and Codex
//! from npm with the bundle from `dist/plugin` installed from its
//! marketplace, a devplane and the release on loopback; and how a scripted
//! model finds the CLI from what Codex lists, as the skills tell it to.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use runcode_e2e::model::Model;
use runcode_e2e::serve::Server;
use serde_json::Value;

use super::both;
use super::devplane::Devplane;

/// What both clients get: a scratch directory with `home/` and `project/`,
/// a devplane and the release on loopback.
pub struct Scratch {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub project: PathBuf,
    pub dp: Devplane,
    pub release: Server,
}

impl Scratch {
    fn new() -> Scratch {
        let tmp = tempfile::Builder::new()
            .prefix("rc-plugin-")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        Scratch {
            tmp,
            home,
            project,
            dp: Devplane::start(&[]),
            release: Server::start(&super::dist().join("release")),
        }
    }

    /// `client` (from npm) with a scrubbed environment: its own Node first
    /// on PATH, this HOME, the project as working directory, and the
    /// variables that point runcode at the devplane and the release.
    fn command(&self, client: &Path) -> Command {
        let node_bin = client.parent().unwrap().display().to_string();
        let mut cmd = Command::new(client);
        cmd.env_clear()
            .env("PATH", format!("{node_bin}:/usr/local/bin:/usr/bin:/bin"))
            .env("HOME", &self.home)
            .env("NO_COLOR", "1")
            .env("RUNCODE_API_BASE", &self.dp.api)
            .env("RUNCODE_WEB_BASE", &self.dp.api)
            .env("RUNCODE_TOKEN", &self.dp.token)
            .env("RUNCODE_POLL_MS", "200")
            .env("RUNCODE_DOWNLOAD_BASE", self.release.url(""))
            .current_dir(&self.project)
            .stdin(Stdio::null());
        cmd
    }

    /// Adds the bundle from `dist/plugin` through `client`'s own commands.
    fn install(&self, mut client: impl FnMut() -> Command, install: &str) {
        let plugin = super::dist().join("plugin");
        for args in [
            vec!["plugin", "marketplace", "add", plugin.to_str().unwrap()],
            vec!["plugin", install, "runcode@runcode"],
        ] {
            let out = client().args(&args).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", both(&out));
        }
    }
}

/// A scratch HOME with the bundle installed into Claude Code.
pub struct Claude {
    pub s: Scratch,
    pub claude: PathBuf,
}

impl std::ops::Deref for Claude {
    type Target = Scratch;
    fn deref(&self) -> &Scratch {
        &self.s
    }
}

impl std::ops::DerefMut for Claude {
    fn deref_mut(&mut self) -> &mut Scratch {
        &mut self.s
    }
}

impl Claude {
    pub fn new() -> Claude {
        let c = Claude {
            s: Scratch::new(),
            claude: super::npm_client("claude"),
        };
        c.install(|| c.cmd(None), "install");
        c
    }

    pub fn cmd(&self, model: Option<&Model>) -> Command {
        let mut cmd = self.command(&self.claude);
        cmd.env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1");
        if let Some(m) = model {
            cmd.env("ANTHROPIC_BASE_URL", m.url())
                .env("ANTHROPIC_API_KEY", "scripted");
        }
        cmd
    }

    /// `claude -p PROMPT --output-format json`: the final JSON.
    pub fn prompt(&self, model: &Model, prompt: &str) -> Value {
        let out = self
            .cmd(Some(model))
            .args(["-p", prompt, "--output-format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "claude -p {prompt:?}: {}", both(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("claude's JSON: {e}: {}", both(&out)))
    }

    /// `prompt`, then what every journey asserts: the model took every
    /// scripted step and Claude Code denied nothing.
    pub fn session(&self, model: &Model, prompt: &str) -> Value {
        let result = self.prompt(model, prompt);
        assert_eq!(model.left(), 0, "every scripted step was taken: {result}");
        assert_eq!(
            result["permission_denials"].as_array().map(Vec::len),
            Some(0),
            "nothing denied: {result}"
        );
        result
    }
}

/// The text of a user message in the first agent-loop request.
pub fn first_user_text(turn: &Value) -> String {
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

/// A scratch HOME with the bundle added to Codex and Codex pointed at the
/// scripted model (the top-level keys first: `codex plugin add` appends
/// tables to the same file).
pub struct Codex {
    pub s: Scratch,
    pub codex: PathBuf,
}

impl std::ops::Deref for Codex {
    type Target = Scratch;
    fn deref(&self) -> &Scratch {
        &self.s
    }
}

impl std::ops::DerefMut for Codex {
    fn deref_mut(&mut self) -> &mut Scratch {
        &mut self.s
    }
}

impl Codex {
    pub fn new(model: &Model) -> Codex {
        let s = Scratch::new();
        std::fs::create_dir_all(s.home.join(".codex")).unwrap();
        std::fs::write(
            s.home.join(".codex/config.toml"),
            format!(
                "model = \"scripted\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"scripted\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\nenv_key = \"SCRIPTED_API_KEY\"\n",
                model.url()
            ),
        )
        .unwrap();
        let c = Codex {
            s,
            codex: super::npm_client("codex"),
        };
        c.install(|| c.cmd(), "add");
        c
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = self.command(&self.codex);
        cmd.env("CODEX_HOME", self.home.join(".codex"))
            .env("SCRIPTED_API_KEY", "scripted");
        cmd
    }

    /// `codex exec` as a user who chose the shell route to the CLI sets
    /// it up, with no bypass flag: Codex's own `workspace-write` sandbox,
    /// the network allowed in it (what the `network_blocked` message tells
    /// them; without it these journeys fail with that code, checked), and
    /// runcode's two folders (keys and sessions, the token) added as
    /// writable, which a sandbox that confines writes needs.
    pub fn exec(&self, prompt: &str) -> Output {
        let cache = self.home.join(".cache/runcode");
        let config = self.home.join(".config/runcode");
        for dir in [&cache, &config] {
            std::fs::create_dir_all(dir).unwrap();
        }
        self.cmd()
            .args([
                "exec",
                "--skip-git-repo-check",
                "--sandbox",
                "workspace-write",
                "-c",
                "sandbox_workspace_write.network_access=true",
                "--add-dir",
            ])
            .arg(&cache)
            .arg("--add-dir")
            .arg(&config)
            .arg(prompt)
            .output()
            .unwrap()
    }

    /// `codex exec` as a user runs it: no approval or sandbox flag.
    pub fn exec_at_defaults(&self, prompt: &str) -> Output {
        self.cmd()
            .args(["exec", "--skip-git-repo-check", prompt])
            .output()
            .unwrap()
    }
}

/// The absolute path of the skill `name` as Codex lists it to the model:
/// `(file: rN/...)` expanded with the skill roots table.
pub fn codex_skill_path(request: &Value, name: &str) -> PathBuf {
    let text = request["input"].to_string();
    let text = text.replace("\\n", "\n");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("- {name}: ")))
        .unwrap_or_else(|| panic!("{name} is not among the skills Codex offers"));
    let file = line
        .rsplit_once("(file: ")
        .and_then(|(_, f)| f.split_once(')'))
        .map(|(f, _)| f)
        .expect("a file for the skill");
    let (root, rest) = file.split_once('/').expect("rN/path");
    let root_line = text
        .lines()
        .find(|l| l.starts_with(&format!("- `{root}` = `")))
        .expect("the root in the skill roots table");
    let dir = root_line
        .trim_start_matches(&format!("- `{root}` = `"))
        .trim_end_matches('`');
    Path::new(dir).join(rest)
}

/// What the ssh skill says to do in Codex, done literally: the skill file's
/// absolute path with its `/skills/ssh/SKILL.md` ending replaced by
/// `/bin/runcode`.
pub fn cli_per_ssh_skill(request: &Value) -> String {
    let skill = codex_skill_path(request, "runcode:ssh");
    let text = std::fs::read_to_string(&skill).expect("the skill file");
    assert!(
        text.contains(
            "which ends in\n`/skills/ssh/SKILL.md`, and replace that ending with `/bin/runcode`"
        ),
        "the skill still states the rule this test follows"
    );
    let path = skill.to_str().unwrap();
    let plugin = path
        .strip_suffix("/skills/ssh/SKILL.md")
        .expect("the skill's path ends as the skill says");
    format!("'{plugin}/bin/runcode'")
}

/// What a command turned skill says: its path cut just before
/// `/.codex-plugin/`, plus `/bin/runcode`.
pub fn cli_per_command_skill(request: &Value, command: &str) -> String {
    let skill = codex_skill_path(request, &format!("runcode:source-command-{command}"));
    let text = std::fs::read_to_string(&skill).expect("the command skill file");
    assert!(
        text.contains("cut\nit just before `/.codex-plugin/`"),
        "the {command} skill states the rule: {text}"
    );
    let path = skill.to_str().unwrap();
    let plugin = &path[..path.find("/.codex-plugin/").expect("under .codex-plugin")];
    format!("'{plugin}/bin/runcode'")
}

/// The one step the ssh skill's error table (section 7) gives for `code`,
/// done literally, with `runcode` as the CLI's name: a step that refers to
/// a section runs that section's `runcode <verb>` line; a step that quotes
/// a whole `runcode ...` line runs it; a step that quotes flags of the
/// failed command (`connect --start`) runs the failed line with them.
/// `workspace` fills `<name-or-id>`. Panics when the table has no row for
/// `code` or its row gives nothing to run.
pub fn skill_recovery(skill: &str, code: &str, failed: &str, workspace: &str) -> String {
    let table = skill
        .split("\n## 7.")
        .nth(1)
        .expect("the skill's section 7, the error table");
    let row = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .find(|l| {
            l.split('|')
                .nth(1)
                .is_some_and(|codes| codes.contains(&format!("`{code}`")))
        })
        .unwrap_or_else(|| panic!("the skill's error table has no row for `{code}`"));
    let step = row.split('|').nth(2).expect("a `do` cell").trim();
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    let line = if let Some((verb, rest)) = step.split_once(" (section ") {
        let number = rest.split(')').next().unwrap();
        let section = skill
            .split(&format!("\n## {number}."))
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_else(|| panic!("the skill has no section {number}"));
        let verb = verb.replace(' ', "");
        quoted(section)
            .into_iter()
            .find(|q| q.starts_with(&format!("runcode {verb} ")))
            .unwrap_or_else(|| panic!("section {number} has no `runcode {verb}` line"))
    } else {
        let first = quoted(step)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("the step for `{code}` runs nothing: {step}"));
        if first.starts_with("runcode ") {
            first
        } else {
            let (verb, flags) = first.split_once(' ').unwrap_or((&first, ""));
            let failed_verb = failed.split_whitespace().nth(1).unwrap_or_default();
            assert_eq!(verb, failed_verb, "`{first}` is about another command");
            match failed.strip_suffix(" --json") {
                Some(head) => format!("{head} {flags} --json"),
                None => format!("{failed} {flags}"),
            }
        }
    };
    line.replace("<name-or-id>", workspace)
}

/// The name under which the client offers runcode's MCP tool `tool`
/// (Claude Code: `mcp__plugin_runcode_runcode__exec`; Codex names it its
/// own way), found in the tools of `request`.
pub fn mcp_tool(request: &Value, tool: &str) -> String {
    // Codex groups a server's tools in a namespace (`mcp__runcode`, its
    // tools inside), called as `<namespace>/<tool>` (`runcode_e2e::model`).
    fn names(tools: &Value, prefix: &str, out: &mut Vec<String>) {
        for t in tools.as_array().into_iter().flatten() {
            if let Some(name) = t["name"].as_str() {
                let full = if prefix.is_empty() {
                    name.to_owned()
                } else {
                    format!("{prefix}/{name}")
                };
                names(&t["tools"], &full, out);
                out.push(full);
            }
        }
    }
    let mut all = Vec::new();
    names(&request["tools"], "", &mut all);
    all.iter()
        .find(|n| {
            n.contains("runcode")
                && (n.ends_with(&format!("__{tool}")) || n.ends_with(&format!("/{tool}")))
        })
        .cloned()
        .unwrap_or_else(|| panic!("runcode's MCP tool {tool} is not offered; the tools: {all:?}"))
}
