//! A hostile or broken control plane, through the real binary: every
//! bundle rule of docs/security.md refused with its code and exit status, nothing
//! executed or written; insecure bases refused before any request; escape
//! bytes kept off the terminal; every HTTP failure mapped to its code.

use crate::util::cli::Cli;
use crate::util::devplane::Devplane;
use serde_json::json;

fn arm(dp: &Devplane, mode: &str) {
    dp.post("/_dev/hostile", json!({"mode": mode}));
}

/// Nothing of a refused session is left, and no hostile value was obeyed.
fn assert_untouched(dp: &Devplane, cli: &Cli) {
    assert!(
        !cli.session_dir(1001).exists(),
        "no session material for a refused bundle"
    );
    assert!(!cli.cache().join("current").exists(), "not attached");
    let pwned: Vec<_> = std::fs::read_dir(&dp.data_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("pwned"))
        .collect();
    assert!(pwned.is_empty(), "a hostile value was executed: {pwned:?}");
}

#[test]
fn unsafe_bundle_fields_are_refused_and_nothing_is_written() {
    let dp = Devplane::start(&[]);
    for mode in [
        "user",
        "host",
        "port",
        "proxy_command",
        "known_hosts_none",
        "missing",
    ] {
        let cli = Cli::new(&dp);
        arm(&dp, mode);
        let v = cli.fails(&["connect", "1001"], "unsafe_bundle", 2);
        if mode == "missing" {
            assert!(
                v["message"].as_str().unwrap().contains("host, expires_at"),
                "{v}"
            );
        }
        assert_untouched(&dp, &cli);
        // The human rendering is one line on stderr, nothing on stdout.
        arm(&dp, mode);
        let out = cli.run(&["connect", "1001"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr).lines().count(),
            1,
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn smuggled_known_hosts_text_is_dropped_and_the_real_key_kept() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    arm(&dp, "known_hosts");
    let v = cli.ok(&["connect", "1001"]);
    let kept = std::fs::read_to_string(cli.session_dir(1001).join("known_hosts")).unwrap();
    let port = v["port"].as_u64().unwrap();
    assert_eq!(kept.lines().count(), 1, "{kept}");
    assert!(
        kept.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 AAAA")),
        "{kept}"
    );
    assert!(
        !kept.contains("command=")
            && !kept.contains('@')
            && !kept.contains('#')
            && !kept.contains('\u{1b}')
    );
    assert!(
        cli.run(&["exec", "--", "true"]).status.success(),
        "the genuine key still works"
    );
    assert_untouched_markers(&dp);
}

fn assert_untouched_markers(dp: &Devplane) {
    assert!(!dp.data_dir.join("pwned-known-hosts").exists());
}

#[test]
fn an_unsafe_workdir_silently_becomes_the_default() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    arm(&dp, "workdir");
    let v = cli.ok(&["connect", "1001"]);
    assert_eq!(v["workdir"], "/home/ubuntu/workspace");
    assert!(!dp.data_dir.join("pwned-workdir").exists());
}

#[test]
fn titles_with_escape_bytes_never_reach_the_terminal() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    arm(&dp, "title");
    let out = cli.run(&["list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("evil") && text.contains("clip"), "{text}");
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' || ('\u{80}'..='\u{9f}').contains(&c)),
        "{text:?}"
    );
    arm(&dp, "title");
    let json = cli.ok(&["list"]).to_string();
    assert!(
        !json.contains("\\u001b") && !json.contains('\u{1b}'),
        "{json}"
    );
    // Server messages are cleaned too.
    dp.post("/_dev/fault", json!({"path": "/api/rc/workspaces", "status": 500, "body": "{\"message\": \"bad \\u001b]0;title\\u0007 day\"}"}));
    let out = cli.run(&["list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad ]0;title day") && !err.contains('\u{1b}'),
        "{err:?}"
    );
}

#[test]
fn insecure_bases_are_refused_before_any_request() {
    let dp = Devplane::start(&[]);
    for base in [
        "http://example.com",
        "http://127.0.0.1.example.com",
        "ftp://127.0.0.1",
        "http://user@127.0.0.1:1",
    ] {
        let mut cli = Cli::new(&dp);
        cli.api = base.to_owned();
        cli.fails(&["list"], "insecure_base", 2);
        cli.fails(&["connect", "1001"], "insecure_base", 2);
    }
    let cli = Cli::bare(&dp.api);
    let out = cli
        .cmd()
        .args(["--json", "login", "--no-browser"])
        .env("RUNCODE_WEB_BASE", "http://example.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("insecure_base"));
    assert_eq!(
        dp.get("/_dev/requests")["requests"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "not one request reached the server"
    );
}

#[test]
fn a_redirect_off_loopback_is_refused_and_one_on_loopback_followed() {
    let root = crate::util::world::scratch("api");
    std::fs::create_dir_all(root.path().join("api/rc")).unwrap();
    std::fs::write(
        root.path().join("api/rc/workspaces"),
        r#"{"data": {"workspaces": []}}"#,
    )
    .unwrap();
    let server = runcode_e2e::serve::Server::start(root.path());
    let mut cli = Cli::bare(&server.url(""));
    cli.token = Some("t".to_owned());
    server.rule(
        "/api/rc/workspaces",
        runcode_e2e::serve::Rule::Redirect("http://example.com/api/rc/workspaces".to_owned()),
    );
    cli.fails(&["list"], "insecure_base", 2);
    server.rule(
        "/api/rc/workspaces",
        runcode_e2e::serve::Rule::Redirect(server.url("/api/rc/other")),
    );
    std::fs::write(
        root.path().join("api/rc/other"),
        r#"{"data": {"workspaces": []}}"#,
    )
    .unwrap();
    assert_eq!(cli.ok(&["list"])["workspaces"], json!([]));

    // Another port of loopback is another origin: the token never goes
    // there (the audit saw `Authorization: Token` arrive).
    let other = runcode_e2e::serve::Server::start(root.path());
    server.rule(
        "/api/rc/workspaces",
        runcode_e2e::serve::Rule::Redirect(other.url("/api/rc/other")),
    );
    let failure = cli.fails(&["list"], "insecure_base", 2);
    assert!(
        failure["message"]
            .as_str()
            .unwrap_or_default()
            .contains("origin"),
        "{failure}"
    );
    assert_eq!(
        other.requests().len(),
        0,
        "nothing reached the other origin"
    );
}

#[test]
fn every_http_failure_maps_to_its_code() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    for (status, code) in [
        (400, "bad_request"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (429, "rate_limited"),
        (503, "unavailable"),
        (500, "http_error"),
        (502, "http_error"),
    ] {
        dp.post(
            "/_dev/fault",
            json!({"path": "/api/rc/workspaces", "status": status}),
        );
        cli.fails(&["list"], code, 2);
    }
    dp.post(
        "/_dev/fault",
        json!({"path": "/api/rc/workspaces", "status": 200, "body": "<html>maintenance</html>"}),
    );
    let v = cli.fails(&["list"], "http_error", 2);
    assert!(v["message"].as_str().unwrap().contains("not JSON"));
    let mut wrong = Cli::new(&dp);
    wrong.token = Some("nope".to_owned());
    let v = wrong.fails(&["list"], "unauthorized", 2);
    assert!(v["message"].as_str().unwrap().contains("runcode login"));
    // A 2xx that says {"error": true} is a refusal.
    dp.post("/_dev/fault", json!({"path": "/api/rc/workspace/start", "status": 200, "body": "{\"error\": true, \"message\": \"insufficient balance\"}"}));
    let v = cli.fails(&["start", "1002"], "start_failed", 2);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("insufficient balance")
    );
    // The session endpoint's 503 says what it means.
    let off = Devplane::start(&["--ssh-disabled"]);
    let v = Cli::new(&off).fails(&["connect", "1001"], "unavailable", 2);
    assert!(v["message"].as_str().unwrap().contains("not enabled"));
    // Nothing listening: network.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut down = Cli::new(&dp);
    down.api = format!("http://127.0.0.1:{dead}");
    down.fails(&["list"], "network", 2);
}

#[test]
fn usage_errors_and_missing_things_have_their_codes() {
    let dp = Devplane::start(&[]);
    let cli = Cli::new(&dp);
    cli.fails(&["connect"], "usage", 2);
    cli.fails(&["frobnicate"], "usage", 2);
    cli.fails(&["connect", "no-such-workspace"], "not_found", 2);
    cli.fails(&["connect", "424242"], "not_found", 2);
    let out = cli.run(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let help = cli.run(&["--help"]);
    assert!(help.status.success() && String::from_utf8_lossy(&help.stdout).contains("Examples:"));
    // Bare `runcode` is a question, not a mistake: the grouped help, exit 0,
    // no internal commands; a command's help keeps the global flags apart.
    let bare = cli.run(&[]);
    let text = String::from_utf8_lossy(&bare.stdout);
    assert_eq!(bare.status.code(), Some(0), "{text}");
    for heading in [
        "Account:",
        "Workspaces:",
        "Work on the workspace:",
        "Global options:",
    ] {
        assert!(text.contains(heading), "{heading} in {text}");
    }
    assert!(
        !text.contains("keep-forwards") && !text.contains("  proxy "),
        "{text}"
    );
    let put = String::from_utf8_lossy(&cli.run(&["put", "--help"]).stdout).into_owned();
    let (own, global) = put
        .split_once("Global options:")
        .expect("a section of its own");
    assert!(
        own.contains("--replace") && !own.contains("--api-base"),
        "{put}"
    );
    assert!(
        global.contains("--api-base") && global.contains("--json"),
        "{put}"
    );
    let version = cli.run(&["--version"]);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("runcode {}", env!("CARGO_PKG_VERSION"))
    );
    // Without ssh, the OpenSSH transport asked for by name is ssh_missing
    // (left to choose, runcode's own client steps in: transports.rs).
    let mut no_ssh = cli.cmd();
    no_ssh
        .env("PATH", "/nonexistent")
        .env("RUNCODE_TRANSPORT", "openssh");
    cli.ok(&["connect", "1001"]);
    let out = no_ssh
        .args(["--json", "exec", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"ssh_missing\""));
    // A connect that fails leaves the attachment as it was (one that
    // worked would record this other directory as its scope).
    let current = std::fs::read(cli.cache().join("current")).unwrap();
    let elsewhere = cli.tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let out = cli
        .cmd()
        .env("PATH", "/nonexistent")
        .env("RUNCODE_TRANSPORT", "openssh")
        .current_dir(&elsewhere)
        .args(["--json", "connect", "1001", "--wait"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"ssh_missing\""));
    assert_eq!(std::fs::read(cli.cache().join("current")).unwrap(), current);
}
