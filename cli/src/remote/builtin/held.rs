//! The held connection (docs/sessions.md): one authenticated SSH connection
//! per session, kept by a process of its own (`runcode ssh-builtin
//! --session <dir> --hold`), which runs each command a client sends over
//! the endpoint on a channel of its own, as an OpenSSH master does for its
//! clients. The first command that needs it starts it (or `connect` does);
//! commands that arrive while it connects wait for that connection instead
//! of opening their own.
//!
//! It ends: when asked (`disconnect`, `clean`, `logout` close it as they
//! close a master), when the session's `meta.json` goes or changes, when
//! the session expires, after the master's idle time with no command, and
//! when it cannot connect. A link that dies (keepalives unanswered, R15) is
//! replaced; commands that were on it end with 255 and the CLI's resume
//! rules take over, as with a master that died.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client::Handle;
use tokio::io::AsyncWriteExt;
use tokio::sync::{Notify, watch};

use super::endpoint::{self, Listener, Stream, kind};
use super::{Client, Said, connect};
use crate::remote::sshconfig;
use crate::session::Meta;

/// What the holder's connection is doing.
#[derive(Clone)]
enum Link {
    Connecting,
    Up(Arc<Handle<Client>>),
    Failed(String),
}

struct Shared {
    dir: PathBuf,
    connect_timeout: Option<u64>,
    link: watch::Sender<Link>,
    active: AtomicUsize,
    last_used: Mutex<Instant>,
    exit: AtomicBool,
    wake: Notify,
    token: String,
}

#[derive(serde::Deserialize)]
struct Ask {
    op: String,
    #[serde(default)]
    line: Option<String>,
}

/// Holds session `dir`'s connection until one of the ends in the module's
/// list; 0 (a second holder of the same session ends at once).
pub fn hold(dir: &Path, connect_timeout: Option<u64>) -> i32 {
    let Ok(lock) = crate::paths::lock_file(&dir.join("held.lock")) else {
        return 255;
    };
    if lock.try_lock().is_err() {
        return 0;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 255;
    };
    let code = runtime.block_on(serve_all(dir, connect_timeout));
    runtime.shutdown_timeout(Duration::from_millis(100));
    drop(lock);
    code
}

/// Removes this holder's token and state files, only while they are its
/// own: the session directory may have been replaced meanwhile, with a new
/// holder's files at the same paths.
fn forget(dir: &Path, token: &str) {
    let path = dir.join(endpoint::TOKEN);
    if std::fs::read_to_string(&path).is_ok_and(|t| t.trim() == token) {
        let _ = std::fs::remove_file(path);
    }
    let path = dir.join(endpoint::STATE);
    let pid = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["pid"].as_u64());
    if pid == Some(u64::from(std::process::id())) {
        let _ = std::fs::remove_file(path);
    }
}

fn meta_bytes(dir: &Path) -> Option<Vec<u8>> {
    std::fs::read(dir.join("meta.json")).ok()
}

async fn serve_all(dir: &Path, connect_timeout: Option<u64>) -> i32 {
    let Some(meta_then) = meta_bytes(dir) else {
        return 255;
    };
    let Ok(meta) = serde_json::from_slice::<Meta>(&meta_then) else {
        return 255;
    };
    let token = endpoint::new_token();
    if crate::paths::write_private(&dir.join(endpoint::TOKEN), token.as_bytes(), 0o600).is_err() {
        return 255;
    }
    let Ok(mut listener) = Listener::bind(dir) else {
        let _ = std::fs::remove_file(dir.join(endpoint::TOKEN));
        return 255;
    };
    let state = serde_json::json!({
        "pid": std::process::id(),
        "endpoint": listener.address(),
        "protection": listener.protection(),
    });
    let _ = crate::paths::write_private(
        &dir.join(endpoint::STATE),
        state.to_string().as_bytes(),
        0o600,
    );
    let shared = Arc::new(Shared {
        dir: dir.to_path_buf(),
        connect_timeout,
        link: watch::Sender::new(Link::Connecting),
        active: AtomicUsize::new(0),
        last_used: Mutex::new(Instant::now()),
        exit: AtomicBool::new(false),
        wake: Notify::new(),
        token,
    });
    tokio::spawn(link_up(Arc::clone(&shared)));
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            client = listener.accept() => {
                if let Ok(client) = client {
                    // Counted from here, not from its request: a holder
                    // whose connection failed at once still answers a
                    // client that was proving itself meanwhile.
                    shared.active.fetch_add(1, Ordering::SeqCst);
                    let shared = Arc::clone(&shared);
                    tokio::spawn(async move {
                        serve(client, &shared).await;
                        if let Ok(mut t) = shared.last_used.lock() {
                            *t = Instant::now();
                        }
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            }
            _ = tick.tick() => {}
            () = shared.wake.notified() => {}
        }
        if should_end(&shared, &meta, &meta_then) {
            break;
        }
    }
    // No new client; the ones being answered (a failure to connect) get
    // their answer first.
    listener.close();
    forget(dir, &shared.token);
    if matches!(*shared.link.borrow(), Link::Failed(_)) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while shared.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let up = match &*shared.link.borrow() {
        Link::Up(handle) => Some(Arc::clone(handle)),
        _ => None,
    };
    if let Some(handle) = up {
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "")
            .await;
    }
    0
}

/// Whether the holder's time is over; replaces a link that died.
fn should_end(shared: &Arc<Shared>, meta: &Meta, meta_then: &[u8]) -> bool {
    if shared.exit.load(Ordering::SeqCst) {
        return true;
    }
    if meta_bytes(&shared.dir).as_deref() != Some(meta_then) {
        return true;
    }
    // Another holder's token: the session directory was replaced under
    // this one (removed, then a session made again at once, its meta.json
    // alike to the byte), and a new holder serves it.
    if std::fs::read_to_string(shared.dir.join(endpoint::TOKEN))
        .map_or(true, |t| t.trim() != shared.token)
    {
        return true;
    }
    let seconds_left = meta.expires_epoch - crate::session::now();
    if seconds_left <= 0 {
        return true;
    }
    let link = shared.link.borrow().clone();
    match link {
        Link::Failed(_) => return true,
        Link::Up(handle) if handle.is_closed() => {
            shared.link.send_replace(Link::Connecting);
            tokio::spawn(link_up(Arc::clone(shared)));
        }
        _ => {}
    }
    let idle = shared
        .last_used
        .lock()
        .map(|t| t.elapsed())
        .unwrap_or_default();
    shared.active.load(Ordering::SeqCst) == 0
        && idle >= Duration::from_secs(sshconfig::persist_secs(seconds_left))
}

/// Connects and says how it went.
async fn link_up(shared: Arc<Shared>) {
    let mut said = Said::kept();
    let link = match connect(&shared.dir, shared.connect_timeout, &mut said).await {
        Some(handle) => Link::Up(Arc::new(handle)),
        None => Link::Failed(said.kept.take().unwrap_or_default().join("\n")),
    };
    shared.link.send_replace(link);
    shared.wake.notify_one();
}

/// The link to run on: waits while it connects or is being replaced.
async fn usable(shared: &Shared) -> Link {
    let mut rx = shared.link.subscribe();
    loop {
        let link = rx.borrow_and_update().clone();
        match &link {
            Link::Connecting => {}
            Link::Up(handle) if handle.is_closed() => {}
            _ => return link,
        }
        shared.wake.notify_one();
        if tokio::time::timeout(Duration::from_secs(1), rx.changed())
            .await
            .is_ok_and(|r| r.is_err())
        {
            return rx.borrow().clone();
        }
    }
}

/// How long a client has to prove itself and send its request (it does
/// both at once): one that stalls is dropped, and does not keep the holder
/// from its idle end.
const ASK_WAIT: Duration = Duration::from_secs(10);

async fn serve(mut client: Stream, shared: &Shared) {
    let asked = tokio::time::timeout(ASK_WAIT, async {
        if !matches!(
            endpoint::prove_holder(&mut client, &shared.token).await,
            Ok(true)
        ) {
            return None;
        }
        match endpoint::receive(&mut client).await {
            Ok(Some((kind::REQUEST, body))) => Some(body),
            _ => None,
        }
    });
    let Ok(Some(body)) = asked.await else {
        return;
    };
    let Ok(ask) = serde_json::from_slice::<Ask>(&body) else {
        return;
    };
    match (ask.op.as_str(), ask.line) {
        ("check", _) => {
            let up = matches!(usable(shared).await, Link::Up(_));
            let status: u32 = if up { 0 } else { 255 };
            let _ = endpoint::send(&mut client, kind::STATUS, &status.to_be_bytes()).await;
        }
        ("exit", _) => {
            shared.exit.store(true, Ordering::SeqCst);
            shared.wake.notify_one();
            let _ = endpoint::send(&mut client, kind::STATUS, &0u32.to_be_bytes()).await;
        }
        ("exec", Some(line)) => match usable(shared).await {
            Link::Up(handle) => run(client, &handle, &line).await,
            Link::Failed(words) => {
                let _ = endpoint::send(&mut client, kind::FAILED, words.as_bytes()).await;
            }
            Link::Connecting => {}
        },
        _ => {}
    }
}

/// `f`'s output if it has one without waiting (polled once); a receive
/// from the channel's queue loses nothing when it is not ready.
fn ready_now<T>(f: impl std::future::Future<Output = T>) -> Option<T> {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

/// Runs `line` on a channel of its own, relaying the client's frames.
async fn run(client: Stream, handle: &Handle<Client>, line: &str) {
    let (from_client, mut to_client) = tokio::io::split(client);
    let channel = match handle.channel_open_session().await {
        Ok(c) => c,
        Err(e) => {
            let words = format!("channel 0: open failed: session request failed ({e})");
            let _ = endpoint::send(&mut to_client, kind::FAILED, words.as_bytes()).await;
            return;
        }
    };
    if let Err(e) = channel.exec(true, line).await {
        let words = format!("session request failed ({e})");
        let _ = endpoint::send(&mut to_client, kind::FAILED, words.as_bytes()).await;
        return;
    }
    let (mut read, write) = channel.split();
    let write = Arc::new(write);
    let (gone_tx, mut gone) = tokio::sync::oneshot::channel::<()>();
    let stdin_write = Arc::clone(&write);
    // The client's stdin, then its end; a client that goes away (Ctrl-C
    // ended it) closes the channel, as a master does for a client that died.
    let stdin = tokio::spawn(async move {
        let mut from_client =
            tokio::io::BufReader::with_capacity(endpoint::READ_BUFFER, from_client);
        let mut writer = stdin_write.make_writer();
        let mut open = true;
        loop {
            match endpoint::receive(&mut from_client).await {
                Ok(Some((kind::STDIN, data))) if open => {
                    open = writer.write_all(&data).await.is_ok();
                }
                Ok(Some((kind::STDIN_END, _))) if open => {
                    let _ = writer.shutdown().await;
                    open = false;
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => {
                    let _ = gone_tx.send(());
                    return;
                }
            }
        }
    });
    let mut status = None;
    let mut left = false;
    // A message taken while gathering a batch, handled next.
    let mut next: Option<Option<ChannelMsg>> = None;
    loop {
        let msg = match next.take() {
            Some(msg) => msg,
            None => tokio::select! {
                msg = read.wait() => msg,
                _ = &mut gone => {
                    left = true;
                    break;
                }
            },
        };
        match msg {
            Some(ChannelMsg::Data { data }) => {
                // What the channel already holds of stdout goes in the same
                // frame: one write and one wake-up for many packets.
                let mut batch = data.to_vec();
                while batch.len() < endpoint::BATCH {
                    match ready_now(read.wait()) {
                        Some(Some(ChannelMsg::Data { data })) => batch.extend_from_slice(&data),
                        Some(other) => {
                            next = Some(other);
                            break;
                        }
                        None => break,
                    }
                }
                if endpoint::send(&mut to_client, kind::STDOUT, &batch)
                    .await
                    .is_err()
                {
                    left = true;
                    break;
                }
            }
            Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                if endpoint::send(&mut to_client, kind::STDERR, &data)
                    .await
                    .is_err()
                {
                    left = true;
                    break;
                }
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    stdin.abort();
    if left {
        let _ = write.close().await;
        return;
    }
    let _ = match status {
        Some(code) => endpoint::send(&mut to_client, kind::STATUS, &code.to_be_bytes()).await,
        None => {
            let words = "Connection to the workspace closed by remote host.";
            endpoint::send(&mut to_client, kind::FAILED, words.as_bytes()).await
        }
    };
}
