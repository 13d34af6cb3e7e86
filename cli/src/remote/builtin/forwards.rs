//! Forwards over the builtin transport. The session's keeper (`runcode
//! keep-forwards <id>`, as for OpenSSH) holds one connection of its own and
//! a listener on 127.0.0.1 for each recorded forward; each connection a
//! listener accepts is one `direct-tcpip` channel to the workspace port.
//! Once a second it reads the record again (a forward added or cancelled
//! takes effect within that second), and opens a new connection when the
//! last one died (the keepalives notice a dead link within 15 s); the
//! listeners stay, so a forward comes back by itself. It writes the local
//! ports it listens on, and whether its connection is up, to `forwards.up`,
//! which `forward` and `forward --list` read. It ends with the last forward
//! or the session.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::client::Handle;
use tokio::sync::RwLock;

use super::Client;
use crate::paths::{self, Paths};
use crate::session;

/// The keeper's report beside the record: one `up` or `down` line for its
/// connection, then one line per local port it listens on.
pub const UP: &str = "forwards.up";

type Shared = Arc<RwLock<Option<Arc<Handle<Client>>>>>;

/// One recorded forward: the local port, the host the workspace connects
/// to, and its port.
pub type Forward = (u16, String, u16);

/// What reads a session's recorded forwards (`remote::forwards`).
pub type Record = fn(&session::Session) -> Vec<Forward>;

/// The keeper's loop over the builtin transport; its exit status.
pub fn keep(paths: &Paths, id: u64, recorded: Record) -> i32 {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 1;
    };
    runtime.block_on(keep_async(paths, id, recorded));
    runtime.shutdown_timeout(Duration::from_millis(100));
    0
}

async fn keep_async(paths: &Paths, id: u64, recorded: Record) {
    let dir = paths.session_dir(id);
    let shared: Shared = Arc::new(RwLock::new(None));
    let mut listening: HashMap<(u16, String, u16), tokio::task::JoinHandle<()>> = HashMap::new();
    while let Some(s) = session::load(paths, id) {
        let list = recorded(&s);
        if list.is_empty() || s.seconds_left() <= 0 {
            break;
        }
        let dead = shared.read().await.as_ref().is_none_or(|h| h.is_closed());
        if dead {
            let mut said = super::Said::new(None);
            let fresh = super::connect(&dir, None, &mut said).await.map(Arc::new);
            *shared.write().await = fresh;
        }
        // A cancelled forward's listener is closed before the report says
        // so: an aborted task is dropped only when the runtime next runs it.
        let cancelled: Vec<_> = listening
            .keys()
            .filter(|key| !list.contains(key))
            .cloned()
            .collect();
        for key in cancelled {
            if let Some(task) = listening.remove(&key) {
                task.abort();
                let _ = task.await;
            }
        }
        for f in &list {
            if listening.contains_key(f) {
                continue;
            }
            if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", f.0)).await {
                listening.insert(
                    f.clone(),
                    tokio::spawn(serve(listener, f.clone(), Arc::clone(&shared))),
                );
            }
        }
        let up = shared.read().await.as_ref().is_some_and(|h| !h.is_closed());
        let mut report = String::from(if up { "up\n" } else { "down\n" });
        for (local, _, _) in listening.keys() {
            report.push_str(&format!("{local}\n"));
        }
        let _ = paths::write_private(&dir.join(UP), report.as_bytes(), 0o600);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    for task in listening.values() {
        task.abort();
    }
    let _ = std::fs::remove_file(dir.join(UP));
    if let Some(h) = shared.write().await.take() {
        let _ = h
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Accepts on `listener` for forward `f`: each connection is a
/// `direct-tcpip` channel on the current connection, the bytes copied both
/// ways until either side ends.
async fn serve(listener: tokio::net::TcpListener, f: Forward, shared: Shared) {
    loop {
        let Ok((mut sock, peer)) = listener.accept().await else {
            continue;
        };
        let handle = shared.read().await.clone();
        let to = f.1.clone();
        let port = u32::from(f.2);
        tokio::spawn(async move {
            let Some(handle) = handle else { return };
            let Ok(channel) = handle
                .channel_open_direct_tcpip(to, port, "127.0.0.1", u32::from(peer.port()))
                .await
            else {
                return;
            };
            let mut stream = channel.into_stream();
            let _ = tokio::io::copy_bidirectional(&mut sock, &mut stream).await;
        });
    }
}

/// The keeper's last report: whether its connection is up, and the local
/// ports it listens on.
pub fn report(session_dir: &Path) -> Option<(bool, Vec<u16>)> {
    let text = std::fs::read_to_string(session_dir.join(UP)).ok()?;
    let mut lines = text.lines();
    let up = lines.next()? == "up";
    Some((
        up,
        lines.filter_map(|l| l.trim().parse::<u16>().ok()).collect(),
    ))
}
