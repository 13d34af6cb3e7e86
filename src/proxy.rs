//! A loopback HTTP CONNECT proxy that records every tunnel it opens. It only
//! ever connects to loopback targets.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

pub struct Proxy {
    port: u16,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start() -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&tunnels);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = Arc::clone(&log);
                std::thread::spawn(move || {
                    let _ = tunnel(stream, &log);
                });
            }
        });
        Proxy { port, tunnels }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `host:port` of every CONNECT seen.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut client = client;
    let loopback = target.starts_with("127.") || target.starts_with("localhost:");
    if method != "CONNECT" || !loopback {
        client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    log.lock().unwrap().push(target.clone());
    let upstream = TcpStream::connect(&target)?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut up_read, mut client_write) = (upstream.try_clone()?, client.try_clone()?);
    let back = std::thread::spawn(move || std::io::copy(&mut up_read, &mut client_write));
    let mut up_write = upstream;
    // Bytes the client sent after the CONNECT head are still in the reader.
    std::io::copy(&mut reader, &mut up_write)?;
    let _ = up_write.shutdown(std::net::Shutdown::Write);
    let _ = back.join();
    Ok(())
}
