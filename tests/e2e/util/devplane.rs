//! A devplane per test: the real `runcode-devplane serve` on a temporary data
//! dir and a free port, read from its ready line, stopped with SIGTERM when
//! the test ends. Plus the plain-HTTP and OpenSSH helpers the suites use.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use runcode_e2e::plane::Plane;
use serde_json::Value;

pub struct Devplane {
    plane: Option<Plane>,
    pub api: String,
    pub token: String,
    pub data_dir: PathBuf,
    pub ready: Value,
    /// Keeps the temporary directory alive as long as the devplane.
    _tmp: Option<tempfile::TempDir>,
}

impl Devplane {
    /// Starts a devplane with `args` after `serve` on a fresh data dir.
    pub fn start(args: &[&str]) -> Devplane {
        let tmp = tempfile::Builder::new()
            .prefix("rc-dp-")
            .tempdir()
            .expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut dp = Devplane::start_in(&data_dir, args);
        dp._tmp = Some(tmp);
        dp
    }

    /// Starts a devplane on an existing data dir (a restart).
    pub fn start_in(data_dir: &Path, args: &[&str]) -> Devplane {
        Devplane::spawn(
            Command::new(super::built("runcode-devplane")),
            data_dir,
            args,
        )
    }

    /// Starts a devplane as the ordinary user `user` (the caller is root).
    pub fn start_as(user: &str, args: &[&str]) -> Devplane {
        let tmp = tempfile::Builder::new()
            .prefix("rc-dp-")
            .tempdir()
            .expect("tempdir");
        let data_dir = tmp.path().join("data");
        let status = Command::new("chown")
            .arg(user)
            .arg(tmp.path())
            .status()
            .unwrap();
        assert!(status.success());
        // setpriv execs the devplane (runuser would stay as its parent and
        // get the signals meant for it).
        let gid = Command::new("id").args(["-g", user]).output().unwrap();
        let gid = String::from_utf8(gid.stdout).unwrap();
        let mut setpriv = Command::new("setpriv");
        setpriv
            .arg(format!("--reuid={user}"))
            .arg(format!("--regid={}", gid.trim()))
            .arg("--clear-groups")
            .arg("--")
            .arg(super::built("runcode-devplane"));
        let mut dp = Devplane::spawn(setpriv, &data_dir, args);
        dp._tmp = Some(tmp);
        dp
    }

    fn spawn(command: Command, data_dir: &Path, args: &[&str]) -> Devplane {
        let mut all = vec!["--port", "0"];
        all.extend_from_slice(args);
        let plane = Plane::spawn(command, data_dir, &all).expect("start runcode-devplane");
        Devplane {
            api: plane.api(),
            token: plane.token(),
            data_dir: data_dir.to_path_buf(),
            ready: plane.ready.clone(),
            plane: Some(plane),
            _tmp: None,
        }
    }

    /// The devplane's pid while it runs.
    pub fn pid(&self) -> u32 {
        self.plane.as_ref().and_then(Plane::pid).expect("running")
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut plane = self.plane.take().expect("running");
        plane.stop().unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// A request with the token; the status is returned, never an error.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        call(method, &self.url(path), Some(&self.token), body)
    }

    pub fn get(&self, path: &str) -> Value {
        let (status, body) = self.call("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self.call("POST", path, Some(body));
        assert!(
            (200..300).contains(&status),
            "POST {path}: {status} {answer}"
        );
        answer
    }

    /// The workspace `id` as listed (active or shared).
    pub fn workspace(&self, id: u64) -> Value {
        for category in ["active", "shared"] {
            let list = self.get(&format!("/api/rc/workspaces?category={category}"));
            if let Some(ws) = list["data"]["workspaces"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["id"] == id)
            {
                return ws.clone();
            }
        }
        panic!("no workspace {id}");
    }

    pub fn state(&self, id: u64) -> String {
        let ws = self.workspace(id);
        let interim = ws["interim_state"].as_str().unwrap_or("");
        let state = if interim.is_empty() {
            ws["current_state"].as_str().unwrap()
        } else {
            interim
        };
        state.to_lowercase()
    }

    pub fn wait_state(&self, id: u64, want: &str) {
        crate::util::wait_until(
            &format!("workspace {id} is {want}"),
            Duration::from_secs(30),
            || self.state(id) == want,
        );
    }

    /// Mints a session for a fresh key; answers the bundle.
    pub fn mint(&self, id: u64, key: &Key, ttl: u64) -> Value {
        let body = serde_json::json!({"public_key": key.public, "ttl": ttl, "client": "tests"});
        self.post(&format!("/api/rc/workspace/{id}/ssh-session"), body)["bundle"].clone()
    }

    /// The gateway's sshd pid and port (test control).
    pub fn gateway(&self, id: u64) -> Value {
        self.get(&format!("/_dev/gateway/{id}"))
    }

    pub fn mints(&self) -> u64 {
        self.get("/_dev/requests")["mints"].as_u64().unwrap()
    }
}

pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    try_call(method, url, token, body).expect("request")
}

/// `call`, with a failed connection as `None`.
pub fn try_call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Option<(u16, Value)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut req = http_request(method, url);
    if let Some(token) = token {
        req = req.header("Authorization", format!("Token {token}"));
    }
    let req = req
        .header("Accept", "application/json")
        .header("Content-Type", "application/json");
    let body_text = body.map(|b| b.to_string()).unwrap_or_default();
    let request = req.body(body_text).unwrap();
    let mut response = agent.run(request).ok()?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Some((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

fn http_request(method: &str, url: &str) -> ureq::http::request::Builder {
    ureq::http::Request::builder().method(method).uri(url)
}

/// An ed25519 key made by the real `ssh-keygen`.
pub struct Key {
    pub path: PathBuf,
    pub public: String,
}

impl Key {
    pub fn new(dir: &Path) -> Key {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join("id_ed25519");
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ssh-keygen: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let public = std::fs::read_to_string(path.with_extension("pub"))
            .unwrap()
            .trim()
            .to_owned();
        Key { path, public }
    }
}

/// `ssh` options that pin the bundle's host key and offer only `key`.
pub fn ssh_opts(bundle: &Value, key: &Key, dir: &Path) -> Vec<String> {
    let known = dir.join("known_hosts");
    std::fs::write(
        &known,
        format!("{}\n", bundle["known_hosts"].as_str().unwrap()),
    )
    .unwrap();
    vec![
        "-i".into(),
        key.path.display().to_string(),
        "-o".into(),
        "IdentitiesOnly=yes".into(),
        "-o".into(),
        "StrictHostKeyChecking=yes".into(),
        "-o".into(),
        format!("UserKnownHostsFile={}", known.display()),
        "-o".into(),
        "GlobalKnownHostsFile=/dev/null".into(),
        "-o".into(),
        "BatchMode=yes".into(),
        "-o".into(),
        "ConnectTimeout=10".into(),
        "-F".into(),
        "/dev/null".into(),
    ]
}

/// Runs `command` on the workspace over real ssh.
pub fn ssh(bundle: &Value, key: &Key, dir: &Path, command: &str) -> Output {
    Command::new("ssh")
        .args(ssh_opts(bundle, key, dir))
        .arg("-p")
        .arg(bundle["port"].to_string())
        .arg(format!(
            "{}@{}",
            bundle["user"].as_str().unwrap(),
            bundle["host"].as_str().unwrap()
        ))
        .arg(command)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh")
}

/// Every process whose command line mentions `needle`.
pub fn processes_mentioning(needle: &Path) -> Vec<String> {
    runcode_e2e::procs::mentioning(&[&needle.display().to_string()])
}

pub fn pid_alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}
