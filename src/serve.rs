//! A loopback HTTP/1.1 file server for tests and the demo, standing in for a
//! release host. It serves a directory and can be told, per path, to answer
//! with a status, redirect, cut a body short, or stall mid-body.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How to answer requests for one path.
#[derive(Debug, Clone)]
pub enum Rule {
    /// Answer with this status (and `Retry-After` when given) the next
    /// `times` requests, then serve normally.
    Status {
        status: u16,
        times: usize,
        retry_after: Option<u64>,
    },
    /// Redirect (302) to this location.
    Redirect(String),
    /// Promise the whole file, send `after` bytes, then close the connection.
    Cut { after: usize },
    /// Send `after` bytes, then hold the connection open until the server stops.
    Stall { after: usize },
}

#[derive(Default)]
struct State {
    rules: HashMap<String, Rule>,
    log: Vec<String>,
    stalled: usize,
}

struct Shared {
    root: PathBuf,
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

pub struct Server {
    port: u16,
    shared: Arc<Shared>,
}

impl Server {
    /// Serves `root` on `127.0.0.1` at a free port.
    pub fn start(root: &Path) -> Server {
        Server::start_on(root, 0)
    }

    pub fn start_on(root: &Path, port: u16) -> Server {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            root: root.to_path_buf(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let accept = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn = Arc::clone(&accept);
                std::thread::spawn(move || {
                    let _ = handle(&conn, stream);
                });
            }
        });
        Server { port, shared }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`, plus `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn rule(&self, path: &str, rule: Rule) {
        self.shared
            .state
            .lock()
            .unwrap()
            .rules
            .insert(path.to_owned(), rule);
    }

    /// Every request path seen so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().log.clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|p| p.as_str() == path)
            .count()
    }

    /// Waits until a `Stall` rule has sent its bytes and is holding on.
    pub fn wait_stalled(&self, timeout: Duration) -> bool {
        let state = self.shared.state.lock().unwrap();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| s.stalled == 0)
            .unwrap();
        state.stalled > 0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so its thread ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("/").to_owned(),
    );
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
    }
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let rule = {
        let mut state = shared.state.lock().unwrap();
        state.log.push(path.clone());
        let rule = state.rules.get(&path).cloned();
        if let Some(Rule::Status {
            status,
            times,
            retry_after,
        }) = rule.clone()
        {
            if times <= 1 {
                state.rules.remove(&path);
            } else {
                state.rules.insert(
                    path.clone(),
                    Rule::Status {
                        status,
                        times: times - 1,
                        retry_after,
                    },
                );
            }
        }
        rule
    };
    let mut out = stream;
    match rule {
        Some(Rule::Status {
            status,
            retry_after,
            ..
        }) => {
            let extra = retry_after
                .map(|s| format!("Retry-After: {s}\r\n"))
                .unwrap_or_default();
            return respond(&mut out, status, &extra, b"");
        }
        Some(Rule::Redirect(location)) => {
            return respond(&mut out, 302, &format!("Location: {location}\r\n"), b"");
        }
        _ => {}
    }
    let Some(file) = resolve(&shared.root, &path) else {
        return respond(&mut out, 404, "", b"not found\n");
    };
    let Ok(body) = std::fs::read(&file) else {
        return respond(&mut out, 404, "", b"not found\n");
    };
    if method == "HEAD" {
        return write_head(&mut out, 200, "", body.len());
    }
    match rule {
        Some(Rule::Cut { after }) => {
            write_head(&mut out, 200, "", body.len())?;
            out.write_all(&body[..after.min(body.len())])?;
            out.flush()?;
            out.shutdown(Shutdown::Both)
        }
        Some(Rule::Stall { after }) => {
            write_head(&mut out, 200, "", body.len())?;
            out.write_all(&body[..after.min(body.len())])?;
            out.flush()?;
            shared.state.lock().unwrap().stalled += 1;
            shared.changed.notify_all();
            while !shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(())
        }
        _ => respond(&mut out, 200, "", &body),
    }
}

/// Maps a request path into `root`, refusing anything that would leave it.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|seg| seg == "..") {
        return None;
    }
    let decoded = rel.replace("%20", " ");
    let file = root.join(decoded);
    file.is_file().then_some(file)
}

fn write_head(out: &mut TcpStream, status: u16, extra: &str, len: usize) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Length: {len}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n{extra}\r\n",
        reason(status)
    );
    out.write_all(head.as_bytes())
}

fn respond(out: &mut TcpStream, status: u16, extra: &str, body: &[u8]) -> std::io::Result<()> {
    write_head(out, status, extra, body.len())?;
    out.write_all(body)?;
    out.flush()?;
    // Drain anything left so closing does not reset the connection early.
    let _ = out.shutdown(Shutdown::Write);
    let mut sink = [0u8; 512];
    out.set_read_timeout(Some(Duration::from_millis(200)))?;
    while matches!(out.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
