//! Real agents and a command longer than their patience (R19): Codex at
//! its defaults after `agent-setup codex`, through the MCP `exec` and
//! `run_output` tools, with its tool timeout lowered in the test's scratch
//! config and runcode's default wait lowered through the documented
//! setting; Claude Code in `-p` mode with a shortened shell-tool timeout,
//! through the skill's shell route (`exec --detach`, `attach --wait` with
//! offsets). Each gets the whole output and the exit status; the command
//! ran once.

use serde_json::{Value, json};

use crate::util::agents::{Claude, Codex, mcp_tool};
use crate::util::both;
use runcode_e2e::model::{self, Model, Reply, Step};

/// Longer than either client's shortened timeout (20 s here).
const LONG: &str = "echo run >> once.txt; echo begin; sleep 30; echo end; exit 6";

/// The JSON objects in a tool's output text: the whole text when it is
/// one, else each line that is one.
fn objects(text: &str) -> Vec<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text.trim()) {
        // Codex may wrap the structured content in a string.
        if let Some(inner) = v.as_str() {
            return objects(inner);
        }
        return vec![v];
    }
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

/// The newest answer in `outputs` that names a run.
fn last_run(outputs: &[String]) -> Value {
    outputs
        .iter()
        .rev()
        .flat_map(|o| objects(o).into_iter().rev())
        .find(|v| v["run_id"].is_string())
        .unwrap_or_else(|| panic!("no run in {outputs:?}"))
}

/// How many lines of the texts are exactly `line`.
fn count(texts: &[String], line: &str) -> usize {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| l.trim() == line)
        .count()
}

#[test]
fn codex_follows_a_command_past_its_tool_timeout_to_its_status() {
    let follow = || -> Step {
        Box::new(|r| Reply::Tool {
            name: mcp_tool(r, "run_output"),
            input: json!({"run_id": last_run(&model::openai_tool_results(r))["run_id"]}),
        })
    };
    let mut script: Vec<Step> = vec![
        Box::new(|r| Reply::Tool {
            name: mcp_tool(r, "connect"),
            input: json!({"workspace": "1001"}),
        }),
        Box::new(|r| Reply::Tool {
            name: mcp_tool(r, "exec"),
            input: json!({"command": LONG}),
        }),
    ];
    // More than it needs: an ended run answers the same again.
    for _ in 0..6 {
        script.push(follow());
    }
    script.push(model::text("Built."));
    let m = Model::start(script);
    let c = Codex::new(&m);
    // As a user who lets the agent work unattended: the one opt-in.
    let set = crate::agents_mcp::runcode_in(&c, &["agent-setup", "codex"]);
    assert_eq!(set["changed"], true, "{set}");
    // Codex's tool timeout lowered in this scratch config (300 s by
    // default), and runcode's default wait with it, through its setting.
    let config = c.home.join(".codex/config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let lowered = text.replace(
        "default_tools_approval_mode = \"approve\"\n",
        "default_tools_approval_mode = \"approve\"\ntool_timeout_sec = 20\n",
    );
    assert_ne!(lowered, text, "{text}");
    std::fs::write(&config, lowered).unwrap();
    let out = c
        .cmd()
        .env("RUNCODE_MCP_WAIT_SECS", "8")
        .args([
            "exec",
            "--skip-git-repo-check",
            "Build it on workspace 1001.",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    for o in &outputs {
        assert!(!o.contains("timed out"), "{o}");
    }
    let answers: Vec<Value> = outputs[1..].iter().flat_map(|o| objects(o)).collect();
    assert_eq!(answers.len(), 7, "{outputs:?}");
    assert_eq!(answers[0]["running"], true, "{}", answers[0]);
    let stdout: String = answers
        .iter()
        .map(|a| a["stdout"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(stdout, "begin\nend\n", "{answers:?}");
    let last = answers.last().unwrap();
    assert_eq!(
        (&last["running"], &last["exit_status"]),
        (&json!(false), &json!(6))
    );
    let workdir = c.dp.data_dir.join("ws-1001/workdir");
    assert_eq!(
        std::fs::read_to_string(workdir.join("once.txt")).unwrap(),
        "run\n",
        "it ran once"
    );
}

#[test]
fn claude_code_follows_a_command_past_its_shell_timeout_by_the_skill() {
    let attach = || -> Step {
        Box::new(|r| {
            let results = model::anthropic_tool_results(r);
            // As the skill says: until the status is not 75.
            if !results
                .last()
                .is_some_and(|l| l.contains("\"running\":true"))
            {
                return Reply::Text("Built.".to_owned());
            }
            let run = last_run(&results);
            let offset = |k: &str| run[k].as_u64().unwrap_or(0);
            Reply::Shell(format!(
                "runcode attach {} --wait 8 --json --stdout-offset {} --stderr-offset {}",
                run["run_id"].as_str().unwrap(),
                offset("stdout_next_offset"),
                offset("stderr_next_offset"),
            ))
        })
    };
    let mut script: Vec<Step> = vec![
        model::shell("runcode connect 1001 --json"),
        model::shell(&format!(
            "runcode exec --detach --json -- '{}'",
            LONG.replace('\'', "'\\''")
        )),
    ];
    // More than it needs: the first one after the end says it is built.
    for _ in 0..8 {
        script.push(attach());
    }
    let m = Model::start(script);
    let c = Claude::new();
    // The shell tool gives up after 20 s here (2 minutes by default).
    let out = c
        .cmd(Some(&m))
        .env("BASH_DEFAULT_TIMEOUT_MS", "20000")
        .args([
            "-p",
            "/runcode:ssh Build it on workspace 1001.",
            "--output-format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        m.left() > 0,
        "it ended before the script did: {}",
        both(&out)
    );
    let results = model::anthropic_tool_results(m.turns().last().unwrap());
    for r in &results {
        assert!(!r.to_lowercase().contains("timed out"), "{r}");
    }
    let attaches = &results[2..];
    assert_eq!(count(attaches, "begin"), 1, "{attaches:?}");
    assert_eq!(count(attaches, "end"), 1, "{attaches:?}");
    assert!(
        attaches.iter().any(|r| r.contains("Exit code 6")),
        "the command's own status reached the agent: {attaches:?}"
    );
    let workdir = c.dp.data_dir.join("ws-1001/workdir");
    assert_eq!(
        std::fs::read_to_string(workdir.join("once.txt")).unwrap(),
        "run\n",
        "it ran once"
    );
}
