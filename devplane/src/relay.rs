//! The network between a client and a workspace's gateway, with its faults
//! on demand. Each running workspace's bundle names a relay on loopback
//! that passes bytes to its sshd; `/_dev/link` makes that path behave as a
//! real one does on a bad day:
//!
//! - `delay_ms`: a round trip of that many milliseconds (half each way),
//!   bytes kept in order and throughput kept (a pipeline, not a pause);
//! - `freeze`: the connections open now stop passing bytes, with no FIN or
//!   RST (a laptop that slept, a NAT that forgot the flow); new ones work;
//!   `thaw` lets them go on;
//! - `reset`: the connections open now are closed with an RST;
//! - `down`: new connections are accepted and then black-holed (the
//!   gateway unreachable), until `down` is false again.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The faults in force, as `/_dev/link` sets and reports them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkState {
    pub delay_ms: u64,
    pub down: bool,
    /// Connections opened so far (each one's number is its order).
    pub opened: u64,
    /// Connections numbered below this are frozen.
    frozen_below: u64,
    /// Connections numbered below this are reset.
    reset_below: u64,
    /// The relay is gone: every connection ends.
    #[serde(skip)]
    closed: bool,
}

impl LinkState {
    fn frozen(&self, n: u64) -> bool {
        n < self.frozen_below
    }

    fn ended(&self, n: u64) -> bool {
        self.closed || n < self.reset_below
    }
}

/// A change asked through `/_dev/link`; absent fields change nothing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Change {
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub freeze: bool,
    #[serde(default)]
    pub thaw: bool,
    #[serde(default)]
    pub reset: bool,
    pub down: Option<bool>,
}

/// One relay: a listener on loopback and the connections it passes on.
pub struct Relay {
    pub port: u16,
    state: watch::Sender<LinkState>,
    accept: JoinHandle<()>,
}

impl Relay {
    /// Listens on a free loopback port and passes each connection to
    /// `127.0.0.1:<target>`.
    pub async fn start(target: u16) -> std::io::Result<Relay> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let (state, _) = watch::channel(LinkState::default());
        let accepting = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut n = 0;
                accepting.send_modify(|s| {
                    n = s.opened;
                    s.opened += 1;
                });
                let down = accepting.borrow().down;
                tokio::spawn(connection(client, target, n, down, accepting.subscribe()));
            }
        });
        Ok(Relay {
            port,
            state,
            accept,
        })
    }

    /// Applies `change` and answers the state now in force.
    pub fn apply(&self, change: &Change) -> LinkState {
        self.state.send_modify(|s| {
            if let Some(ms) = change.delay_ms {
                s.delay_ms = ms;
            }
            if change.freeze {
                s.frozen_below = s.opened;
            }
            if change.thaw {
                s.frozen_below = 0;
            }
            if change.reset {
                s.reset_below = s.opened;
            }
            if let Some(down) = change.down {
                s.down = down;
            }
        });
        self.state.borrow().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accept.abort();
        self.state.send_modify(|s| s.closed = true);
    }
}

/// Passes one connection on until either side ends it or a fault does.
async fn connection(
    client: TcpStream,
    target: u16,
    n: u64,
    down: bool,
    mut state: watch::Receiver<LinkState>,
) {
    if down {
        // Black-holed: held open, never answered, until the relay goes.
        let _ = state.wait_for(|s| s.ended(n)).await;
        return;
    }
    let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client, server) = (Arc::new(client), Arc::new(server));
    let pumps = futures_join(
        pump(Arc::clone(&client), Arc::clone(&server), n, state.clone()),
        pump(Arc::clone(&server), Arc::clone(&client), n, state.clone()),
    );
    let ended = state.wait_for(|s| s.ended(n));
    tokio::select! {
        _ = pumps => {}
        _ = ended => {
            // An RST rather than a FIN: the peer sees its connection reset.
            // (A zero linger never blocks the close.)
            for stream in [&client, &server] {
                let _ = rustix::net::sockopt::set_socket_linger(&**stream, Some(Duration::ZERO));
            }
        }
    }
}

async fn futures_join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    tokio::join!(a, b);
}

/// Bytes from `from` to `to`, each chunk held for half the round trip, and
/// held for as long as the connection is frozen.
async fn pump(from: Arc<TcpStream>, to: Arc<TcpStream>, n: u64, state: watch::Receiver<LinkState>) {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(64);
    let delays = state.clone();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if from.readable().await.is_err() {
                break;
            }
            match from.try_read(&mut buf) {
                Ok(0) => break,
                Ok(got) => {
                    let half = Duration::from_millis(delays.borrow().delay_ms / 2);
                    if tx
                        .send((Instant::now() + half, buf[..got].to_vec()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
    };
    let mut gate = state;
    let writer = async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if gate.wait_for(|s| !s.frozen(n)).await.is_err() {
                return;
            }
            if write_all(&to, &bytes).await.is_err() {
                return;
            }
        }
        // The sender finished: pass its FIN on.
        let _ = rustix::net::shutdown(&*to, rustix::net::Shutdown::Write);
    };
    tokio::join!(reader, writer);
}

async fn write_all(to: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        to.writable().await?;
        match to.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
