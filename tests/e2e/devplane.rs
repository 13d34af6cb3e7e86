//! runcode-devplane end to end, with plain HTTP requests and the real
//! OpenSSH client (no runcode CLI): the API's shapes and errors, power
//! states, minted keys that sshd itself expires, revocation, scp/sftp, port
//! forwarding, the browser login, restarts and a clean shutdown.

use crate::util::world::scratch;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::devplane::{Devplane, Key, call, pid_alive, processes_mentioning, ssh, ssh_opts};
use serde_json::{Value, json};

#[test]
fn the_listing_has_every_category_and_errors_have_their_statuses() {
    let dp = Devplane::start(&["--workspaces", "2"]);
    let active = dp.get("/api/rc/workspaces?category=active");
    let owned = active["data"]["workspaces"].as_array().unwrap();
    assert_eq!(
        owned.len(),
        3,
        "two owned SSH-capable + one that is not: {owned:?}"
    );
    let providers: Vec<&str> = owned
        .iter()
        .map(|w| w["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["aws", "aws", "gcp"]);
    for ws in owned {
        for field in [
            "id",
            "title",
            "custom_title",
            "provider",
            "interim_state",
            "current_state",
            "ssh_user",
            "web_url",
        ] {
            assert!(ws.get(field).is_some(), "{field} missing in {ws}");
        }
        let title = ws["title"].as_str().unwrap();
        assert!(
            title
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
            "{title}"
        );
    }
    assert_eq!(
        owned[0]["current_state"], "Running",
        "the first owned workspace starts running"
    );
    assert_eq!(owned[1]["current_state"], "Stopped");
    let shared = dp.get("/api/rc/workspaces?category=shared");
    assert_eq!(shared["data"]["workspaces"].as_array().unwrap().len(), 1);
    assert_eq!(dp.ready["workspaces"].as_array().unwrap().len(), 4);

    let list = dp.url("/api/rc/workspaces?category=active");
    assert_eq!(call("GET", &list, None, None).0, 401);
    let (status, body) = call("GET", &list, Some("wrong"), None);
    assert_eq!(
        (status, body["detail"].as_str()),
        (401, Some("Invalid token."))
    );
    assert_eq!(
        call("GET", &dp.url("/_dev/requests"), None, None).0,
        401,
        "test controls need the token too"
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspaces?category=everything", None)
            .0,
        400
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspace/start?workspace_id=99", None)
            .0,
        404
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspace/start?workspace_id=x", None)
            .0,
        400
    );
    assert_eq!(dp.call("GET", "/api/rc/nothing", None).0, 404);
    let (status, page) = call("GET", owned[0]["web_url"].as_str().unwrap(), None, None);
    assert_eq!(status, 200);
    assert!(
        page.as_str()
            .unwrap()
            .contains(owned[0]["title"].as_str().unwrap())
    );
}

#[test]
fn start_passes_through_starting_and_a_mint_needs_running() {
    let dp = Devplane::start(&["--boot-delay", "1.5"]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let mint = |id: u64| {
        let body = json!({"public_key": key.public, "ttl": 60, "client": "tests"});
        dp.call(
            "POST",
            &format!("/api/rc/workspace/{id}/ssh-session"),
            Some(body),
        )
    };
    assert_eq!(mint(1002).0, 409, "stopped");
    let (status, answer) = dp.call("GET", "/api/rc/workspace/start?workspace_id=1002", None);
    assert_eq!((status, answer["error"].as_bool()), (200, Some(false)));
    assert_eq!(dp.state(1002), "starting");
    assert_eq!(mint(1002).0, 409, "still starting");
    dp.wait_state(1002, "running");
    assert_eq!(mint(1002).0, 200);
    // Idempotent on the server.
    assert_eq!(
        dp.call("GET", "/api/rc/workspace/start?workspace_id=1002", None)
            .0,
        200
    );
    assert_eq!(dp.state(1002), "running");
    // Not SSH-capable: it runs, but a mint is refused.
    dp.get("/api/rc/workspace/start?workspace_id=1004");
    dp.wait_state(1004, "running");
    assert_eq!(mint(1004).0, 409);
    // Malformed requests.
    let bad = dp.call(
        "POST",
        "/api/rc/workspace/1001/ssh-session",
        Some(json!({"public_key": "ssh-ed25519 AAAA\nx"})),
    );
    assert_eq!(bad.0, 400);
    assert_eq!(
        dp.call(
            "POST",
            "/api/rc/workspace/1001/ssh-session",
            Some(json!({"ttl": 5}))
        )
        .0,
        400
    );
}

#[test]
fn a_minted_key_runs_commands_in_the_workdir_with_the_host_key_pinned() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    assert_eq!(bundle["host"], "127.0.0.1");
    let port = bundle["port"].as_u64().unwrap();
    let known = bundle["known_hosts"].as_str().unwrap();
    assert!(
        known.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 ")),
        "{known}"
    );
    assert!(bundle["expires_at"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(bundle["credential"]["type"], "key");
    let workdir = bundle["workdir"].as_str().unwrap();
    std::fs::write(std::path::Path::new(workdir).join("marker.txt"), "here").unwrap();

    let out = ssh(
        &bundle,
        &key,
        dir.path(),
        &format!("cd '{workdir}' && pwd && cat marker.txt"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{workdir}\nhere")
    );

    // A different pinned key is refused by StrictHostKeyChecking: the pin is real.
    let other = Key::new(&dir.path().join("other"));
    let mut forged = bundle.clone();
    forged["known_hosts"] = format!(
        "[127.0.0.1]:{port} {}",
        other.public.rsplit_once(' ').unwrap().0
    )
    .into();
    let out = ssh(&forged, &key, &dir.path().join("other"), "true");
    assert_eq!(out.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOST IDENTIFICATION HAS CHANGED"));

    // A key never minted is refused.
    let stranger = Key::new(&dir.path().join("stranger"));
    assert_eq!(
        ssh(&bundle, &stranger, &dir.path().join("stranger"), "true")
            .status
            .code(),
        Some(255)
    );
}

#[test]
fn sshd_itself_stops_honouring_a_key_when_its_ttl_runs_out() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 5);
    assert!(ssh(&bundle, &key, dir.path(), "true").status.success());
    let keys = std::fs::read_to_string(dp.data_dir.join("ws-1001/authorized_keys")).unwrap();
    assert!(keys.starts_with("expiry-time=\""), "{keys}");
    // Time runs out now (the line's expiry-time moves to the past) instead of
    // waiting the window out.
    dp.post("/_dev/expire?workspace_id=1001", json!({}));
    let out = ssh(&bundle, &key, dir.path(), "true");
    assert_eq!(out.status.code(), Some(255), "expired key still accepted");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Permission denied"));
    // The next mint prunes the expired line.
    let fresh = Key::new(&dir.path().join("fresh"));
    dp.mint(1001, &fresh, 60);
    let keys = std::fs::read_to_string(dp.data_dir.join("ws-1001/authorized_keys")).unwrap();
    assert_eq!(keys.lines().count(), 1, "{keys}");
}

#[test]
fn revoking_cuts_new_connections() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    assert!(ssh(&bundle, &key, dir.path(), "true").status.success());
    dp.post("/_dev/revoke?workspace_id=1001", json!({}));
    assert_eq!(
        ssh(&bundle, &key, dir.path(), "true").status.code(),
        Some(255)
    );
    // A new mint works again.
    let bundle = dp.mint(1001, &key, 300);
    assert!(ssh(&bundle, &key, dir.path(), "true").status.success());
}

#[test]
fn stop_refuses_mints_and_the_sshd_is_gone() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    let pid = dp.gateway(1001)["pid"].as_u64().unwrap();
    assert!(pid_alive(pid));
    dp.get("/api/rc/workspace/stop?workspace_id=1001");
    assert_eq!(dp.state(1001), "stopped");
    assert!(!pid_alive(pid), "sshd {pid} still runs after stop");
    let body = json!({"public_key": key.public, "ttl": 60});
    assert_eq!(
        dp.call("POST", "/api/rc/workspace/1001/ssh-session", Some(body))
            .0,
        409
    );
    assert_eq!(
        ssh(&bundle, &key, dir.path(), "true").status.code(),
        Some(255)
    );
    assert_eq!(
        std::fs::read_to_string(dp.data_dir.join("ws-1001/authorized_keys")).unwrap(),
        "",
        "keys dropped"
    );
    assert!(processes_mentioning(&dp.data_dir.join("ws-1001")).is_empty());
}

#[test]
fn scp_and_sftp_move_files() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    let workdir = bundle["workdir"].as_str().unwrap().to_owned();
    let target = format!("{}@127.0.0.1", bundle["user"].as_str().unwrap());
    let port = bundle["port"].to_string();
    let local = dir.path().join("up.bin");
    let bytes = crate::util::noise(300_000);
    std::fs::write(&local, &bytes).unwrap();

    let out = Command::new("scp")
        .args(ssh_opts(&bundle, &key, dir.path()))
        .args(["-P", &port])
        .arg(&local)
        .arg(format!("{target}:{workdir}/up.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(format!("{workdir}/up.bin")).unwrap(), bytes);

    let batch = dir.path().join("batch");
    let down = dir.path().join("down.bin");
    std::fs::write(
        &batch,
        format!(
            "cd {workdir}\nls\nget up.bin {}\nmkdir sub\n",
            down.display()
        ),
    )
    .unwrap();
    let out = Command::new("sftp")
        .args(ssh_opts(&bundle, &key, dir.path()))
        .args(["-P", &port, "-b"])
        .arg(&batch)
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sftp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&down).unwrap(), bytes);
    assert!(std::path::Path::new(&workdir).join("sub").is_dir());
}

#[test]
fn local_forwarding_reaches_a_port_on_the_workspace() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let bundle = dp.mint(1001, &key, 300);
    // A service on the workspace side (the gateway runs on this machine).
    let service = TcpListener::bind("127.0.0.1:0").unwrap();
    let service_port = service.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in service.incoming().flatten() {
            let _ = stream.write_all(b"hello through the tunnel\n");
        }
    });
    let local_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut tunnel = Command::new("ssh")
        .args(ssh_opts(&bundle, &key, dir.path()))
        .args([
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-p",
            &bundle["port"].to_string(),
        ])
        .arg("-L")
        .arg(format!("{local_port}:127.0.0.1:{service_port}"))
        .arg(format!("{}@127.0.0.1", bundle["user"].as_str().unwrap()))
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let text = crate::util::wait_for("the forward answers", Duration::from_secs(15), || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", local_port)).ok()?;
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        (!text.is_empty()).then_some(text)
    });
    let _ = tunnel.kill();
    let _ = tunnel.wait();
    assert_eq!(text, "hello through the tunnel\n");
}

#[test]
fn the_consent_page_delivers_the_token_to_the_loopback_callback() {
    let dp = Devplane::start(&[]);
    let callback = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = callback.local_addr().unwrap().port();
    let state = "r4nd0m-St4te_value";
    let received = std::thread::spawn(move || {
        let (stream, _) = callback.accept().unwrap();
        let mut line = String::new();
        BufReader::new(stream.try_clone().unwrap())
            .read_line(&mut line)
            .unwrap();
        let mut out = stream;
        let _ = out
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nclose");
        line
    });
    let (status, page) = call(
        "GET",
        &dp.url(&format!("/auth/cli-login/?port={port}&state={state}")),
        None,
        None,
    );
    assert_eq!(status, 200);
    let page = page.as_str().unwrap().to_owned();
    assert!(
        page.contains("Authorize") && page.contains("/auth/cli-login/authorize"),
        "{page}"
    );
    // The browser follows the Authorize button, then the redirect to the callback.
    let (status, _) = call(
        "GET",
        &dp.url(&format!(
            "/auth/cli-login/authorize?port={port}&state={state}"
        )),
        None,
        None,
    );
    assert_eq!(status, 200, "the redirect reached the callback listener");
    let line = received.join().unwrap();
    let target = line.split_whitespace().nth(1).unwrap();
    assert!(target.starts_with("/callback?"), "{line}");
    let query: std::collections::HashMap<&str, &str> = target
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    assert_eq!(query["state"], state);
    assert_eq!(query["token"], dp.token);
    assert!(query["email"].contains("%40"), "{line}");

    for bad in [
        "port=0&state=x",
        "port=80",
        "state=x",
        "port=80&state=a%20b",
    ] {
        let (status, _) = call(
            "GET",
            &dp.url(&format!("/auth/cli-login/?{bad}")),
            None,
            None,
        );
        assert_eq!(status, 400, "{bad}");
    }
}

#[test]
fn ssh_disabled_answers_503() {
    let dp = Devplane::start(&["--ssh-disabled"]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let body = json!({"public_key": key.public});
    let (status, answer) = dp.call("POST", "/api/rc/workspace/1001/ssh-session", Some(body));
    assert_eq!(status, 503);
    assert!(answer["message"].as_str().unwrap().contains("not enabled"));
}

#[test]
fn create_and_delete_follow_docs_api() {
    let dp = Devplane::start(&["--boot-delay", "0"]);
    let (status, created) = dp.call(
        "POST",
        "/api/rc/workspaces",
        Some(json!({"name": "Scratch"})),
    );
    assert_eq!(status, 201, "{created}");
    let ws = &created["data"]["workspace"];
    let id = ws["id"].as_u64().unwrap();
    assert_eq!(ws["custom_title"], "Scratch");
    assert_eq!(ws["provider"], "aws");
    dp.wait_state(id, "running");
    let pid = dp.gateway(id)["pid"].as_u64().unwrap();
    assert_eq!(
        dp.call("POST", "/api/rc/workspaces", Some(json!({"name": ""})))
            .0,
        400
    );

    let (status, answer) = dp.call("DELETE", &format!("/api/rc/workspace/{id}"), None);
    assert_eq!((status, answer["error"].as_bool()), (200, Some(false)));
    assert!(!pid_alive(pid));
    assert!(!dp.data_dir.join(format!("ws-{id}")).exists());
    assert_eq!(
        dp.call("DELETE", &format!("/api/rc/workspace/{id}"), None)
            .0,
        404
    );
    assert_eq!(
        dp.call("DELETE", "/api/rc/workspace/1003", None).0,
        403,
        "a teammate's workspace"
    );
}

#[test]
fn hostile_modes_poison_exactly_the_next_answers() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    let arm = |mode: &str| dp.post("/_dev/hostile", json!({"mode": mode}));
    let cases: [(&str, &str); 5] = [
        ("user", "user"),
        ("host", "host"),
        ("port", "port"),
        ("workdir", "workdir"),
        ("proxy_command", "ssh_config"),
    ];
    for (mode, field) in cases {
        arm(mode);
        let hostile = dp.mint(1001, &key, 60);
        let clean = dp.mint(1001, &key, 60);
        assert_ne!(hostile[field], clean[field], "{mode} changes {field}");
    }
    arm("proxy_command");
    assert!(
        dp.mint(1001, &key, 60)["ssh_config"]
            .as_str()
            .unwrap()
            .contains("ProxyCommand")
    );
    arm("known_hosts");
    let smuggled = dp.mint(1001, &key, 60)["known_hosts"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        smuggled.contains("@cert-authority") && smuggled.contains("command="),
        "{smuggled}"
    );
    arm("known_hosts_none");
    assert!(
        !dp.mint(1001, &key, 60)["known_hosts"]
            .as_str()
            .unwrap()
            .contains("ssh-ed25519")
    );
    arm("missing");
    let missing = dp.mint(1001, &key, 60);
    assert!(missing.get("host").is_none() && missing.get("expires_at").is_none());
    arm("title");
    let list = dp.get("/api/rc/workspaces?category=active");
    assert!(
        list["data"]["workspaces"][0]["title"]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
    let list = dp.get("/api/rc/workspaces?category=active");
    assert!(
        !list["data"]["workspaces"][0]["title"]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
    assert!(!dp.data_dir.join("pwned-proxycommand").exists());
    assert_eq!(
        dp.call("POST", "/_dev/hostile", Some(json!({"mode": "nonsense"})))
            .0,
        400
    );
}

#[test]
fn faults_are_injected_and_the_request_log_counts_mints() {
    let dp = Devplane::start(&[]);
    let dir = scratch("ssh");
    let key = Key::new(dir.path());
    dp.post(
        "/_dev/fault",
        json!({"path": "/api/rc/workspaces", "status": 503, "count": 2}),
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspaces?category=active", None).0,
        503
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspaces?category=active", None).0,
        503
    );
    assert_eq!(
        dp.call("GET", "/api/rc/workspaces?category=active", None).0,
        200
    );
    dp.post(
        "/_dev/fault",
        json!({"path": "/api/rc/workspaces", "status": 200, "body": "<html>oops</html>"}),
    );
    let (status, body) = dp.call("GET", "/api/rc/workspaces?category=active", None);
    assert_eq!(
        (status, body),
        (200, Value::String("<html>oops</html>".into()))
    );
    dp.post("/_dev/fault", json!({"path": "/api/rc/workspace/start", "status": 200, "body": "{\"error\": true, \"message\": \"insufficient balance\"}"}));
    assert_eq!(
        dp.get("/api/rc/workspace/start?workspace_id=1002")["message"],
        "insufficient balance"
    );
    dp.post(
        "/_dev/fault",
        json!({"path": "/api/rc/workspaces", "delay_ms": 300}),
    );
    let started = Instant::now();
    dp.get("/api/rc/workspaces?category=shared");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the delay was applied"
    );

    assert_eq!(dp.mints(), 0);
    dp.mint(1001, &key, 60);
    dp.mint(1001, &key, 60);
    let _ = dp.call(
        "POST",
        "/api/rc/workspace/1002/ssh-session",
        Some(json!({"public_key": key.public})),
    );
    assert_eq!(dp.mints(), 2, "only successful mints count");
    let log = dp.get("/_dev/requests");
    assert!(
        log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["status"] == 409)
    );
    dp.post(
        "/_dev/fault",
        json!({"path": "/api/rc/workspaces", "status": 500, "count": 5}),
    );
    dp.post("/_dev/reset", json!({}));
    assert_eq!(
        dp.call("GET", "/api/rc/workspaces?category=active", None).0,
        200
    );
}
