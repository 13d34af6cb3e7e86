//! The builtin transport: runcode's own SSH client (russh), standing in for
//! the OpenSSH client where there is none, or where it cannot multiplex
//! (Windows). It runs as `runcode ssh-builtin`, a hidden command that
//! behaves as `ssh -F <session config> <alias> <line>` does for runcode: the
//! remote command's stdin, stdout and stderr pass through, its exit status
//! is the process's own, and 255 means the transport failed, with ssh's own
//! words for the reason in the log (`-E`), so every rule built on the
//! OpenSSH client (a retry before the start, resume after a drop) holds
//! unchanged. `RUNCODE_TRANSPORT` chooses it (docs/sessions.md, "Two
//! transports").
//!
//! The same contract as the OpenSSH path: the host key pinned exactly from
//! the session's `known_hosts`, or a host certificate under
//! `@cert-authority` for exactly that host (`known`); the session's key or
//! certificate; keepalives after 5 s of silence, a link dead when two go
//! unanswered (within 15 s); every channel the server opens refused,
//! whatever its type; modern algorithms only (`preferred`: ML-KEM/X25519,
//! X25519 and NIST ECDH key exchange, authenticated ciphers, ed25519,
//! ECDSA and SHA-2 RSA host keys), a server that offers none of them
//! refused as OpenSSH words it.

mod endpoint;
mod forwards;
mod held;
mod join;
mod known;

pub use endpoint::{STATE as HELD_STATE, user_only as endpoint_user_only};
pub use forwards::{keep as keep_forwards, report as forwards_report};
pub use held::hold;
pub use join::{control, start as start_held};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle, Msg, Session as RusshSession};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{Channel, ChannelMsg, ChannelOpenFailure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::remote::sshconfig;
use crate::session::{CERTIFICATE, KEY, Meta};

/// What `ssh-builtin` is asked to do.
pub struct Request {
    /// The session's directory: its `meta.json`, key, certificate and
    /// `known_hosts`.
    pub session_dir: PathBuf,
    /// Where the transport's own words go (OpenSSH's `-E`).
    pub log: Option<PathBuf>,
    pub connect_timeout: Option<u64>,
    /// The remote command line; None is refused (a shell needs a terminal,
    /// which stays with the OpenSSH client).
    pub line: Option<String>,
}

/// Runs the request to its end: the remote command's status, or 255.
pub fn run(req: &Request) -> i32 {
    let mut said = Said::new(req.log.as_deref());
    let Some(line) = req.line.as_deref() else {
        said.line("runcode ssh-builtin: a remote command is needed (a terminal session uses ssh)");
        return 255;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            said.line(&format!("runcode ssh-builtin: {e}"));
            return 255;
        }
    };
    let code = runtime.block_on(async {
        let dir = &req.session_dir;
        if let Some(code) = join::exec(dir, line, req.connect_timeout, &mut said).await {
            return code;
        }
        match connect(&req.session_dir, req.connect_timeout, &mut said).await {
            Some(handle) => exec(&handle, line, &mut said).await,
            None => 255,
        }
    });
    // stdin may still be read by a task: do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(50));
    code
}

/// The transport's own words, in OpenSSH's where runcode reads them
/// (`remote::failed_before_start`).
struct Said {
    log: Option<std::fs::File>,
    /// The holder keeps its words to hand to the clients that wait on it.
    kept: Option<Vec<String>>,
}

impl Said {
    fn kept() -> Said {
        Said {
            log: None,
            kept: Some(Vec::new()),
        }
    }

    fn new(path: Option<&Path>) -> Said {
        let log = path.and_then(|p| {
            let mut o = std::fs::OpenOptions::new();
            o.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            o.open(p).ok()
        });
        Said { log, kept: None }
    }

    fn line(&mut self, text: &str) {
        if let Some(kept) = &mut self.kept {
            kept.push(text.to_owned());
            return;
        }
        match &mut self.log {
            Some(f) => {
                let _ = writeln!(f, "{text}");
            }
            None => {
                let _ = writeln!(std::io::stderr(), "{text}");
            }
        }
    }
}

/// The client's side of the connection: the host key check and the
/// refusal of every channel the server would open.
struct Client {
    pins: known::Pins,
    host: String,
    /// Why the host key was refused, for the log.
    refused: Arc<std::sync::Mutex<Option<String>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let verdict = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                if self.pins.accepts_key(key) {
                    Ok(())
                } else {
                    Err("the host key is not the one pinned for this session".to_owned())
                }
            }
            PublicKeyOrCertificate::Certificate(cert) => {
                self.pins.accepts_certificate(cert, &self.host)
            }
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(why) => {
                if let Ok(mut r) = self.refused.lock() {
                    *r = Some(why);
                }
                Ok(false)
            }
        }
    }

    async fn server_channel_open_agent_forward(
        &mut self,
        _: Channel<Msg>,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_x11(
        &mut self,
        _: Channel<Msg>,
        _: &str,
        _: u32,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_forwarded_tcpip(
        &mut self,
        _: Channel<Msg>,
        _: &str,
        _: u32,
        _: &str,
        _: u32,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_forwarded_streamlocal(
        &mut self,
        _: Channel<Msg>,
        _: &str,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_direct_streamlocal(
        &mut self,
        _: Channel<Msg>,
        _: &str,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_session(
        &mut self,
        _: Channel<Msg>,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }

    async fn server_channel_open_direct_tcpip(
        &mut self,
        _: Channel<Msg>,
        _: &str,
        _: u32,
        _: &str,
        _: u32,
        reply: client::ChannelOpenHandle,
        _: &mut RusshSession,
    ) -> Result<(), Self::Error> {
        refuse(reply).await
    }
}

/// The answer to every channel the server opens toward the client: none
/// was asked for.
async fn refuse(reply: client::ChannelOpenHandle) -> Result<(), russh::Error> {
    reply
        .reject(ChannelOpenFailure::AdministrativelyProhibited)
        .await;
    Ok(())
}

/// The key exchanges offered, best first: the post-quantum hybrid
/// (ML-KEM with X25519), X25519, and ECDH on the NIST curves (what a
/// FIPS-mode server keeps). No finite-field Diffie-Hellman. The two
/// markers ask for extension negotiation and strict key exchange (the
/// Terrapin fix); russh never picks a marker as the algorithm.
const KEX: &[russh::kex::Name] = &[
    russh::kex::MLKEM768X25519_SHA256,
    russh::kex::CURVE25519,
    russh::kex::CURVE25519_PRE_RFC_8731,
    russh::kex::ECDH_SHA2_NISTP256,
    russh::kex::ECDH_SHA2_NISTP384,
    russh::kex::ECDH_SHA2_NISTP521,
    russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
    russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

/// Authenticated ciphers only: no CTR or CBC mode.
const CIPHERS: &[russh::cipher::Name] = &[
    russh::cipher::CHACHA20_POLY1305,
    russh::cipher::AES_256_GCM,
    russh::cipher::AES_128_GCM,
];

/// Listed so that a MAC is always agreed, though none is used: each cipher
/// above authenticates its own packets. Encrypt-then-MAC SHA-2 only.
const MACS: &[russh::mac::Name] = &[russh::mac::HMAC_SHA512_ETM, russh::mac::HMAC_SHA256_ETM];

/// The algorithms offered (docs/sessions.md lists them): the key exchanges,
/// ciphers and MACs above; ed25519, ECDSA and SHA-2 RSA host keys (no
/// SHA-1); with a pinned authority, host certificates of those types first,
/// as OpenSSH asks for them when `known_hosts` has `@cert-authority`.
fn preferred(certificates: bool) -> russh::Preferred {
    use russh::keys::{Algorithm, EcdsaCurve, HashAlg};
    const KEYS: &[Algorithm] = &[
        Algorithm::Ed25519,
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP256,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP384,
        },
        Algorithm::Ecdsa {
            curve: EcdsaCurve::NistP521,
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        Algorithm::Rsa {
            hash: Some(HashAlg::Sha256),
        },
    ];
    russh::Preferred {
        kex: std::borrow::Cow::Borrowed(KEX),
        key: std::borrow::Cow::Borrowed(KEYS),
        host_key_certificates: std::borrow::Cow::Borrowed(if certificates { KEYS } else { &[] }),
        cipher: std::borrow::Cow::Borrowed(CIPHERS),
        mac: std::borrow::Cow::Borrowed(MACS),
        ..russh::Preferred::DEFAULT
    }
}

/// What OpenSSH says when the server offers nothing this client accepts
/// (`remote::failed_before_start` knows the line), with the server's offer.
fn unable_to_negotiate(host: &str, port: u16, e: &russh::Error) -> Option<String> {
    let russh::Error::NoCommonAlgo { kind, theirs, .. } = e else {
        return None;
    };
    let what = match kind {
        russh::AlgorithmKind::Kex => "key exchange method",
        russh::AlgorithmKind::Key => "host key type",
        russh::AlgorithmKind::Cipher => "cipher",
        russh::AlgorithmKind::Mac => "MAC",
        russh::AlgorithmKind::Compression => "compression method",
    };
    // The server's list, without names longer than a name can be.
    let offer: Vec<&str> = theirs
        .iter()
        .map(String::as_str)
        .filter(|n| n.len() <= 64)
        .take(32)
        .collect();
    Some(format!(
        "Unable to negotiate with {host} port {port}: no matching {what} found. Their offer: {}",
        crate::text::one_line(&offer.join(","))
    ))
}

/// Connects and authenticates as the session says; None after saying why.
async fn connect(
    dir: &Path,
    connect_timeout: Option<u64>,
    said: &mut Said,
) -> Option<Handle<Client>> {
    let meta: Meta = match std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(m) => m,
        None => {
            said.line("runcode ssh-builtin: the session's meta.json cannot be read");
            return None;
        }
    };
    let known = std::fs::read_to_string(dir.join("known_hosts")).unwrap_or_default();
    let refused = Arc::new(std::sync::Mutex::new(None));
    let handler = Client {
        pins: known::Pins::read(&known, &meta.host, meta.port),
        host: meta.host.clone(),
        refused: Arc::clone(&refused),
    };
    let config = Arc::new(client::Config {
        // As the OpenSSH path's ServerAliveInterval and CountMax: a dead
        // link noticed within 15 s.
        keepalive_interval: Some(Duration::from_secs(u64::from(sshconfig::ALIVE_INTERVAL))),
        keepalive_max: sshconfig::ALIVE_COUNT as usize,
        preferred: preferred(handler.pins.has_authorities()),
        ..Default::default()
    });
    let timeout =
        Duration::from_secs(connect_timeout.unwrap_or(u64::from(sshconfig::CONNECT_TIMEOUT)));
    let (host, port) = (meta.host.as_str(), meta.port);
    let tcp =
        match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                said.line(&format!("ssh: connect to host {host} port {port}: {e}"));
                return None;
            }
            Err(_) => {
                said.line(&format!(
                    "ssh: connect to host {host} port {port}: Connection timed out"
                ));
                return None;
            }
        };
    let _ = tcp.set_nodelay(true);
    let handshake = client::connect_stream(config, tcp, handler);
    let mut handle = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            let why = refused.lock().ok().and_then(|r| r.clone());
            match (why, unable_to_negotiate(host, port, &e)) {
                (Some(why), _) => said.line(&format!("Host key verification failed. ({why})")),
                (None, Some(line)) => said.line(&line),
                (None, None) => {
                    said.line(&format!("Connection closed by {host} port {port} ({e})"));
                }
            }
            return None;
        }
        Err(_) => {
            said.line("Connection timed out during banner exchange");
            return None;
        }
    };
    let key = match russh::keys::load_secret_key(dir.join(KEY), None) {
        Ok(k) => Arc::new(k),
        Err(e) => {
            said.line(&format!(
                "runcode ssh-builtin: the session key cannot be read: {e}"
            ));
            return None;
        }
    };
    let cert_path = dir.join(CERTIFICATE);
    let auth = if cert_path.is_file() {
        match russh::keys::load_openssh_certificate(&cert_path) {
            Ok(cert) => {
                handle
                    .authenticate_openssh_cert(&meta.user, key, cert)
                    .await
            }
            Err(e) => {
                said.line(&format!(
                    "runcode ssh-builtin: the session certificate cannot be read: {e}"
                ));
                return None;
            }
        }
    } else {
        handle
            .authenticate_publickey(&meta.user, PrivateKeyWithHashAlg::new(key, None))
            .await
    };
    match auth {
        Ok(result) if result.success() => Some(handle),
        Ok(_) => {
            said.line(&format!(
                "{}@{host}: Permission denied (publickey).",
                meta.user
            ));
            None
        }
        Err(e) => {
            said.line(&format!("Connection closed by {host} port {port} ({e})"));
            None
        }
    }
}

/// Writes `data` to `to` at once; false when `to` is gone.
async fn passed(to: &mut (impl tokio::io::AsyncWrite + Unpin), data: &[u8]) -> bool {
    to.write_all(data).await.is_ok() && to.flush().await.is_ok()
}

/// Runs `line` on a session channel with this process's streams: the
/// command's status, 255 when there is none (the link dropped, or a signal
/// ended the command, as OpenSSH reports both).
async fn exec(handle: &Handle<Client>, line: &str, said: &mut Said) -> i32 {
    let mut channel = match handle.channel_open_session().await {
        Ok(c) => c,
        Err(e) => {
            said.line(&format!(
                "channel 0: open failed: session request failed ({e})"
            ));
            return 255;
        }
    };
    if let Err(e) = channel.exec(true, line).await {
        said.line(&format!("session request failed ({e})"));
        return 255;
    }
    // stdin, on a task of its own: its end is the channel's EOF.
    let writer = channel.make_writer();
    tokio::spawn(async move {
        let mut writer = writer;
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if writer.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = writer.shutdown().await;
    });
    let (mut out, mut err) = (tokio::io::stdout(), tokio::io::stderr());
    let mut status = None;
    let mut out_open = true;
    while let Some(msg) = channel.wait().await {
        match msg {
            // A reader that went away gets nothing more: the rest is dropped
            // until the command ends (the CLI ends it, as with OpenSSH).
            ChannelMsg::Data { data } if out_open => out_open = passed(&mut out, &data).await,
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                let _ = err.write_all(&data).await;
                let _ = err.flush().await;
            }
            ChannelMsg::ExitStatus { exit_status } => {
                status = Some(i32::try_from(exit_status).unwrap_or(255));
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    match status {
        Some(code) => code,
        None => {
            said.line(&format!(
                "Connection to {} closed by remote host.",
                "the workspace"
            ));
            255
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offer_holds_nothing_old() {
        let p = preferred(true);
        let names = |l: Vec<&str>| l.join(",");
        let kex = names(p.kex.iter().map(AsRef::as_ref).collect());
        let ciphers = names(p.cipher.iter().map(AsRef::as_ref).collect());
        let macs = names(p.mac.iter().map(AsRef::as_ref).collect());
        assert!(!kex.contains("diffie-hellman"), "{kex}");
        assert!(kex.starts_with("mlkem768x25519-sha256,curve25519-sha256,"));
        assert!(kex.contains("kex-strict-c-v00@openssh.com"), "{kex}");
        assert!(
            !ciphers.contains("-ctr") && !ciphers.contains("-cbc"),
            "{ciphers}"
        );
        assert!(
            macs.split(',').all(|m| m.ends_with("-etm@openssh.com")),
            "{macs}"
        );
        assert!(p.key.iter().all(|k| !matches!(
            k,
            russh::keys::Algorithm::Rsa { hash: None } | russh::keys::Algorithm::Dsa
        )));
    }

    #[test]
    fn a_failed_negotiation_reads_as_openssh_says_it_and_shows_no_escape() {
        let e = russh::Error::NoCommonAlgo {
            kind: russh::AlgorithmKind::Cipher,
            ours: vec![],
            theirs: vec![
                "aes128-ctr".into(),
                "x\u{1b}]0;owned\u{7}y".into(),
                "z".repeat(65),
            ],
        };
        assert_eq!(
            unable_to_negotiate("127.0.0.1", 2222, &e).unwrap(),
            "Unable to negotiate with 127.0.0.1 port 2222: no matching cipher found. \
             Their offer: aes128-ctr,x ]0;owned y"
        );
        assert_eq!(unable_to_negotiate("h", 1, &russh::Error::Disconnect), None);
    }
}
