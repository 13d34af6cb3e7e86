//! Real agents drive the plugin: Claude Code and Codex from npm, each with
//! its model API answered by the scripted model server on loopback
//! (`runcode_e2e::model`), the bundle from `dist/plugin` installed from its
//! marketplace, the devplane and the release on loopback. The test scripts
//! every turn and reads every request; the client, its plugin machinery,
//! permission rules, PATH and tool plumbing are all real.

use std::path::PathBuf;

use crate::util::agents::{
    Claude, Codex, cli_per_command_skill, cli_per_ssh_skill, codex_skill_path, first_user_text,
    skill_recovery,
};
use crate::util::both;
use runcode_e2e::model::{self, Model, Reply, Step};
use serde_json::Value;

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
    c.session(&m, &format!("/runcode:connect {name}"));
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
    c.session(&m, "/runcode:list");
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
        let body = std::fs::read_to_string(crate::util::repo().join(format!("commands/{name}.md")))
            .unwrap();
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
        c.session(&m, prompt.trim());
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
    c.session(&m, "/runcode:ssh Work on my RunCode workspace 1001.");
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

/// The JSON error object in a tool's output (the CLI prints it as the last
/// line of stdout; the clients add their own lines around it).
fn error_code(output: &str) -> String {
    output
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let start = l.find("{\"error\"")?;
            serde_json::from_str::<Value>(&l[start..]).ok()
        })
        .find_map(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no JSON error object in {output:?}"))
}

/// Claude Code: `exec` with nothing attached fails with `not_attached`; the
/// model reads the skill it was given, takes the one step its error table
/// names (section 3's connect line), and retries once. The command runs
/// once on the workspace.
#[test]
fn claude_code_follows_the_skills_error_table_with_one_recovery_step() {
    use std::sync::{Arc, Mutex};
    let c = Claude::new();
    let failing = "runcode exec --json -- 'echo run >> runs.txt'";
    let recovery: Arc<Mutex<Option<String>>> = Arc::default();
    let noted = recovery.clone();
    let script: Vec<Step> = vec![
        model::shell(failing),
        Box::new(move |r| {
            // The skill as the model received it: its body in the prompt.
            let skill = first_user_text(r);
            let output = model::anthropic_tool_results(r).pop().unwrap();
            let code = error_code(&output);
            let line = skill_recovery(&skill, &code, failing, "1001");
            *noted.lock().unwrap() = Some(line.clone());
            Reply::Shell(line)
        }),
        model::shell(failing),
        model::text("Done."),
    ];
    let m = Model::start(script);
    c.session(&m, "/runcode:ssh Note a run on my RunCode workspace 1001.");
    assert_eq!(
        recovery.lock().unwrap().as_deref(),
        Some("runcode connect 1001 --start --wait --json"),
        "the table's step for not_attached"
    );
    let results = model::anthropic_tool_results(m.turns().last().unwrap());
    assert_eq!(
        results.len(),
        3,
        "one failure, one step, one retry: {results:?}"
    );
    assert_eq!(error_code(&results[0]), "not_attached");
    let connected: Value = results[1]
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("connect's JSON: {}", results[1]));
    let workdir = PathBuf::from(connected["workdir"].as_str().unwrap());
    assert!(!results[2].contains("\"error\""), "{}", results[2]);
    assert_eq!(
        std::fs::read_to_string(workdir.join("runs.txt")).unwrap(),
        "run\n",
        "the retried command ran once"
    );
}

/// Codex with the control plane stopped: the model receives `network` as
/// JSON, takes the one step the skill's error table names (doctor), and
/// doctor's JSON says the control plane does not answer.
#[test]
fn codex_follows_the_skills_error_table_when_the_control_plane_is_down() {
    let failing = "runcode list --json";
    let cli = |r: &Value, line: &str| {
        format!(
            "{}{}",
            cli_per_ssh_skill(r),
            line.strip_prefix("runcode").unwrap()
        )
    };
    let script: Vec<Step> = vec![
        Box::new(move |r| Reply::Shell(cli(r, failing))),
        Box::new(move |r| {
            let skill = std::fs::read_to_string(codex_skill_path(r, "runcode:ssh")).unwrap();
            let output = model::openai_tool_results(r).pop().unwrap();
            let line = skill_recovery(&skill, &error_code(&output), failing, "1001");
            assert_eq!(
                line, "runcode doctor --json",
                "the table's step for network"
            );
            Reply::Shell(cli(r, &line))
        }),
        model::text("The control plane is not answering."),
    ];
    let m = Model::start(script);
    let mut c = Codex::new(&m);
    c.dp.stop();
    let out = c.exec("List my RunCode workspaces.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(outputs.len(), 2, "one failure, one step: {outputs:?}");
    assert_eq!(error_code(&outputs[0]), "network");
    assert!(
        outputs[1].contains("\"name\":\"api\",\"status\":\"warn\""),
        "doctor reports the control plane: {}",
        outputs[1]
    );
}

/// Codex at its defaults runs shell commands in a sandbox that forbids
/// sockets, loopback included: the CLI says so with `network_blocked`
/// (not `network`, which reads as an outage) and names the two ways out;
/// the MCP tools, whose server runs outside the sandbox, work.
#[test]
fn codex_s_sandbox_gets_network_blocked_and_the_mcp_tools_still_work() {
    let script: Vec<Step> = vec![
        Box::new(|r| Reply::Shell(format!("{} list --json", cli_per_ssh_skill(r)))),
        Box::new(|r| Reply::Tool {
            name: crate::util::agents::mcp_tool(r, "list"),
            input: serde_json::json!({}),
        }),
        model::text("Listed."),
    ];
    let m = Model::start(script);
    let c = Codex::new(&m);
    let out = c.exec_at_defaults("List my RunCode workspaces.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let outputs = model::openai_tool_results(m.turns().last().unwrap());
    assert_eq!(
        outputs.len(),
        2,
        "{}",
        outputs
            .join("\n---\n")
            .chars()
            .take(3000)
            .collect::<String>()
    );
    assert!(
        outputs[0].contains("\"error\":\"network_blocked\"")
            && outputs[0].contains("MCP tools")
            && outputs[0].contains("network_access"),
        "{}",
        outputs[0]
    );
    assert!(outputs[1].contains("\"id\":1001"), "{}", outputs[1]);
}

/// The first instruction of a command skill, as Codex lists it: the body's
/// first paragraph (or first numbered step), front matter left out.
fn first_instruction(r: &Value, command: &str) -> String {
    let skill = codex_skill_path(r, &format!("runcode:source-command-{command}"));
    let text = std::fs::read_to_string(skill).unwrap();
    let body = text.splitn(3, "---\n").nth(2).unwrap_or(&text);
    body.split("\n\n")
        .map(str::trim)
        .find(|p| {
            !p.is_empty()
                && !p.starts_with('#')
                && !p.starts_with("Use this skill when")
                && !p.starts_with("Log the user in")
        })
        .unwrap_or_default()
        .to_owned()
}

/// Codex at its defaults turns `doctor`, `login` and `disconnect` into
/// skills. Followed literally, each one's first instruction is an MCP tool
/// call, which works there (no PATH, no sandboxed socket).
#[test]
fn codex_follows_the_commands_first_instruction_at_its_defaults() {
    let step = |command: &'static str, tool: &'static str| -> Step {
        Box::new(move |r| {
            let first = first_instruction(r, command);
            assert!(
                first.contains(&format!("`{tool}` tool of the `runcode` MCP server")),
                "{command}: {first}\n{}",
                std::fs::read_to_string(codex_skill_path(
                    r,
                    &format!("runcode:source-command-{command}")
                ))
                .unwrap()
            );
            Reply::Tool {
                name: crate::util::agents::mcp_tool(r, tool),
                input: serde_json::json!({}),
            }
        })
    };
    let script: Vec<Step> = vec![
        step("doctor", "doctor"),
        step("login", "doctor"),
        step("disconnect", "disconnect"),
        model::text("Done."),
    ];
    let m = Model::start(script);
    let c = Codex::new(&m);
    let out = c.exec_at_defaults("Check runcode, log in, then disconnect.");
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(m.left(), 0, "{}", both(&out));
    let text = m.turns().last().unwrap().to_string();
    assert!(!text.contains("requires approval"), "every call ran");
    assert!(
        text.contains("checks") && text.contains("detached"),
        "{}",
        &text[..text.len().min(2000)]
    );
}
