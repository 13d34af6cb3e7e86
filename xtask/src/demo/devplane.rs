//! Demo, part two: a workspace on the devplane. Start the devplane, list the
//! workspaces, power one on, register a throwaway key for a short window,
//! reach the workspace with the real ssh and its pinned host key, stop it,
//! and shut the devplane down leaving no sshd behind.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{indent, step};
use crate::sh;

struct Plane {
    child: Child,
    api: String,
    token: String,
}

impl Drop for Plane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Plane {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.api))
            .header("Authorization", format!("Token {}", self.token))
            .header("Content-Type", "application/json")
            .body(body.map(|b| b.to_string()).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let mut response = agent
            .run(request)
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    fn state(&self, id: u64) -> Result<String, String> {
        let (_, list) = self.call("GET", "/api/rc/workspaces?category=active", None)?;
        let ws = list["data"]["workspaces"]
            .as_array()
            .and_then(|l| l.iter().find(|w| w["id"] == id))
            .cloned();
        let ws = ws.ok_or_else(|| format!("workspace {id} is not listed"))?;
        let interim = ws["interim_state"].as_str().unwrap_or("");
        Ok(if interim.is_empty() {
            ws["current_state"].as_str().unwrap_or("")
        } else {
            interim
        }
        .to_lowercase())
    }
}

pub fn run(dir: &Path) -> Result<(), String> {
    sh::run(sh::cargo().args(["build", "--quiet", "--release", "-p", "runcode-devplane"]))?;
    crate::prereq::openssh()?;
    let data = dir.join("devplane");
    let _ = std::fs::remove_dir_all(&data);

    step(
        5,
        "a local control plane whose workspaces are real sshd servers",
    );
    let mut child = Command::new(sh::root().join("target/release/runcode-devplane"))
        .args(["serve", "--boot-delay", "2", "--data-dir"])
        .arg(&data)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the devplane: {e}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let ready: Value =
        serde_json::from_str(&line).map_err(|e| format!("ready line {line:?}: {e}"))?;
    let plane = Plane {
        child,
        api: ready["api_base"].as_str().unwrap_or_default().to_owned(),
        token: ready["token"].as_str().unwrap_or_default().to_owned(),
    };
    println!("    api {}  data {}", plane.api, data.display());

    step(6, "the account's workspaces");
    for category in ["active", "shared"] {
        let (_, list) = plane.call(
            "GET",
            &format!("/api/rc/workspaces?category={category}"),
            None,
        )?;
        for ws in list["data"]["workspaces"].as_array().into_iter().flatten() {
            println!(
                "    #{} {:<28} {:<10} {:<8} {}",
                ws["id"],
                ws["title"].as_str().unwrap_or(""),
                ws["custom_title"].as_str().unwrap_or(""),
                ws["current_state"].as_str().unwrap_or(""),
                if category == "shared" { "(shared)" } else { "" }
            );
        }
    }

    step(7, "power on #1002 and wait until it runs");
    plane.call("GET", "/api/rc/workspace/start?workspace_id=1002", None)?;
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let state = plane.state(1002)?;
        if state != last {
            println!("    {:>4.1}s  {state}", started.elapsed().as_secs_f64());
            last.clone_from(&state);
        }
        if state == "running" {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("workspace 1002 never started".to_owned());
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    step(8, "a throwaway key, registered for 5 minutes");
    let keys = dir.join("keys");
    let _ = std::fs::remove_dir_all(&keys);
    std::fs::create_dir_all(&keys).map_err(|e| e.to_string())?;
    let key = keys.join("id_ed25519");
    sh::run(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key),
    )?;
    let public = std::fs::read_to_string(key.with_extension("pub")).map_err(|e| e.to_string())?;
    let body = json!({"public_key": public.trim(), "ttl": 300, "client": "demo"});
    let (status, answer) = plane.call("POST", "/api/rc/workspace/1002/ssh-session", Some(body))?;
    if status != 200 {
        return Err(format!("mint failed: {status} {answer}"));
    }
    let bundle = &answer["bundle"];
    println!(
        "    gateway {}:{} as {}, expires {}",
        bundle["host"].as_str().unwrap_or(""),
        bundle["port"],
        bundle["user"].as_str().unwrap_or(""),
        bundle["expires_at"].as_str().unwrap_or("")
    );
    println!(
        "    pinned  {}",
        bundle["known_hosts"].as_str().unwrap_or("")
    );

    step(
        9,
        "ssh into the workspace: host key pinned, only this key offered",
    );
    let known = keys.join("known_hosts");
    std::fs::write(
        &known,
        format!("{}\n", bundle["known_hosts"].as_str().unwrap_or("")),
    )
    .map_err(|e| e.to_string())?;
    let workdir = bundle["workdir"].as_str().unwrap_or("/");
    let out = Command::new("ssh")
        .args([
            "-F",
            "/dev/null",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
        ])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known.display()))
        .arg("-i")
        .arg(&key)
        .arg("-p")
        .arg(bundle["port"].to_string())
        .arg(format!(
            "{}@{}",
            bundle["user"].as_str().unwrap_or(""),
            bundle["host"].as_str().unwrap_or("")
        ))
        .arg(format!(
            "cd '{workdir}' && echo \"cwd: $(pwd)\" && uname -sr"
        ))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    print!("{}", indent(&String::from_utf8_lossy(&out.stdout)));
    if !out.status.success() {
        return Err(format!(
            "ssh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    step(10, "power off: the gateway goes, a new session is refused");
    plane.call("GET", "/api/rc/workspace/stop?workspace_id=1002", None)?;
    let body = json!({"public_key": public.trim(), "ttl": 300});
    let (status, answer) = plane.call("POST", "/api/rc/workspace/1002/ssh-session", Some(body))?;
    println!(
        "    mint -> {status} {}",
        answer["message"].as_str().unwrap_or("")
    );
    if status != 409 {
        return Err("a stopped workspace must refuse a session".to_owned());
    }

    step(11, "shut the devplane down: no sshd is left behind");
    drop(plane);
    let left = processes_mentioning(&data.display().to_string());
    if !left.is_empty() {
        return Err(format!("processes left behind: {left:?}"));
    }
    println!("    no process mentions {}", data.display());
    Ok(())
}

/// Command lines (from /proc) that mention `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .filter(|cmd| cmd.contains(needle))
        .collect()
}
