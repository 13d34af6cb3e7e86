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
    let local = tempfile::Builder::new()
        .prefix("rc-test-")
        .tempdir()
        .unwrap();
    let fetched = local.path().join("fetched.txt");
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
        tool(
            "get",
            json!({"remote": "notes/codex.txt", "local": fetched.to_str().unwrap()}),
        ),
        tool("disconnect", json!({})),
        model::text("Done."),
    ]);
    let c = crate::util::agents::Codex::new(&m);
    let out = c.exec("Work on my RunCode workspace 1001.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 6, "{outputs:?}");
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
        std::fs::read_to_string(&fetched).unwrap(),
        "from codex\n",
        "an absolute local path works"
    );
    assert!(outputs[5].contains("detached"), "{}", outputs[5]);
}
