//! `runcode proxy <id>`: the ProxyCommand of the managed ssh hosts. Under a
//! per-workspace lock (so editors opening many connections mint at most
//! once) it reuses or renews the session, pins the gateway's host key for
//! the host entry, then relays raw bytes between stdin/stdout and the
//! gateway. stdout carries nothing but SSH; it exits as soon as either side
//! closes.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::sshconfig::synthetic_host;
use crate::session::{self, Policy, Session};
use crate::{paths, plane::bundle};

pub const POLICY: Policy = Policy::Proxy;

pub fn run(ctx: &Ctx, flags: SessionFlags, arg: &str) -> Result<i32> {
    if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "proxy takes a numeric workspace id, not {:?}",
            crate::text::clean(arg, false)
        )));
    }
    let id: u64 = arg
        .parse()
        .map_err(|_| Error::Usage(format!("{arg} is not a workspace id")))?;
    let s = locked_session(ctx, flags, id)?;
    let stream = connect(&s.meta.host, s.meta.port).map_err(|e| {
        let what = format!(
            "cannot reach the gateway of #{id} at {}:{}: {e}",
            s.meta.host, s.meta.port
        );
        if crate::plane::api::blocked_socket(&e) {
            Error::NetworkBlocked(crate::plane::api::blocked_message(&what))
        } else {
            Error::Network(what)
        }
    })?;
    relay(stream)
}

/// A TCP connection to the gateway within the managed hosts' connect
/// timeout, whichever of its addresses answers first in order.
fn connect(host: &str, port: u16) -> std::io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let timeout = std::time::Duration::from_secs(crate::remote::sshconfig::CONNECT_TIMEOUT.into());
    let mut last = std::io::Error::other("the name has no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn locked_session(ctx: &Ctx, flags: SessionFlags, id: u64) -> Result<Session> {
    let (s, _) = session::acquire(ctx, id, flags.request(POLICY))?;
    pin(ctx, &s)?;
    Ok(s)
}

/// Writes the gateway's host keys under the synthetic host name the managed
/// block gives ssh, so StrictHostKeyChecking can hold.
fn pin(ctx: &Ctx, s: &Session) -> Result<()> {
    let dir = ctx.paths.session_dir(s.meta.ws_id);
    let known = std::fs::read_to_string(dir.join("known_hosts"))
        .map_err(Error::io(dir.join("known_hosts")))?;
    let host = synthetic_host(s.meta.ws_id);
    // Host keys and gateway CAs alike, pinned to the synthetic name.
    let pins: String = known
        .lines()
        .filter_map(|l| {
            let (marker, rest) = match l.strip_prefix("@cert-authority ") {
                Some(rest) => ("@cert-authority ", rest),
                None => ("", l),
            };
            let line = bundle::normalise_known_hosts(rest);
            let (_, key) = line.trim_end().split_once(' ')?;
            Some(format!("{marker}{host} {key}\n"))
        })
        .collect();
    paths::write_private(
        &crate::remote::sshconfig::pins_file(&dir),
        pins.as_bytes(),
        0o600,
    )
}

/// Copies bytes both ways until either side closes, then exits the process
/// at once (a thread blocked on stdin must not keep it alive).
fn relay(stream: TcpStream) -> Result<i32> {
    let mut from_gateway = stream.try_clone().map_err(Error::io("gateway"))?;
    let mut to_gateway = stream;
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let _ = std::io::copy(&mut stdin, &mut to_gateway);
        let _ = to_gateway.shutdown(std::net::Shutdown::Write);
        std::process::exit(0);
    });
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from_gateway.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    std::process::exit(0);
}
