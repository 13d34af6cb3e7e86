//! Demo, part two: a whole working session through the plugin's
//! `bin/runcode` against the devplane, as an agent or a person runs it:
//! login (the consent page driven as a browser would), list, connect with
//! --start --wait, exec, context, put and get, a forward to a dev server,
//! config-ssh with the real ssh, the status line, disconnect; then the
//! devplane stops and nothing it or the CLI started is left running. Last,
//! one session against a devplane that certifies keys instead.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use runcode_e2e::serve::Server;
use serde_json::Value;

use super::{indent, step};
use crate::plane;
use crate::stage;

struct Session<'a> {
    shim: &'a Path,
    home: PathBuf,
    env: Vec<(&'static str, String)>,
}

impl Session<'_> {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.shim);
        c.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs `runcode <args>`, echoing the command and its output.
    fn show(&self, args: &[&str]) -> Result<Output, String> {
        println!("    $ runcode {}", args.join(" "));
        let out = self.cmd(args).output().map_err(|e| e.to_string())?;
        print!("{}", indent(&String::from_utf8_lossy(&out.stderr)));
        print!("{}", indent(&String::from_utf8_lossy(&out.stdout)));
        if out.status.success() {
            Ok(out)
        } else {
            Err(format!(
                "runcode {} failed ({})",
                args.join(" "),
                out.status
            ))
        }
    }

    fn json(&self, args: &[&str]) -> Result<Value, String> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.show(&all)?;
        serde_json::from_slice(&out.stdout).map_err(|e| format!("runcode {}: {e}", args.join(" ")))
    }
}

fn get(url: &str) -> Result<(u16, String), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).call().map_err(|e| format!("{url}: {e}"))?;
    Ok((
        r.status().as_u16(),
        r.body_mut().read_to_string().unwrap_or_default(),
    ))
}

pub fn run(dir: &Path, staged: &stage::Staged, release: &Server) -> Result<(), String> {
    let data = dir.join("devplane");
    let home = dir.join("home");
    for d in [&data, &home] {
        let _ = std::fs::remove_dir_all(d);
    }
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;

    step(
        5,
        "a local control plane whose workspaces are real sshd servers",
    );
    let plane = plane::start(&data, &["--boot-delay", "3"])?;
    let ready = plane.ready.clone();
    let api = ready["api_base"].as_str().unwrap_or_default().to_owned();
    println!("    api and web {api}, data {}", data.display());
    let s = Session {
        shim: &staged.shim,
        home: home.clone(),
        env: vec![
            ("RUNCODE_API_BASE", api.clone()),
            ("RUNCODE_WEB_BASE", api.clone()),
            ("RUNCODE_DOWNLOAD_BASE", release.url("")),
            (
                "RUNCODE_CACHE",
                home.join(".cache/runcode").display().to_string(),
            ),
        ],
    };

    step(
        6,
        "log in: the CLI waits on a loopback port; the browser authorizes",
    );
    println!("    $ runcode login --no-browser");
    let mut login = s
        .cmd(&["login", "--no-browser"])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut err = BufReader::new(login.stderr.take().expect("stderr"));
    let url = loop {
        let mut l = String::new();
        if err.read_line(&mut l).map_err(|e| e.to_string())? == 0 {
            return Err("login printed no URL".to_owned());
        }
        print!("    {l}");
        if let Some(i) = l.find("http://") {
            break l[i..].trim().to_owned();
        }
    };
    let (status, page) = get(&url)?;
    println!(
        "    (browser) consent page: {status}, {}",
        if page.contains("Authorize") {
            "Authorize button"
        } else {
            "?"
        }
    );
    let (status, done) = get(&url.replace("/auth/cli-login/?", "/auth/cli-login/authorize?"))?;
    println!(
        "    (browser) Authorize -> callback: {status} {}",
        done.lines().last().unwrap_or("").trim()
    );
    let out = login.wait_with_output().map_err(|e| e.to_string())?;
    print!("{}", indent(&String::from_utf8_lossy(&out.stdout)));
    if !out.status.success() {
        return Err("login failed".to_owned());
    }

    step(7, "the workspaces this account can reach over SSH");
    s.show(&["list"])?;

    step(
        8,
        "connect: power #1002 on, mint a throwaway key, wait for ssh",
    );
    let session = s.json(&["connect", "Project 2", "--start", "--wait"])?;
    let workdir = session["workdir"].as_str().unwrap_or_default().to_owned();

    step(
        9,
        "run commands there (exit status and streams are the remote's own)",
    );
    s.show(&["exec", "--", "echo", "hello from $(hostname) in $(pwd)"])?;
    let status = s
        .cmd(&["exec", "--", "exit", "3"])
        .status()
        .map_err(|e| e.to_string())?;
    println!(
        "    $ runcode exec -- exit 3   ->  exit status {}",
        status.code().unwrap_or(-1)
    );
    if status.code() != Some(3) {
        return Err("exec must pass the remote status on".to_owned());
    }

    step(
        10,
        "orient: one round trip for OS, git, project markers, tools",
    );
    s.show(&["context"])?;

    step(11, "move files: put, get back, compare");
    let local = dir.join("demo-file.txt");
    std::fs::write(&local, "written on this machine\n").map_err(|e| e.to_string())?;
    s.show(&["put", &local.display().to_string(), "notes/demo-file.txt"])?;
    let back = s
        .cmd(&["get", "notes/demo-file.txt"])
        .output()
        .map_err(|e| e.to_string())?;
    println!(
        "    $ runcode get notes/demo-file.txt\n    {}",
        String::from_utf8_lossy(&back.stdout).trim()
    );
    if back.stdout != std::fs::read(&local).map_err(|e| e.to_string())? {
        return Err("get did not bring the same bytes back".to_owned());
    }

    step(
        12,
        "a dev server on the workspace, reached through a forward",
    );
    std::fs::write(
        Path::new(&workdir).join("index.html"),
        "served from the workspace\n",
    )
    .map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    s.show(&[
        "exec",
        "--",
        &format!("(python3 -m http.server {port} --bind 127.0.0.1 &) </dev/null >/dev/null 2>&1"),
    ])?;
    let fwd = s.json(&["forward", &port.to_string()])?;
    let url = format!(
        "{}/index.html",
        fwd["url"]
            .as_str()
            .unwrap_or_default()
            .replace("localhost", "127.0.0.1")
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        if let Ok((200, body)) = get(&url) {
            break body;
        }
        if Instant::now() > deadline {
            return Err("the forward never answered".to_owned());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    println!("    GET {url} -> {}", body.trim());
    s.show(&[
        "exec",
        "--",
        &format!("pkill -f 'http[.]server {port}'; true"),
    ])?;

    step(13, "editors and your own tools: config-ssh, then plain ssh");
    s.show(&["config-ssh"])?;
    s.show(&["open", "Project 2", "--editor", "vscode", "--print"])?;
    let title = ready["workspaces"][1]["title"].as_str().unwrap_or_default();
    let out = Command::new("ssh")
        .arg("-F")
        .arg(home.join(".ssh/config"))
        .args([
            "-o",
            "BatchMode=yes",
            &format!("runcode.{title}"),
            "echo ok from $(pwd)",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home)
        .envs(s.env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    println!(
        "    $ ssh runcode.{title} 'echo ok from $(pwd)'\n    {}",
        String::from_utf8_lossy(&out.stdout).trim()
    );
    if !out.status.success() {
        return Err(format!(
            "ssh through the managed block failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    step(14, "the status line Claude Code would show");
    s.show(&["statusline", "--plain"])?;

    step(
        15,
        "detach (the workspace keeps running), then shut the devplane down",
    );
    s.show(&["config-ssh", "--remove"])?;
    s.show(&["disconnect"])?;
    drop(plane);
    nothing_left(&data, &home)?;
    certificates(dir, staged, release)
}

/// Fails when a process that names `data` or `home` still runs.
fn nothing_left(data: &Path, home: &Path) -> Result<(), String> {
    let left =
        runcode_e2e::procs::mentioning(&[&data.display().to_string(), &home.display().to_string()]);
    if !left.is_empty() {
        return Err(format!("processes left behind: {left:?}"));
    }
    println!("    nothing left running");
    Ok(())
}

/// Step 16: the same CLI against a devplane that signs keys instead of
/// listing them: its gateways trust only a user CA and present host
/// certificates.
fn certificates(dir: &Path, staged: &stage::Staged, release: &Server) -> Result<(), String> {
    step(
        16,
        "the day the backend signs keys: a certificate session, nothing to change",
    );
    let data = dir.join("devplane-certificates");
    let home = dir.join("home-certificates");
    for d in [&data, &home] {
        let _ = std::fs::remove_dir_all(d);
    }
    std::fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let plane = plane::start(&data, &["--boot-delay", "0", "--credential", "certificate"])?;
    let api = plane.ready["api_base"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token = plane.ready["token"].as_str().unwrap_or_default().to_owned();
    let s = Session {
        shim: &staged.shim,
        home: home.clone(),
        env: vec![
            ("RUNCODE_API_BASE", api.clone()),
            ("RUNCODE_WEB_BASE", api),
            ("RUNCODE_TOKEN", token),
            ("RUNCODE_DOWNLOAD_BASE", release.url("")),
            (
                "RUNCODE_CACHE",
                home.join(".cache/runcode").display().to_string(),
            ),
        ],
    };
    s.show(&["connect", "1001"])?;
    let session = home.join(".cache/runcode/ws-1001");
    let known = std::fs::read_to_string(session.join("known_hosts")).map_err(|e| e.to_string())?;
    println!(
        "    pinned: {}",
        known.trim().split(" AAAA").next().unwrap_or("")
    );
    let listed = Command::new("ssh-keygen")
        .arg("-L")
        .arg("-f")
        .arg(session.join("id_ed25519-cert.pub"))
        .output()
        .map_err(|e| e.to_string())?;
    let listed = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = listed.lines().map(str::trim).collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("Type:") || line.starts_with("Valid:") {
            println!("    certificate {line}");
        } else if line.starts_with("Principals:") {
            println!("    certificate {line} {}", lines.get(i + 1).unwrap_or(&""));
        }
    }
    if !listed.contains("user certificate") {
        return Err("the session holds no user certificate".to_owned());
    }
    s.show(&["exec", "--", "echo", "hello with a certificate from $(pwd)"])?;
    s.show(&["disconnect"])?;
    drop(plane);
    nothing_left(&data, &home)?;
    Ok(())
}
