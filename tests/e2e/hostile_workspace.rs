//! The workspace is hostile too (docs/security.md): agents run untrusted
//! code there, and a prompt injection can steer the agent's tool calls. So
//! what the workspace sends, and what an agent asks for because of it,
//! never reaches runcode's own files, ssh's or the shell's on this machine.

use std::path::Path;

use crate::util::mcp::Raw;
use crate::util::world::{attached, scratch};
use serde_json::{Value, json};

/// `runcode mcp` for `cli`, in its scratch folder (the agent's project).
fn server(cli: &crate::util::cli::Cli) -> std::process::Command {
    let mut cmd = cli.cmd();
    cmd.arg("mcp");
    cmd
}

#[track_caller]
fn refused_local(result: &Value) {
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(
        result["structuredContent"]["error"], "local_path_refused",
        "{result}"
    );
}

fn bytes(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// The audit's attack: a workspace file with a `ProxyCommand` fetched over
/// the session's own ssh config would run on the next connection; the API
/// token copied up would leave the machine. Neither happens, nor does a
/// write into `~/.ssh`, a shell startup file, a `.git` folder, or outside
/// the folder the agent works in. Inside it, put and get work, and the
/// CLI typed by a person stays as free as `cp`.
#[test]
fn an_agents_put_and_get_never_reach_runcodes_sshs_or_the_shells_files() {
    let (_dp, cli, workdir) = attached();
    std::fs::write(
        workdir.join("evil_config"),
        "Host *\n  ProxyCommand touch /tmp/pwned-by-runcode-test\n",
    )
    .unwrap();
    let session_config = cli.session_dir(1001).join("config");
    let before = bytes(&session_config).expect("a session config");
    let token = cli.home.join(".config/runcode/token");
    std::fs::create_dir_all(token.parent().unwrap()).unwrap();
    std::fs::write(&token, "secret-token\n").unwrap();
    std::fs::create_dir_all(cli.tmp.path().join(".git/hooks")).unwrap();
    let mut raw = Raw::start(&mut server(&cli));

    for local in [
        session_config.clone(),
        cli.home.join(".ssh/config"),
        cli.home.join(".ssh/authorized_keys"),
        cli.home.join(".bashrc"),
        cli.home.join(".profile"),
        cli.home.join(".claude/settings.json"),
        cli.tmp.path().join(".git/hooks/pre-commit"),
        scratch("elsewhere").path().join("x"),
    ] {
        let result = raw.call(
            "get",
            &json!({"remote": "evil_config", "local": local.to_str().unwrap()}),
        );
        refused_local(&result);
        assert!(
            local == session_config || !local.exists(),
            "{} was written",
            local.display()
        );
    }
    assert_eq!(
        bytes(&session_config).unwrap(),
        before,
        "the session config is untouched"
    );
    // Into a folder, the file takes the remote name: that name is checked
    // too (here the test's HOME lies inside the agent's folder).
    refused_local(&raw.call(
        "get",
        &json!({"remote": ".bashrc", "local": cli.home.to_str().unwrap()}),
    ));
    // A remote name that climbs out of the folder it lands in.
    refused_local(&raw.call("get", &json!({"remote": "notes/..", "local": "."})));

    for local in [token.clone(), cli.session_dir(1001).join("id_ed25519")] {
        let result = raw.call(
            "put",
            &json!({"local": local.to_str().unwrap(), "remote": "stolen"}),
        );
        refused_local(&result);
    }
    assert!(
        !workdir.join("stolen").exists(),
        "nothing reached the workspace"
    );

    // Where the agent works, both directions work.
    let got = raw.call(
        "get",
        &json!({"remote": "evil_config", "local": "fetched.txt"}),
    );
    assert_ne!(got["isError"], true, "{got}");
    assert!(cli.tmp.path().join("fetched.txt").is_file());
    std::fs::write(cli.tmp.path().join("up.txt"), "up\n").unwrap();
    let put = raw.call("put", &json!({"local": "up.txt", "remote": "up.txt"}));
    assert_ne!(put["isError"], true, "{put}");
    assert_eq!(
        std::fs::read_to_string(workdir.join("up.txt")).unwrap(),
        "up\n"
    );
    assert!(!Path::new("/tmp/pwned-by-runcode-test").exists());

    // A person's own `runcode get` goes anywhere they say.
    let mine = scratch("mine");
    let out = mine.path().join("copy.txt");
    cli.ok(&["get", "up.txt", "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "up\n");
}

/// The client's roots (MCP `roots/list`) are the places the agent works in,
/// and `RUNCODE_MCP_ROOTS` widens them; the keys stay refused inside both.
#[test]
fn the_clients_roots_and_runcode_mcp_roots_set_the_places() {
    let (_dp, cli, workdir) = attached();
    std::fs::write(workdir.join("f.txt"), "f\n").unwrap();
    let project = scratch("project");
    let wider = scratch("wider");
    let mut cmd = server(&cli);
    cmd.env("RUNCODE_MCP_ROOTS", wider.path());
    let mut raw = Raw::start_with_roots(&mut cmd, &[project.path().to_path_buf()]);
    for dir in [project.path(), wider.path()] {
        let local = dir.join("f.txt");
        let got = raw.call(
            "get",
            &json!({"remote": "f.txt", "local": local.to_str().unwrap()}),
        );
        assert_ne!(got["isError"], true, "{got}");
        assert_eq!(std::fs::read_to_string(&local).unwrap(), "f\n");
    }
    // The server's own folder is not a root once the client names some.
    refused_local(&raw.call(
        "get",
        &json!({"remote": "f.txt", "local": cli.tmp.path().join("f.txt").to_str().unwrap()}),
    ));
    // Codex has no roots; it sends the folder its session runs in with
    // each call, and that folder counts as the root.
    let codex_cwd = scratch("codex-cwd");
    let mut raw = Raw::start(&mut server(&cli));
    let call = |raw: &mut Raw, local: &Path| {
        raw.request(
            "tools/call",
            &json!({
                "name": "get",
                "arguments": {"remote": "f.txt", "local": local.to_str().unwrap()},
                "_meta": {"codex/sandbox-state": {"sandboxCwd": format!("file://{}", codex_cwd.path().display())}},
            }),
        )["result"]
            .clone()
    };
    let inside = call(&mut raw, &codex_cwd.path().join("f.txt"));
    assert_ne!(inside["isError"], true, "{inside}");
    assert!(codex_cwd.path().join("f.txt").is_file());
    refused_local(&call(&mut raw, &cli.tmp.path().join("g.txt")));
    // A root that holds runcode's cache does not open the cache.
    let mut cmd = server(&cli);
    cmd.env("RUNCODE_MCP_ROOTS", &cli.home);
    let mut raw = Raw::start(&mut cmd);
    refused_local(&raw.call(
        "get",
        &json!({"remote": "f.txt", "local": cli.session_dir(1001).join("config").to_str().unwrap()}),
    ));
}

/// A command line that, run on the workspace, drops its own connection
/// the hard way (the sshd serving it killed), as a link that dies does:
/// `before` runs first.
fn then_drop_the_link(before: &str) -> String {
    format!(
        "{before}; p=$$; while [ \"$p\" -gt 1 ]; do \
         case $(ps -o comm= -p \"$p\") in sshd*) kill -9 \"$p\"; exit 0;; esac; \
         p=$(ps -o ppid= -p \"$p\" | tr -d ' '); done"
    )
}

/// The run's folder on the workspace, in the remote shell's words.
const RUN_DIR: &str = "d=\"${XDG_CACHE_HOME:-$HOME/.cache}/runcode/runs/$RUNCODE_RUN_ID\"";

/// `runcode --json exec -- <line>`, given at most two minutes (a client
/// that starts the command again and again never ends by itself).
fn exec_bounded(cli: &crate::util::cli::Cli, line: &str) -> (Option<i32>, Value) {
    let mut child = cli
        .cmd()
        .args(["--json", "exec", "--", line])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status = crate::util::poll(std::time::Duration::from_secs(120), || {
        child.try_wait().ok().flatten()
    });
    if status.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default().to_owned();
    (
        status.and_then(|s| s.code()),
        serde_json::from_str(&last).unwrap_or(Value::Null),
    )
}

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .count()
}

/// A workspace that marks a started run as never started (the audit's
/// `void` file) and drops the link gets no second run: the mark was not
/// this client's, so the answer is refused with `run_disputed`, naming the
/// run, and the command ran once. Through the MCP `exec` tool too.
#[test]
fn a_forged_never_started_mark_starts_nothing_again() {
    let (_dp, cli, workdir) = attached();
    let line = then_drop_the_link(&format!(
        "{RUN_DIR}; : > \"$d/void\"; echo run >> count.txt"
    ));
    let (code, failure) = exec_bounded(&cli, &line);
    assert_eq!(code, Some(2), "{failure}");
    assert_eq!(failure["error"], "run_disputed", "{failure}");
    assert!(
        failure["message"]
            .as_str()
            .unwrap_or_default()
            .contains("run "),
        "names the run: {failure}"
    );
    assert_eq!(lines(&workdir.join("count.txt")), 1, "the command ran once");

    let mut raw = Raw::start(&mut server(&cli));
    let result = raw.call(
        "exec",
        &json!({"command": line.replace("count.txt", "mcp.txt")}),
    );
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(
        result["structuredContent"]["error"], "run_disputed",
        "{result}"
    );
    assert_eq!(
        lines(&workdir.join("mcp.txt")),
        1,
        "the tool's command ran once"
    );
}

/// A run that printed had started, whatever the workspace says after: one
/// that wipes its record once it has printed is not started again. One
/// that wipes it before printing looks like a link that dropped before the
/// start; the command is started again, but a bounded number of times.
#[test]
fn a_run_that_vanishes_is_started_again_a_bounded_number_of_times() {
    let (_dp, cli, workdir) = attached();
    let printed = then_drop_the_link(&format!(
        "echo started; sleep 1; {RUN_DIR}; rm -rf \"$d\"; echo run >> printed.txt"
    ));
    let (code, failure) = exec_bounded(&cli, &printed);
    assert_eq!(
        (code, &failure["error"]),
        (Some(2), &json!("run_disputed")),
        "{failure}"
    );
    assert_eq!(lines(&workdir.join("printed.txt")), 1, "it ran once");

    let silent = then_drop_the_link(&format!("{RUN_DIR}; rm -rf \"$d\"; echo run >> silent.txt"));
    let (code, failure) = exec_bounded(&cli, &silent);
    assert_eq!(
        (code, &failure["error"]),
        (Some(2), &json!("run_disputed")),
        "{failure}"
    );
    assert_eq!(
        lines(&workdir.join("silent.txt")),
        3,
        "started again twice at most, then refused"
    );
}

/// Peak resident memory (VmHWM, KiB) of `cmd` run to its end, sampled from
/// /proc while it runs; its exit code and stdout too.
fn peak_kib(cmd: &mut std::process::Command) -> (Option<i32>, u64, Vec<u8>) {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut child = child;
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
        out
    });
    let mut peak = 0;
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak = peak.max(line.split_whitespace().nth(1).unwrap().parse().unwrap());
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        // A sampling pace, not a wait for the other side.
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    (code, peak, reader.join().unwrap())
}

/// A compromised shell on the workspace (a forced command that prints
/// 300 MB before every command it runs) and a 50 MB run status file: the
/// CLI's peak memory stays under 64 MiB for `runs`, `put`, `write` and
/// `context`, and what it prints stays small.
#[test]
fn memory_stays_bounded_whatever_the_workspace_sends() {
    let (dp, cli, workdir) = attached();
    // A run whose status file is 50 MB of digits.
    let runs = dp.data_dir.join("ws-1001/cache/runcode/runs/1-0-1");
    std::fs::create_dir_all(&runs).unwrap();
    std::fs::write(runs.join("status"), "7".repeat(50 << 20)).unwrap();
    let limit = 64 * 1024;
    let (code, peak, out) = peak_kib(cli.cmd().args(["--json", "runs"]));
    assert!(peak < limit, "runs peaked at {peak} KiB");
    assert_eq!(code, Some(0));
    assert!(out.len() < 1 << 20, "{} bytes printed", out.len());

    // Now the shell itself: every command of this key first prints 300 MB.
    let keys = dp.data_dir.join("ws-1001/authorized_keys");
    let text = std::fs::read_to_string(&keys).unwrap();
    let forced = "command=\"head -c 300000000 /dev/zero | tr '\\\\0' x; exec /bin/sh -c \\\"$SSH_ORIGINAL_COMMAND\\\"\"";
    let hostile: String = text.lines().map(|l| format!("{forced},{l}\n")).collect();
    std::fs::write(&keys, hostile).unwrap();
    // The master in place was let in before; the next connection is not.
    let config = cli.session_dir(1001).join("config");
    let alias = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Host ").map(str::to_owned))
        .unwrap();
    let _ = std::process::Command::new("ssh")
        .args(["-F", config.to_str().unwrap(), "-O", "exit", &alias])
        .output();
    // The builtin transport's held connection likewise.
    let _ = cli
        .cmd()
        .args(["ssh-builtin", "--session"])
        .arg(cli.session_dir(1001))
        .args(["--control", "exit"])
        .output();
    std::fs::write(cli.tmp.path().join("small.txt"), "small\n").unwrap();
    for args in [
        vec!["--json", "runs"],
        vec!["--json", "put", "small.txt", "small.txt"],
        vec!["--json", "context"],
    ] {
        let (code, peak, out) = peak_kib(cli.cmd().args(&args));
        assert!(peak < limit, "{args:?} peaked at {peak} KiB");
        assert!(out.len() < 1 << 20, "{args:?}: {} bytes printed", out.len());
        if args[1] != "context" {
            // runcode's own one-line answers came back 300 MB long.
            let failure: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
            assert_eq!(
                (code, &failure["error"]),
                (Some(2), &json!("oversized_answer")),
                "{args:?}"
            );
        }
    }
    let (_, peak, out) = peak_kib(
        cli.cmd()
            .args(["--json", "write", "w.txt"])
            .stdin(std::fs::File::open(cli.tmp.path().join("small.txt")).unwrap()),
    );
    assert!(peak < limit, "write peaked at {peak} KiB");
    assert!(out.len() < 1 << 20);
    let _ = workdir;
}

/// A `.git/config` whose remote URL carries OSC 0 (window title) and OSC
/// 52 (clipboard) and a newline followed by a line of the digest's own:
/// `runcode context` prints none of the escapes, and the smuggled line
/// never becomes one of its own.
#[test]
fn context_prints_no_escape_and_no_line_the_workspace_made() {
    let (_dp, cli, workdir) = attached();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(&workdir)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    let config = workdir.join(".git/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "[remote \"origin\"]\n\turl = \"https://x.example/a\\u001b]0;owned\\u0007\\u001b]52;c;aGk=\\u0007\\nmarker=smuggled\"\n",
    );
    // git's config escapes: \n is a newline; the ESC and BEL bytes go in raw.
    let text = text
        .replace("\\u001b", "\u{1b}")
        .replace("\\u0007", "\u{7}");
    std::fs::write(&config, text).unwrap();
    let out = cli.run(&["context"]);
    assert!(out.status.success(), "{}", crate::util::both(&out));
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "an escape reached the terminal: {shown:?}"
    );
    assert!(
        !shown.contains("smuggled")
            || !shown
                .lines()
                .any(|l| l.trim_start().starts_with("project smuggled")),
        "{shown}"
    );
    let v = cli.ok(&["context"]);
    assert_eq!(v["markers"], json!([]), "no marker came from the URL: {v}");
}

/// A folder fetched from the workspace never brings its modes along: no
/// setuid, setgid or sticky bit, nothing world-writable (as
/// `tar --no-same-permissions`), and an executable stays executable.
#[test]
fn a_fetched_tree_gets_no_setuid_and_nothing_world_writable() {
    use std::os::unix::fs::PermissionsExt;
    let (_dp, cli, workdir) = attached();
    let tree = workdir.join("tree");
    std::fs::create_dir_all(tree.join("open")).unwrap();
    for (name, mode) in [("suid", 0o6755), ("shared", 0o666), ("run", 0o755)] {
        std::fs::write(tree.join(name), "x").unwrap();
        std::fs::set_permissions(tree.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(tree.join("open"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let local = scratch("fetched");
    let out = local.path().join("tree");
    cli.ok(&["get", "tree", "--out", out.to_str().unwrap()]);
    let mode = |p: &str| std::fs::metadata(out.join(p)).unwrap().permissions().mode() & 0o7777;
    for p in ["", "suid", "shared", "run", "open"] {
        assert_eq!(mode(p) & 0o7002, 0, "{p:?} is {:o}", mode(p));
    }
    assert_eq!(mode("run") & 0o100, 0o100, "an executable stays executable");
    assert_eq!(mode("suid") & 0o100, 0o100);
}

/// A workspace that opens more listeners than anyone forwards by hand
/// gets 32 forwards and a `skipped` event for each of the rest; no local
/// port below 1024 is taken (port 80 there lands on a high port here), and
/// the search for a free port never lands on another service's well-known
/// port (5431 is busy here, being the same loopback: 5432 is passed over).
#[test]
fn forward_auto_holds_at_most_32_and_never_a_privileged_or_service_port() {
    let (_dp, cli, workdir) = attached();
    let mut ports: Vec<u16> = (0..40).map(|_| crate::util::free_port()).collect();
    let free_here = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let service_case = free_here(5431) && free_here(5432);
    if service_case {
        ports.push(5431);
    }
    let privileged = crate::util::is_root() && free_here(80);
    if privileged {
        ports.push(80);
    }
    let list = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    // A port another test took meanwhile (they share this loopback) is
    // skipped; the ports that did listen are written to bound.txt.
    let listen = format!(
        "(python3 -c 'import socket,sys,time\nss=[]\nfor p in sys.argv[1].split(\",\"):\n s=socket.socket()\n try: s.bind((\"127.0.0.1\",int(p))); s.listen(); ss.append(s)\n except OSError: pass\nopen(\"bound.txt.part\",\"w\").write(\",\".join(str(s.getsockname()[1]) for s in ss))\nimport os; os.rename(\"bound.txt.part\",\"bound.txt\")\ntime.sleep(90)' {list} &) </dev/null >/dev/null 2>&1"
    );
    let (mut child, events) = cli.events(&["--json", "forward", "--auto"]);
    let first = events
        .recv_timeout(std::time::Duration::from_secs(20))
        .unwrap();
    assert_eq!(first["event"], "watching", "{first}");
    assert!(cli.run(&["exec", "--", &listen]).status.success());
    // The devplane's workspaces share this machine's loopback, so listeners
    // of tests running beside this one come and go in the same tables:
    // every event counts toward the limit, only this test's ports must
    // all be accounted for.
    let bound = crate::util::wait_for("the listeners", std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(workdir.join("bound.txt")).ok()
    });
    let ours: std::collections::BTreeSet<u64> =
        bound.split(',').filter_map(|p| p.parse().ok()).collect();
    assert!(ours.len() > 32, "{} of the ports could listen", ours.len());
    let privileged = privileged && ours.contains(&80);
    let service_case = service_case && ours.contains(&5431);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut forwarded = std::collections::BTreeMap::new();
    let mut skipped = std::collections::BTreeSet::new();
    let (mut live, mut most) = (0usize, 0usize);
    let accounted = |f: &std::collections::BTreeMap<u64, u64>,
                     s: &std::collections::BTreeSet<u64>| {
        ours.iter()
            .filter(|p| f.contains_key(*p) || s.contains(*p))
            .count()
    };
    while accounted(&forwarded, &skipped) < ours.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "after 2 minutes: {} forwarded, {} skipped, of {} ports",
            forwarded.len(),
            skipped.len(),
            ours.len()
        );
        let e = events
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{} forwarded, {} skipped", forwarded.len(), skipped.len()));
        let port = e["port"].as_u64().unwrap_or(0);
        match e["event"].as_str() {
            Some("forwarded") => {
                let local = e["local"].as_u64().unwrap();
                assert!(local >= 1024, "{e}");
                forwarded.insert(port, local);
                live += 1;
                most = most.max(live);
            }
            Some("removed") => live = live.saturating_sub(1),
            Some("skipped") => {
                assert_eq!(e["reason"], "limit", "{e}");
                skipped.insert(port);
            }
            _ => panic!("{e}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(most <= 32, "{most} forwards at once");
    assert!(
        ours.iter().any(|p| skipped.contains(p)),
        "past 32, ports are left out: {skipped:?}"
    );
    if privileged {
        assert!(forwarded.contains_key(&80), "{forwarded:?}");
    }
    if service_case {
        assert_ne!(forwarded.get(&5431), Some(&5432), "another service's port");
        assert!(forwarded.contains_key(&5431), "{forwarded:?}");
    }
}

/// `open --editor` takes a title only as `config-ssh` does, and finds its
/// host line whole: a title that continues onto the comment line
/// `config-ssh` wrote (the audit's way past a substring check) never
/// reaches a Gateway link or an editor's authority.
#[test]
fn open_editor_refuses_a_title_config_ssh_would_refuse() {
    let (dp, cli, _workdir) = attached();
    dp.post(
        "/_dev/hostile",
        json!({"mode": "display_inject", "count": 20}),
    );
    let wrote = cli.ok(&["config-ssh"]);
    assert_eq!(wrote["changed"], true, "{wrote}");
    let config = cli.home.join(".ssh/config");
    let before = std::fs::read_to_string(&config).unwrap();
    assert!(before.contains("  # pwn&host=evil.example"), "{before}");
    dp.post("/_dev/reset", json!({}));
    dp.post(
        "/_dev/hostile",
        json!({"mode": "title_inject", "count": 20}),
    );
    for editor in ["gateway", "vscode"] {
        let (code, out) = cli.json(&["open", "1001", "--editor", editor, "--print"]);
        assert_eq!(
            (code, &out["error"]),
            (2, &json!("usage")),
            "{editor}: {out}"
        );
        assert!(!out.to_string().contains("evil.example"), "{editor}: {out}");
    }
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        before,
        "~/.ssh/config untouched"
    );
}
