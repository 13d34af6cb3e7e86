//! Real agents drive the plugin: Claude Code and Codex from npm, each with
//! its model API answered by the scripted model server on loopback
//! (`runcode_e2e::model`), the bundle from `dist/plugin` installed from its
//! marketplace, the devplane and the release on loopback. The test scripts
//! every turn and reads every request; the client, its plugin machinery,
//! permission rules, PATH and tool plumbing are all real.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use runcode_e2e::model::{self, Model, Reply, Step};
use runcode_e2e::serve::Server;
use serde_json::Value;
use util::both;
use util::devplane::Devplane;

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
            claude: util::npm_client("claude"),
            dp: Devplane::start(&[]),
            release: Server::start(&util::dist().join("release")),
        };
        let plugin = util::dist().join("plugin");
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
    assert!(
        turns[0].to_string().contains("runcode:ssh"),
        "the model is offered the runcode:ssh skill"
    );
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

/// A scratch HOME with the bundle added to Codex and Codex pointed at the
/// scripted model (the top-level keys first: `codex plugin add` appends
/// tables to the same file).
struct Codex {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
    codex: PathBuf,
    dp: Devplane,
    release: Server,
}

impl Codex {
    fn new(model: &Model) -> Codex {
        let tmp = tempfile::Builder::new()
            .prefix("rc-plugin-")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        let project = tmp.path().join("project");
        std::fs::create_dir_all(home.join(".codex")).unwrap();
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            home.join(".codex/config.toml"),
            format!(
                "model = \"scripted\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"scripted\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\nenv_key = \"SCRIPTED_API_KEY\"\n",
                model.url()
            ),
        )
        .unwrap();
        let c = Codex {
            _tmp: tmp,
            home,
            project,
            codex: util::npm_client("codex"),
            dp: Devplane::start(&[]),
            release: Server::start(&util::dist().join("release")),
        };
        let plugin = util::dist().join("plugin");
        for args in [
            vec!["plugin", "marketplace", "add", plugin.to_str().unwrap()],
            vec!["plugin", "add", "runcode@runcode"],
        ] {
            let out = c.cmd().args(&args).output().unwrap();
            assert!(out.status.success(), "codex {args:?}: {}", both(&out));
        }
        c
    }

    fn cmd(&self) -> Command {
        let node_bin = self.codex.parent().unwrap().display().to_string();
        let mut cmd = Command::new(&self.codex);
        cmd.env_clear()
            .env("PATH", format!("{node_bin}:/usr/local/bin:/usr/bin:/bin"))
            .env("HOME", &self.home)
            .env("CODEX_HOME", self.home.join(".codex"))
            .env("SCRIPTED_API_KEY", "scripted")
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

    fn exec(&self, prompt: &str) -> Output {
        self.cmd()
            .args([
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                prompt,
            ])
            .output()
            .unwrap()
    }
}

/// The absolute path of the skill `name` as Codex lists it to the model:
/// `(file: rN/...)` expanded with the skill roots table.
fn codex_skill_path(request: &Value, name: &str) -> PathBuf {
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
fn cli_per_ssh_skill(request: &Value) -> String {
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
fn cli_per_command_skill(request: &Value, command: &str) -> String {
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

#[test]
fn codex_follows_the_ssh_skill_verbatim_to_the_cli_and_output_survives() {
    let script: Vec<Step> = vec![
        Box::new(|r| Reply::Shell(format!("{} connect 1001 --json", cli_per_ssh_skill(r)))),
        Box::new(|r| {
            Reply::Shell(format!(
                "{} exec -- 'echo from-the-workspace; exit 3'",
                cli_per_ssh_skill(r)
            ))
        }),
        Box::new(|r| {
            Reply::Shell(format!(
                "env -u RUNCODE_TOKEN {} list --json",
                cli_per_ssh_skill(r)
            ))
        }),
        model::text("Done."),
    ];
    let m = Model::start(script);
    let c = Codex::new(&m);
    let out = c.exec("Connect to my RunCode workspace 1001 and run a command there.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 3, "{outputs:?}");
    assert!(
        outputs[0].contains("\"workspace_id\":1001"),
        "{}",
        outputs[0]
    );
    assert!(
        outputs[1].contains("Process exited with code 3")
            && outputs[1].contains("from-the-workspace"),
        "{}",
        outputs[1]
    );
    assert!(
        outputs[2].contains("\"error\":\"no_token\""),
        "{}",
        outputs[2]
    );
}

#[test]
fn codex_runs_each_command_it_turned_into_a_skill_as_written() {
    let script: Vec<Step> = vec![
        Box::new(|r| {
            Reply::Shell(format!(
                "{} doctor --json",
                cli_per_command_skill(r, "doctor")
            ))
        }),
        Box::new(|r| {
            Reply::Shell(format!(
                "{} disconnect --json",
                cli_per_command_skill(r, "disconnect")
            ))
        }),
        // login's first step: doctor, to see whether a token is there.
        Box::new(|r| {
            Reply::Shell(format!(
                "{} doctor --json",
                cli_per_command_skill(r, "login")
            ))
        }),
        model::text("Done."),
    ];
    let m = Model::start(script);
    let c = Codex::new(&m);
    let out = c.exec("Check runcode, then disconnect, then log in.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 3, "{outputs:?}");
    for (i, needle) in [
        (0, "\"checks\""),
        (1, "\"detached\""),
        (2, "\"name\":\"token\",\"status\":\"ok\""),
    ] {
        assert!(outputs[i].contains(needle), "{needle} in {}", outputs[i]);
    }
}

/// The failure paths reach the model as the CLI's JSON error objects: with
/// the control plane stopped, and with no token.
#[test]
fn claude_code_receives_the_json_errors_when_the_control_plane_is_down_or_there_is_no_token() {
    let mut c = Claude::new();
    c.dp.stop();
    let m = Model::start(vec![
        model::shell("runcode list --json"),
        model::text("Down."),
    ]);
    let result = c.prompt(&m, "/runcode:list");
    assert_eq!(m.left(), 0, "{result}");
    assert_eq!(
        result["permission_denials"].as_array().map(Vec::len),
        Some(0)
    );
    let results = model::anthropic_tool_results(m.turns().last().unwrap());
    let error: Value = serde_json::from_str(
        results[0]
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("a JSON line in {:?}", results[0])),
    )
    .unwrap();
    assert_eq!(error["error"], "network", "{error}");

    let c = Claude::new();
    let m = Model::start(vec![
        model::shell("runcode list --json"),
        model::text("No token."),
    ]);
    let out = c
        .cmd(Some(&m))
        .env_remove("RUNCODE_TOKEN")
        .args(["-p", "/runcode:list", "--output-format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let results = model::anthropic_tool_results(m.turns().last().unwrap());
    assert!(
        results[0].contains("\"error\":\"no_token\""),
        "{:?}",
        results[0]
    );
}

/// Every slash command, in an order where each can succeed: the scripted
/// model runs the `runcode` lines its body tells it to run, and
/// `allowed-tools` denies none of them.
#[test]
fn claude_code_runs_every_slash_command_as_its_body_says() {
    let c = Claude::new();
    let commands: [(&str, &str, &[&str]); 10] = [
        ("list", "", &["runcode list --json"]),
        (
            "connect",
            "1001",
            &[
                "runcode list --json",
                "runcode connect 1001 --start --wait --json",
                "runcode context --json",
            ],
        ),
        ("context", "", &["runcode context --json"]),
        ("forward", "8080", &["runcode forward 8080 --json"]),
        (
            "statusline",
            "",
            &["runcode install-statusline --json", "runcode statusline"],
        ),
        ("config-ssh", "", &["runcode config-ssh --json"]),
        ("doctor", "", &["runcode doctor --json"]),
        ("login", "", &["runcode doctor --json"]),
        ("disconnect", "", &["runcode disconnect --json"]),
        ("stop", "1001", &["runcode stop 1001 --json"]),
    ];
    for (name, argument, lines) in commands {
        let body =
            std::fs::read_to_string(util::repo().join(format!("commands/{name}.md"))).unwrap();
        for line in lines {
            let sub = line.split_whitespace().nth(1).unwrap();
            assert!(
                body.contains(&format!("`runcode {sub}")),
                "/runcode:{name}'s body tells the model to run `runcode {sub}`"
            );
        }
        let mut script: Vec<Step> = lines.iter().map(|l| model::shell(l)).collect();
        script.push(model::text("Done."));
        let m = Model::start(script);
        let prompt = format!("/runcode:{name} {argument}");
        let result = c.prompt(&m, prompt.trim());
        assert_eq!(m.left(), 0, "{name}: {result}");
        assert_eq!(
            result["permission_denials"].as_array().map(Vec::len),
            Some(0),
            "{name}: {result}"
        );
        let last = m.turns().pop().unwrap();
        let results = model::anthropic_tool_results(&last);
        let errors = model::anthropic_tool_errors(&last);
        assert_eq!(results.len(), lines.len(), "{name}: {results:?}");
        for ((line, out), failed) in lines.iter().zip(&results).zip(&errors) {
            assert!(!failed, "{name}: `{line}` failed: {out}");
            assert!(!out.contains("\"error\""), "{name}: `{line}`: {out}");
        }
    }
    assert_eq!(c.dp.state(1001), "stopped");
}

/// A session that follows the ssh skill's table, quoting as the skill shows
/// it: exec (its exit status kept), write from stdin, put, get, a detached
/// server reached through forward, then disconnect. Each result is checked
/// on the workspace.
#[test]
fn claude_code_follows_the_ssh_skill_through_a_whole_session() {
    use std::sync::{Arc, Mutex};
    let c = Claude::new();
    std::fs::write(c.project.join("local.txt"), "put from here\n").unwrap();
    let fetched: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = fetched.clone();
    let port = 18765;
    let script: Vec<Step> = vec![
        model::shell("runcode connect 1001 --json"),
        model::shell("runcode exec -- 'echo hi > from-exec.txt; exit 4'"),
        model::shell("printf '%s' 'written via stdin' | runcode write notes/stdin.txt"),
        model::shell("runcode put local.txt up/put.txt"),
        model::shell("runcode get notes/stdin.txt --out got.txt"),
        model::shell(&format!(
            "runcode exec -- '(python3 -m http.server {port} &) </dev/null >/dev/null 2>&1'"
        )),
        model::shell(&format!("runcode forward {port} --json")),
        Box::new(move |_| {
            // The user's browser, as it were: the forwarded port, here.
            let body = ureq::get(&format!("http://127.0.0.1:{port}/"))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok());
            *seen.lock().unwrap() = body;
            Reply::Shell(format!(
                "runcode exec -- 'pkill -f \"http.server {port}\"; true'"
            ))
        }),
        model::shell("runcode disconnect --json"),
        model::text("Done."),
    ];
    let m = Model::start(script);
    // The user approves the skill once (interactive Claude Code asks); its
    // `allowed-tools` then cover every runcode line of the session.
    let out = c
        .cmd(Some(&m))
        .args([
            "-p",
            "/runcode:ssh Work on my RunCode workspace 1001.",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m.left(), 0, "{result}");
    assert_eq!(
        result["permission_denials"].as_array().map(Vec::len),
        Some(0),
        "{result}"
    );
    let results = model::anthropic_tool_results(m.turns().last().unwrap());
    let connected: Value = results[0]
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("connect's JSON: {results:?}"));
    let workdir = PathBuf::from(connected["workdir"].as_str().unwrap());
    assert!(
        results[1].contains("Exit code 4"),
        "exec's exit status: {}",
        results[1]
    );
    let on_box = |rel: &str| std::fs::read_to_string(workdir.join(rel)).unwrap_or_default();
    assert_eq!(on_box("from-exec.txt"), "hi\n");
    assert_eq!(on_box("notes/stdin.txt"), "written via stdin");
    assert_eq!(on_box("up/put.txt"), "put from here\n");
    assert_eq!(
        std::fs::read_to_string(c.project.join("got.txt")).unwrap(),
        "written via stdin"
    );
    let page = fetched.lock().unwrap().clone().unwrap_or_default();
    assert!(
        page.contains("from-exec.txt"),
        "the forwarded server's listing: {page}"
    );
}
