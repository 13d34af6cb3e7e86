//! Real agents call `runcode mcp`'s tools as their client exposes them: the
//! bundle from `dist/plugin` registers the server with Claude Code and
//! Codex, the scripted model calls `connect`, `exec`, `write_file`, `get`
//! and `disconnect`, and each result comes back intact and is checked on the
//! workspace.

use std::path::PathBuf;

use crate::util::agents::{Claude, mcp_tool};
use crate::util::both;
use runcode_e2e::model::{self, Model, Reply, Step};
use serde_json::{Value, json};

/// A step that calls runcode's MCP tool `tool` with `input`.
fn tool(tool: &'static str, input: Value) -> Step {
    Box::new(move |r| Reply::Tool {
        name: mcp_tool(r, tool),
        input: input.clone(),
    })
}

/// `tool`, its input made when the step is taken: for a path that is
/// known only once the client's scratch folder exists.
fn tool_later(tool: &'static str, input: std::sync::Arc<std::sync::Mutex<Value>>) -> Step {
    Box::new(move |r| Reply::Tool {
        name: mcp_tool(r, tool),
        input: input.lock().unwrap().clone(),
    })
}

/// The tool results of the last turn, as the JSON the server returned.
fn results(m: &Model) -> Vec<String> {
    model::anthropic_tool_results(m.turns().last().unwrap())
}

#[test]
fn claude_code_calls_the_mcp_tools_from_the_plugin() {
    let c = Claude::new();
    let m = Model::start(vec![
        tool("connect", json!({"workspace": 1001})),
        tool(
            "exec",
            json!({"command": "echo via-mcp > m.txt; cat m.txt; exit 2"}),
        ),
        tool(
            "write_file",
            json!({"path": "notes/mcp.txt", "content": "written by a tool\n"}),
        ),
        tool(
            "get",
            json!({"remote": "notes/mcp.txt", "local": "fetched.txt"}),
        ),
        tool("disconnect", json!({})),
        model::text("Done."),
    ]);
    c.session(&m, "/runcode:ssh Work on my RunCode workspace 1001.");
    let results = results(&m);
    assert_eq!(results.len(), 5, "{results:?}");
    let connected: Value = serde_json::from_str(&results[0])
        .unwrap_or_else(|e| panic!("connect's JSON: {e}: {}", results[0]));
    assert_eq!(connected["workspace_id"], 1001);
    let workdir = PathBuf::from(connected["workdir"].as_str().unwrap());
    let ran: Value = serde_json::from_str(&results[1]).unwrap();
    assert_eq!(
        (&ran["exit_status"], &ran["stdout"]),
        (&json!(2), &json!("via-mcp\n")),
        "{ran}"
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("notes/mcp.txt")).unwrap(),
        "written by a tool\n"
    );
    assert_eq!(
        std::fs::read_to_string(c.project.join("fetched.txt")).unwrap(),
        "written by a tool\n",
        "a relative local path is the project's"
    );
    assert!(results[4].contains("detached"), "{}", results[4]);
}

/// Codex starts the server the bundle registers (`./bin/runcode mcp`, in
/// the installed plugin's folder) and offers its tools; the scripted model
/// calls them and the results come back intact.
#[test]
fn codex_calls_the_mcp_tools_from_the_plugin() {
    // Outside the folder Codex runs in: the server refuses to write there.
    let elsewhere = crate::util::world::scratch("elsewhere");
    let outside = elsewhere.path().join("fetched.txt");
    let into_project = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
    let m = Model::start(vec![
        tool("connect", json!({"workspace": "1001"})),
        tool("exec", json!({"command": "echo via-codex; exit 5"})),
        tool(
            "write_file",
            json!({"path": "notes/codex.txt", "content": "from codex\n"}),
        ),
        tool(
            "get",
            json!({"remote": "notes/codex.txt", "local": "relative.txt"}),
        ),
        tool_later("get", into_project.clone()),
        tool(
            "get",
            json!({"remote": "notes/codex.txt", "local": outside.to_str().unwrap()}),
        ),
        tool("disconnect", json!({})),
        model::text("Done."),
    ]);
    let c = crate::util::agents::Codex::new(&m);
    let fetched = c.project.join("fetched.txt");
    *into_project.lock().unwrap() =
        json!({"remote": "notes/codex.txt", "local": fetched.to_str().unwrap()});
    // As a user who chose to let the agent work unattended: no bypass flag.
    runcode_in(&c, &["agent-setup", "codex"]);
    let out = c.exec_at_defaults("Work on my RunCode workspace 1001.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 7, "{outputs:?}");
    assert!(
        outputs[0].contains("\"workspace_id\":1001"),
        "{}",
        outputs[0]
    );
    let workdir = outputs[0]
        .replace("\\\"", "\"")
        .split("\"workdir\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next().map(str::to_owned))
        .unwrap_or_else(|| panic!("a workdir in {}", outputs[0]));
    assert_eq!(
        std::fs::read_to_string(PathBuf::from(workdir).join("notes/codex.txt")).unwrap(),
        "from codex\n"
    );
    assert!(
        outputs[1].contains("\"exit_status\":5") && outputs[1].contains("via-codex"),
        "{}",
        outputs[1]
    );
    assert!(
        outputs[3].contains("usage") && outputs[3].contains("absolute local path"),
        "a relative local path is refused where the server runs in the plugin: {}",
        outputs[3]
    );
    assert_eq!(
        std::fs::read_to_string(&fetched).ok().as_deref(),
        Some("from codex\n"),
        "an absolute local path in the folder Codex runs in works: {}",
        outputs[4]
    );
    assert!(
        outputs[5].contains("local_path_refused") && !outside.exists(),
        "a path outside it is refused, nothing written: {}",
        outputs[5]
    );
    assert!(outputs[6].contains("detached"), "{}", outputs[6]);
}

/// `runcode --json <args>` in the Codex scratch HOME.
pub(crate) fn runcode_in(c: &crate::util::agents::Codex, args: &[&str]) -> Value {
    let out = std::process::Command::new(crate::util::built("runcode"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &c.home)
        .env("CODEX_HOME", c.home.join(".codex"))
        .env("RUNCODE_API_BASE", &c.dp.api)
        .env("RUNCODE_TOKEN", &c.dp.token)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", both(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The check `name` of `runcode doctor` in the Codex scratch HOME.
fn doctor_check(c: &crate::util::agents::Codex, name: &str) -> Value {
    let doctor = runcode_in(c, &["doctor"]);
    doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no {name} check: {doctor}"))
}

/// Codex as users run it, with no approval or sandbox flag: the tools that
/// only look (and `connect`, which neither destroys nor reaches past the
/// workspace) run; `exec` is refused until the user runs `runcode
/// agent-setup codex`, and `--remove` gives back the config byte for byte.
#[test]
fn codex_at_its_defaults_runs_the_looking_tools_and_the_rest_after_agent_setup() {
    let m = Model::start(vec![
        tool("list", json!({})),
        tool("connect", json!({"workspace": "1001"})),
        tool("current", json!({})),
        tool("context", json!({})),
        tool("read_file", json!({"path": "probe.txt"})),
        tool("doctor", json!({})),
        tool("forward", json!({"action": "list"})),
        tool("exec", json!({"command": "echo ran >> ran.txt"})),
        model::text("Looked."),
        // The second run, after agent-setup.
        tool("exec", json!({"command": "echo ran >> ran.txt"})),
        model::text("Done."),
    ]);
    let c = crate::util::agents::Codex::new(&m);
    let workdir = c.dp.data_dir.join("ws-1001/workdir");
    std::fs::write(workdir.join("probe.txt"), "looked at\n").unwrap();
    let out = c.exec_at_defaults("Look at my RunCode workspace 1001.");
    assert!(out.status.success(), "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 8, "{outputs:?}");
    for (i, o) in outputs[..7].iter().enumerate() {
        assert!(
            !o.contains("requires approval") && !o.contains("\"error\""),
            "call {i}: {o}"
        );
    }
    assert!(outputs[4].contains("looked at"), "{}", outputs[4]);
    assert!(
        outputs[7].contains("requires approval"),
        "exec runs commands: Codex asks, and `codex exec` cannot: {}",
        outputs[7]
    );
    assert!(
        !workdir.join("ran.txt").exists(),
        "the refused command never ran"
    );
    let codex = doctor_check(&c, "codex");
    let detail = codex["detail"].as_str().unwrap();
    let asked: Vec<&str> = detail
        .strip_prefix("asks before ")
        .and_then(|d| d.split(';').next())
        .unwrap_or_else(|| panic!("{codex}"))
        .split(", ")
        .collect();
    assert_eq!(
        asked,
        ["edit_file", "exec", "get", "put", "run_stop", "write_file"],
        "{codex}"
    );
    assert_eq!(codex["fix"], "runcode agent-setup codex");

    let config = c.home.join(".codex/config.toml");
    let before = std::fs::read_to_string(&config).unwrap();
    let set = runcode_in(&c, &["agent-setup", "codex"]);
    assert_eq!(
        (&set["changed"], &set["plugin"]),
        (&json!(true), &json!("runcode@runcode")),
        "{set}"
    );
    assert_eq!(
        std::fs::read_to_string(config.with_file_name("config.toml.bak")).unwrap(),
        before
    );
    assert_eq!(
        runcode_in(&c, &["agent-setup", "codex"])["changed"],
        false,
        "once is enough"
    );
    let out = c.exec_at_defaults("Now run it.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert!(outputs[0].contains("\"exit_status\":0"), "{outputs:?}");
    assert_eq!(
        std::fs::read_to_string(workdir.join("ran.txt")).unwrap(),
        "ran\n",
        "run once"
    );
    let codex = doctor_check(&c, "codex");
    assert!(
        codex["detail"].as_str().unwrap().contains("without asking"),
        "{codex}"
    );

    let removed = runcode_in(&c, &["agent-setup", "codex", "--remove"]);
    assert_eq!(removed["changed"], true);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        before,
        "every byte back"
    );
    // `uninstall` takes it out too, with the backup it made.
    runcode_in(&c, &["agent-setup", "codex"]);
    let gone = runcode_in(&c, &["uninstall"]);
    assert!(gone.to_string().contains("codex_approvals"), "{gone}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);
    assert!(!config.with_file_name("config.toml.bak").exists(), "{gone}");
}

/// Claude Code in `-p` mode outside `/runcode:ssh` asks before each runcode
/// tool, which `-p` cannot, so it denies them; after `runcode agent-setup
/// claude` they run, and `--remove` gives the settings back.
#[test]
fn claude_code_runs_the_tools_outside_the_skill_after_agent_setup() {
    let c = Claude::new();
    let settings = c.home.join(".claude/settings.json");
    let before = std::fs::read_to_string(&settings).ok();
    let run = |c: &Claude| {
        let m = Model::start(vec![
            tool("connect", json!({"workspace": 1001})),
            tool("exec", json!({"command": "echo ran >> ran.txt"})),
            model::text("Done."),
        ]);
        let result = c.prompt(&m, "Run it on my RunCode workspace 1001.");
        (result, results(&m))
    };
    let (denied, _) = run(&c);
    let denials = denied["permission_denials"].as_array().map_or(0, Vec::len);
    assert!(denials > 0, "asked, and -p cannot answer: {denied}");
    let workdir = c.dp.data_dir.join("ws-1001/workdir");
    assert!(!workdir.join("ran.txt").exists());

    let env = |cmd: &mut std::process::Command| {
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &c.home)
            .arg("--json");
    };
    let mut setup = std::process::Command::new(crate::util::built("runcode"));
    env(&mut setup);
    let out = setup.args(["agent-setup", "claude"]).output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let (allowed, outputs) = run(&c);
    assert_eq!(
        allowed["permission_denials"].as_array().map(Vec::len),
        Some(0),
        "{allowed}"
    );
    assert!(
        outputs.iter().any(|o| o.contains("\"exit_status\":0")),
        "{outputs:?}"
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("ran.txt")).unwrap(),
        "ran\n"
    );

    let mut undo = std::process::Command::new(crate::util::built("runcode"));
    env(&mut undo);
    let out = undo
        .args(["agent-setup", "claude", "--remove"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    let after = std::fs::read_to_string(&settings).ok();
    assert_eq!(
        after
            .as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap()),
        before
            .as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap()),
        "the settings as they were"
    );
}
