//! `runcode forward --auto [--exclude PORT]...`: watches the attached
//! workspace's TCP listeners (its `/proc/net/tcp` and `tcp6`, read through
//! the session's master once a second) and forwards each new one to the
//! same local port, or the next free one when that is taken here. Ports
//! already listening when it starts (sshd, say) and excluded ones are left
//! alone. One line per change (one JSON object per line under `--json`); a
//! forward goes when its listener does. Ctrl-C or `disconnect` ends it,
//! taking its forwards out. The forwards are recorded like `forward`'s, so
//! the keeper brings them back after a dropped link. Over the builtin
//! transport the listeners are read through the held connection and each
//! forward is one of the keeper's listeners, as `forward`'s are.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::json;

use crate::cli::SessionFlags;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::forwards::{self, Forward, ensure_master, recorded, save, spec};
use crate::remote::scripts;
use crate::remote::ssh::{Control, Streams};
use crate::session::{self, Session};
use crate::{attach, remote::interrupt};

/// How often the listeners are read.
const EVERY: Duration = Duration::from_secs(1);

/// The ports in LISTEN state (`0A`) in `/proc/net/tcp*` text.
pub fn listening(text: &str) -> BTreeSet<u16> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || fields[3] != "0A" {
                return None;
            }
            let port = fields[1].rsplit(':').next()?;
            u16::from_str_radix(port, 16).ok()
        })
        .filter(|p| *p > 0)
        .collect()
}

/// The most forwards `forward --auto` holds at once (docs/cli.md): a
/// workspace that opens hundreds of listeners gets this many.
pub const MAX_FORWARDS: usize = 32;

/// Ports of well-known services on this machine (databases, caches, queues,
/// remote desktops, container engines). A local client of one of them must
/// never reach the workspace by surprise: `forward --auto` takes one only
/// for the same port on the workspace, never as the next free port.
pub const SERVICE_PORTS: &[u16] = &[
    1433, 1521, 2049, 2181, 2375, 2376, 3306, 3389, 5432, 5672, 5900, 5984, 6379, 6443, 9092, 9200,
    11211, 27017,
];

/// Where the search for a local port starts for workspace `port`: the
/// port itself, or for one below 1024 (which `forward --auto` never takes)
/// the port plus 10000.
fn first_local(port: u16) -> u16 {
    if port < 1024 { port + 10_000 } else { port }
}

/// The local port for workspace `port`: the first one from `first_local`
/// that is free on this machine's loopback, never below 1024, and never a
/// service port other than `port` itself.
fn free_local(port: u16, taken: &BTreeSet<u16>) -> Option<u16> {
    (first_local(port)..=u16::MAX).find(|p| {
        (*p == port || !SERVICE_PORTS.contains(p))
            && !taken.contains(p)
            && std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok()
    })
}

fn read_listeners(s: &Session) -> Option<BTreeSet<u16>> {
    let mut cmd = s
        .ssh()
        .streams(Streams::Quiet)
        .run(scripts::line(scripts::LISTENERS, &[]))
        .command();
    cmd.stdin(std::process::Stdio::null());
    let out = crate::remote::output(cmd, s.meta.ws_id).ok()?;
    out.0.success().then(|| listening(&out.1))
}

pub fn run(ctx: &Ctx, flags: SessionFlags, exclude: &[u16]) -> Result<i32> {
    let id = attach::require(&ctx.paths)?.id;
    let (s, _) = session::acquire(ctx, id, flags.request(crate::remote::forwards::POLICY))?;
    ensure_master(&s)?;
    let _handled = interrupt::handled();
    let before = read_listeners(&s).ok_or_else(|| {
        Error::unreachable(id, "reading its listeners in /proc/net/tcp".to_owned())
    })?;
    let ignored: BTreeSet<u16> = before
        .iter()
        .copied()
        .chain(exclude.iter().copied())
        .collect();
    ctx.out.event(
        &json!({"event": "watching", "workspace_id": id, "ignored": ignored}),
        &format!(
            "watching #{id} for new listening ports (ignoring {}); Ctrl-C stops",
            ignored
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    // Remote port -> local port, for the forwards this command added.
    let mut ours: BTreeMap<u16, u16> = BTreeMap::new();
    // Ports left out for the limit, reported once each.
    let mut left_out: BTreeSet<u16> = BTreeSet::new();
    loop {
        if interrupt::interrupted() || session::load(&ctx.paths, id).is_none() {
            break;
        }
        if let Some(now) = read_listeners(&s) {
            for port in now.difference(&ignored).copied().collect::<Vec<_>>() {
                if ours.contains_key(&port) || left_out.contains(&port) {
                    continue;
                }
                if ours.len() >= MAX_FORWARDS {
                    left_out.insert(port);
                    ctx.out.event(
                        &json!({"event": "skipped", "port": port, "reason": "limit", "limit": MAX_FORWARDS}),
                        &format!("port {port} left out: {MAX_FORWARDS} ports are forwarded already (forward it by hand with `runcode forward {port}`)"),
                    );
                    continue;
                }
                let taken: BTreeSet<u16> = ours.values().copied().collect();
                let Some(local) = free_local(port, &taken) else {
                    continue;
                };
                let forward = Forward {
                    local,
                    to: "localhost".to_owned(),
                    port,
                };
                if let Err(why) = forwards::add(&s, &forward) {
                    ctx.out.event(
                        &json!({"event": "failed", "port": port, "local": local, "message": why}),
                        &format!("could not forward {port}: {why}"),
                    );
                    continue;
                }
                let mut list = recorded(&s);
                list.retain(|f| f.local != local);
                list.push(forward);
                save(&s, &list)?;
                forwards::start_keeper(id);
                if forwards::builtin() && !forwards::listening(&s, local, true) {
                    // The keeper could not listen there (or reach the
                    // workspace): tried again at the next look.
                    list.retain(|f| f.local != local);
                    save(&s, &list)?;
                    ctx.out.event(
                        &json!({"event": "failed", "port": port, "local": local, "message": "the forward's keeper did not start listening within 10 s"}),
                        &format!("could not forward {port}: the forward's keeper did not start listening within 10 s"),
                    );
                    continue;
                }
                ours.insert(port, local);
                let url = format!("http://localhost:{local}");
                let moved = if local == port {
                    String::new()
                } else if port < 1024 {
                    format!(" ({port} is a privileged port here)")
                } else {
                    format!(" ({port} is taken on this machine)")
                };
                ctx.out.event(
                    &json!({"event": "forwarded", "port": port, "local": local, "url": url}),
                    &format!("{url}  ->  port {port} on #{id}{moved}"),
                );
            }
            left_out.retain(|p| now.contains(p));
            let gone: Vec<u16> = ours.keys().copied().filter(|p| !now.contains(p)).collect();
            for port in gone {
                if let Some(local) = ours.remove(&port) {
                    remove(&s, port, local)?;
                    ctx.out.event(
                        &json!({"event": "removed", "port": port, "local": local}),
                        &format!("port {port} stopped listening: localhost:{local} removed"),
                    );
                }
            }
        }
        std::thread::sleep(EVERY);
    }
    if session::load(&ctx.paths, id).is_some() {
        for (port, local) in std::mem::take(&mut ours) {
            let _ = remove(&s, port, local);
        }
    }
    ctx.out.event(
        &json!({"event": "stopped"}),
        "stopped watching; its forwards are removed",
    );
    Ok(0)
}

/// Takes the forward of `port` out of the master and the record (over the
/// builtin transport, out of the record, and waits for the keeper to close
/// its listener).
fn remove(s: &Session, port: u16, local: u16) -> Result<()> {
    if forwards::builtin() {
        let mut list = recorded(s);
        list.retain(|f| !(f.port == port && f.local == local));
        save(s, &list)?;
        forwards::listening(s, local, false);
        return Ok(());
    }
    let forward = Forward {
        local,
        to: "localhost".to_owned(),
        port,
    };
    let spec = spec(&forward);
    let mut cmd = s
        .ssh()
        .control(Control::Cancel(&spec))
        .streams(Streams::Quiet)
        .command();
    crate::remote::interrupt::quiet(&mut cmd);
    let _ = cmd.status();
    let mut list = recorded(s);
    list.retain(|f| !(f.port == port && f.local == local));
    save(s, &list)
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_ports_are_never_privileged_nor_another_service() {
        let taken = std::collections::BTreeSet::new();
        for port in [22u16, 80, 443] {
            let local = super::free_local(port, &taken).unwrap();
            assert!(local >= 1024, "{port} -> {local}");
        }
        // Searching up from 5431 (when it is busy) never lands on 5432.
        let busy: std::collections::BTreeSet<u16> = [5431].into_iter().collect();
        assert_ne!(super::free_local(5431, &busy), Some(5432));
    }

    #[test]
    fn listeners_are_read_from_proc_net_tcp() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:1F91 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000\n";
        assert_eq!(
            super::listening(text).into_iter().collect::<Vec<_>>(),
            vec![22, 8080]
        );
        assert!(super::listening("garbage\n\n").is_empty());
    }
}
